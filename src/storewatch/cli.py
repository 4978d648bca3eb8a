"""The storewatch command line: thin wrappers that parse options, call a stage and render with Rich."""

from __future__ import annotations

import os
import sys
import tempfile
import time
from pathlib import Path
from typing import Optional

import orjson
import typer
from rich.console import Console
from rich.progress import BarColumn, DownloadColumn, Progress, TextColumn, TimeRemainingColumn
from rich.table import Table

from storewatch.helptext import RootGroup, show_version
from storewatch.ingest.engine import IngestReport, ingest as run_ingest
from storewatch.store import db, reader
from storewatch.store.summary import store_summary
from storewatch.terminal import shown
from storewatch.workspace import KeyFileError, Workspace, WorkspaceMissing

app = typer.Typer(help="Security analytics and response for retailers.", no_args_is_help=True, add_completion=False,
                  cls=RootGroup)
# emoji=False: ':x:' in a log is text, not an emoji. Values from logs go through `shown` (see terminal.py).
console = Console(emoji=False)
err = Console(stderr=True, emoji=False)

HomeOption = typer.Option(None, "--home", help="Workspace folder (default ./.storewatch or $STOREWATCH_HOME).")
# A folder named but missing is an error (exit 2, naming it), never silently no rules.
RulesOption = typer.Option(None, "--rules", exists=True, file_okay=False, help="Extra folder of Sigma or SQL rules (.yml).")


@app.callback()
def _root(version: bool = typer.Option(False, "--version", is_eager=True, callback=show_version,
                                       help="Print the version and exit.")) -> None:
    """Security analytics and response for retailers."""


def existing_workspace(home: Optional[Path]) -> Workspace:
    """The workspace a reading command needs, or exit 2 saying where it looked and how to create one."""
    try:
        return Workspace.existing(home)
    except WorkspaceMissing as exc:
        err.print(f"[red]{shown(str(exc))}[/]")
        raise typer.Exit(2) from None


def _json_out(data) -> None:
    sys.stdout.write(orjson.dumps(data, option=orjson.OPT_INDENT_2 | orjson.OPT_NON_STR_KEYS, default=str).decode() + "\n")


def _verdict(problems: list[str], as_json: dict | None, broken: str, intact: str) -> None:
    """End a verifying command: the JSON document or the problems (`broken` heads them) or `intact`; exit 1 on problems."""
    if as_json is not None:
        _json_out(as_json)
    elif problems:
        err.print(f"[red bold]{broken}[/]: {len(problems)} problem(s)")
        for p in problems:
            err.print(f"  [red]✗[/] {shown(p)}")
    else:
        console.print(f"[green]✓[/] {intact}")
    if problems:
        raise typer.Exit(1)


@app.command()
def ingest(
    paths: list[Path] = typer.Argument(..., exists=True, help="Files or folders (recursive; .gz/.bz2/.xz read as they are)."),
    home: Optional[Path] = HomeOption,
    json: bool = typer.Option(False, "--json", help="Print the report as one JSON object."),
    tz: str = typer.Option("UTC", "--tz", help="Time zone of timestamps that carry none (syslog, naive ISO)."),
) -> None:
    """Read logs as the systems wrote them into the normalized store; report every record's fate."""
    _ingest_and_report(paths, Workspace.at(home), tz, json)


def _ingest_and_report(paths: list[Path], ws: Workspace, tz: str, json: bool) -> None:
    """Ingest the paths (checked to exist by the options), print the report; exit 1 when nothing could be read."""
    report = _ingest_with_progress(paths, ws, tz, quiet=json)
    if json:
        _json_out(report.as_dict())
    else:
        _print_report(report, ws)
    if report.totals["read"] == 0:
        err.print("[red]Nothing could be read.[/]")
        raise typer.Exit(1)


def _ingest_with_progress(paths: list[Path], ws: Workspace, tz: str, quiet: bool) -> IngestReport:
    with Progress(TextColumn("[bold]{task.description}"), BarColumn(), DownloadColumn(), TimeRemainingColumn(),
                  console=err, disable=quiet, transient=True) as bar:
        task = bar.add_task("ingest", total=None)

        def progress(name: str, done: int, total: int) -> None:  # one bar for the run, named for the file
            bar.update(task, completed=done, total=total, description=shown(Path(name).name[:40]))

        return run_ingest(paths, ws, tz=tz, progress=progress)


def home_flag(ws: Workspace) -> str:
    """` --home <folder>` when a command run without one would not find `ws`, so a printed hint works as is."""
    return "" if Workspace.default_home() == ws.home else f" --home {ws.home}"


def _print_report(report: IngestReport, ws: Workspace) -> None:
    table = Table(title=f"Ingest run {report.run_id}", show_footer=True)
    t = report.totals
    table.add_column("source", footer="total")
    table.add_column("format")
    for key in ("read", "stored", "quarantined", "duplicates"):
        table.add_column(key, justify="right", footer=f"{t[key]:,}")
    table.add_column("notes", overflow="fold")
    root = _common_root([f.source_file for f in report.files])
    if root:
        table.caption = f"sources under {shown(root)}"
    for f in report.files:
        notes = "; ".join(f.notes + ([f"{f.pans_scrubbed} card numbers tokenized"] if f.pans_scrubbed else []))
        style = "red" if f.read and f.quarantined == f.read else None
        name = os.path.relpath(f.source_file, root) if root else f.source_file
        table.add_row(shown(name), shown(f.source_format), f"{f.read:,}", f"{f.stored:,}", f"{f.quarantined:,}",
                      f"{f.duplicates:,}", shown(notes), style=style)
    console.print(table)
    if t["quarantined"]:
        console.print(f"[yellow]{t['quarantined']:,} records quarantined[/]: see `storewatch quarantine{shown(home_flag(ws))}`.")


def _common_root(paths: list[str]) -> str | None:
    """The folder all reported files share, so the table shows short relative names."""
    if len(paths) < 2:
        return str(Path(paths[0]).parent) if paths else None
    try:
        return os.path.commonpath(paths)
    except ValueError:
        return None


def _short(path: str) -> str:
    try:
        return str(Path(path).relative_to(Path.cwd()))
    except ValueError:
        return path


@app.command()
def status(home: Optional[Path] = HomeOption, json: bool = typer.Option(False, "--json")) -> None:
    """What the store holds: events per source and class, entities, intel, quarantine."""
    with reader.opened(existing_workspace(home)) as con:
        summary = store_summary(con)
    if json:
        _json_out(summary)
        return
    _print_summary(summary)


def _print_summary(summary: dict) -> None:
    table = Table(title="Events in the store")
    for col in ("channel", "format", "class", "events", "first (UTC)", "last (UTC)"):
        table.add_column(col, justify="right" if col == "events" else "left")
    for r in summary["by_source"]:
        table.add_row(shown(r["channel"]), shown(r["source_format"]), shown(r["class_name"]), f"{r['events']:,}",
                      f"{r['first']:%Y-%m-%d %H:%M}", f"{r['last']:%Y-%m-%d %H:%M}")
    console.print(table)
    ents = shown(", ".join(f"{k}: {v:,}" for k, v in summary["entities"].items()))
    console.print(f"[bold]Distinct entities[/] {ents}")
    if summary["intel"]:
        console.print("[bold]Threat intel[/] " + shown(", ".join(f"{k}: {v:,}" for k, v in summary["intel"].items())))


@app.command()
def simulate(
    out: Path = typer.Option(..., "--out", help="Folder to write the synthetic estate into."),
    days: int = typer.Option(2, "--days", min=1, help="Days of activity."),
    scale: float = typer.Option(1.0, "--scale", min=0.01, help="Volume multiplier (1 = ~200 MB for 2 days)."),
    seed: int = typer.Option(0, "--seed", help="Random seed: actors, rates, times and addresses vary with it."),
    style: str = typer.Option("classic", "--style", help="Shapes to write: classic, or shipped (other servers' and shippers' shapes)."),
    profile: str = typer.Option("classic", "--profile", help="Business habits: classic, or varied (time zone, hours, rates, sessions, baskets, staff drawn from the seed)."),
    stores: int = typer.Option(None, "--stores", min=1, max=250, help="Number of stores (default: 40 per unit of scale, at least 3); 1-2 make a small business."),
    noise: list[str] = typer.Option([], "--noise", help="Benign look-alikes only an exception can silence (campaign_export); off by default."),
) -> None:
    """Write a synthetic retail estate with labelled attacks and benign look-alikes."""
    from storewatch.simulate.profiles import PROFILES
    from storewatch.simulate.styles import STYLES

    if style not in STYLES:
        raise typer.BadParameter(f"choose one of {', '.join(STYLES)}", param_hint="--style")
    if profile not in PROFILES:
        raise typer.BadParameter(f"choose one of {', '.join(PROFILES)}", param_hint="--profile")
    from storewatch.simulate.scenarios import NOISE

    if set(noise) - set(NOISE):
        raise typer.BadParameter(f"choose from {', '.join(NOISE)}", param_hint="--noise")
    summary = _simulate_with_progress(out, days, scale, seed, style, stores=stores, profile=profile, noise=tuple(noise))
    console.print(f"Wrote {sum(summary['files'].values()):,} records in {len(summary['files'])} files "
                  f"({summary['bytes'] / 1e6:,.1f} MB) and {summary['labels']} labelled attacks to {out}")


def _simulate_with_progress(out: Path, days: int, scale: float, seed: int, style: str = "classic",
                            stores: int | None = None, profile: str = "classic", noise: tuple[str, ...] = ()) -> dict:
    from storewatch.simulate import simulate as run_simulate

    with Progress(TextColumn("[bold]simulate {task.description}"), BarColumn(), console=err, transient=True) as bar:
        task = bar.add_task("", total=1.0)
        return run_simulate(out, days=days, scale=scale, seed=seed, style=style, stores=stores, profile=profile,
                            noise=noise, progress=lambda stage, frac: bar.update(task, completed=frac, description=stage))


SEVERITY_STYLE = {"critical": "bold red", "high": "red", "medium": "yellow", "low": "dim"}
SeverityOption = typer.Option(None, "--min-severity", help="Only incidents at least this severe: low, medium, high, critical.")


@app.command()
def detect(
    home: Optional[Path] = HomeOption,
    rules: Optional[Path] = RulesOption,
    json: bool = typer.Option(False, "--json", help="Print the run report as JSON."),
) -> None:
    """Run every detection over the store and correlate the alerts into incidents (safe to re-run)."""
    ws = existing_workspace(home)
    report = _detect_with_progress(ws, rules, quiet=json)
    if json:
        _json_out({**report.as_dict(), "notified": _notify(ws, quiet=True)})
        return
    _print_detect_report(report)
    _notify(ws, quiet=False)


def _notify(ws: Workspace, quiet: bool) -> list[dict]:
    """Send the notifications now due (storewatch.respond.notify); a broken respond.yml is said, not fatal."""
    from storewatch.respond.config import ConfigError
    from storewatch.respond.notify import dispatch

    try:
        sent = dispatch(ws)
    except ConfigError as exc:
        err.print(f"[yellow]notifications not sent[/]: {shown(str(exc))}")
        return []
    for s in [] if quiet else sent:
        if s["channels"]:
            console.print(f"Notified {shown(', '.join(s['channels']))}: {shown(s['kind'])} {shown(s['incident_id'])}")
        for channel, why in s["failed"].items():
            err.print(f"[yellow]{shown(channel)} notification failed[/]: {shown(why)}")
    return sent


def _detect_with_progress(ws: Workspace, rules: Optional[Path], quiet: bool):
    from storewatch.detect.engine import detect as run_detect

    with Progress(TextColumn("[bold]detect {task.description}"), BarColumn(), TextColumn("{task.completed}/{task.total}"),
                  console=err, disable=quiet, transient=True) as bar:
        task = bar.add_task("", total=None)
        return run_detect(ws, rules_dir=rules,
                          progress=lambda name, done, total: bar.update(task, completed=done, total=total,
                                                                        description=name[:40]))


def _print_detect_report(report) -> None:
    console.print(f"Ran {report.detections} detections in {report.seconds:.1f} s: {report.alerts:,} alerts "
                  f"({report.new_alerts:,} new), {report.incidents:,} incidents ({report.new_incidents:,} new).")
    for e in report.errors:
        err.print(f"[yellow]detection {shown(e['detection'])} skipped[/]: {shown(e['error'])}", highlight=False)


def _parse_since(since: Optional[str]):
    """An ISO 8601 time or a duration back from now (12h, 7d), read as searches read them."""
    from storewatch.hunt.parse import QueryError, moment

    if not since:
        return None
    try:
        return moment(since)
    except QueryError as exc:
        raise typer.BadParameter(str(exc), param_hint="--since") from None


def _check_severity(value: Optional[str]) -> Optional[str]:
    from storewatch.correlate.incidents import SEVERITY_RANK

    if value is not None and value.lower() not in SEVERITY_RANK:
        raise typer.BadParameter(f"{value!r}: use one of {', '.join(SEVERITY_RANK)}", param_hint="--min-severity")
    return value.lower() if value else None


@app.command()
def config(
    key: Optional[str] = typer.Argument(None, help="A setting, e.g. brand.domains; none lists them all."),
    values: Optional[list[str]] = typer.Argument(None, help="New values (several, or comma-separated)."),
    unset: bool = typer.Option(False, "--unset", help="Clear the setting."),
    home: Optional[Path] = HomeOption,
    json: bool = typer.Option(False, "--json"),
) -> None:
    """Show or change the workspace settings (settings.yml): the brand names and own domains detections use."""
    from storewatch.workspace import SETTINGS, SettingError

    ws = Workspace.at(home)
    try:
        if key is not None and (values or unset):
            ws.set_setting(key, [v for value in values or [] for v in value.split(",")] if not unset else [])
        elif key is not None and key not in SETTINGS:
            raise SettingError(f"unknown setting {key!r}: choose one of {', '.join(SETTINGS)}")
    except SettingError as exc:
        err.print(f"[red]{shown(str(exc))}[/]")
        raise typer.Exit(2)
    current = {k: v for k, v in ws.settings().items() if key is None or k == key}
    if json:
        _json_out(current)
        return
    for k, v in current.items():
        console.print(f"{k} = {shown(', '.join(v)) if v else '[dim](not set)[/]'}  [dim]# {shown(SETTINGS[k])}[/]")


@app.command()
def incidents(
    home: Optional[Path] = HomeOption,
    json: bool = typer.Option(False, "--json", help="Print a JSON array."),
    min_severity: Optional[str] = SeverityOption,
    since: Optional[str] = typer.Option(None, "--since", help="Only incidents active since this ISO 8601 time or for this long (12h, 7d)."),
    limit: Optional[int] = typer.Option(None, "--limit", min=1, help="Show at most this many."),
) -> None:
    """Incidents ranked by risk, highest first (by the triage model's score once one is promoted)."""
    from storewatch.correlate.queries import list_incidents
    from storewatch.learn import triage

    ws = existing_workspace(home)
    with reader.opened(ws) as con:
        rows = triage.attach(ws, con, list_incidents(con, _check_severity(min_severity), _parse_since(since)))[:limit]
    if json:
        _json_out(rows)
        return
    _print_incidents(rows)


# The incident table's columns, each with the terminal width it needs to be shown: a narrow terminal drops the
# row number, scenario and alert count, shortens the time, and gives every row one line (titles shortened with …).
_INCIDENT_COLUMNS = (("#", 120), ("id", 0), ("risk", 0), ("severity", 0), ("scenario", 120), ("title", 0),
                     ("first seen (UTC)", 0), ("alerts", 100), ("status", 0))
NARROW = 100


def _print_incidents(rows: list[dict]) -> None:
    from rich import box

    if not rows:
        console.print("No incidents. Run `storewatch detect` after ingesting.")
        return
    width = console.width
    narrow = width < NARROW
    columns = [name for name, needs in _INCIDENT_COLUMNS if width >= needs]
    table = Table(title=f"Incidents ({len(rows)}), highest risk first", box=None if narrow else box.HEAVY_HEAD,
                  pad_edge=not narrow)
    cells = []
    for n, r in enumerate(rows, 1):
        seen = r["first_seen"][5 if narrow else 0:16].replace("T", " ")
        values = {"#": str(n), "id": shown(r["id"]), "risk": str(r["risk_score"]), "severity": r["severity"],
                  "scenario": shown(r["scenario"]), "title": shown(r["title"]), "first seen (UTC)": seen,
                  "alerts": str(r["alerts"]),
                  "status": r["status"].replace("_", " ") + (f": {r['resolution'].replace('_', ' ')}" if r.get("resolution") and not narrow else "")}
        cells.append([values[c] for c in columns])
    fixed = {c: max(len(c if c != "first seen (UTC)" or not narrow else "first seen"), *(len(row[i]) for row in cells))
             for i, c in enumerate(columns) if c != "title"}
    # narrow: every other column whole, the title the width that is left (2 spaces between columns)
    title_width = max(12, width - sum(fixed.values()) - 2 * (len(columns) - 1)) if narrow else None
    for col in columns:
        if col == "title":
            table.add_column(col, overflow="ellipsis" if narrow else "fold", no_wrap=narrow, width=title_width,
                             max_width=None if narrow else 80)
        else:
            table.add_column("first seen" if narrow and col == "first seen (UTC)" else col, no_wrap=True,
                             justify="right" if col in ("#", "risk", "alerts") else "left", min_width=fixed[col])
    for r, row in zip(rows, cells):
        table.add_row(*row, style=SEVERITY_STYLE.get(r["severity"]))
    console.print(table)


@app.command()
def incident(
    incident_id: str = typer.Argument(..., help="Incident id (a unique prefix is enough)."),
    home: Optional[Path] = HomeOption,
    json: bool = typer.Option(False, "--json"),
) -> None:
    """One incident in full: summary, risk factors, entities, ATT&CK techniques, alerts and their evidence."""
    from storewatch.correlate.queries import get_incident

    with reader.opened(existing_workspace(home)) as con:
        found = get_incident(con, incident_id)
    if found is None:
        err.print(f"[red]No single incident matches {shown(incident_id)!r}.[/] See `storewatch incidents`.")
        raise typer.Exit(1)
    if json:
        _json_out(found)
        return
    _print_incident(found)


def _print_incident(inc: dict) -> None:
    from rich.panel import Panel
    from rich.text import Text

    from storewatch.correlate import attack

    style = SEVERITY_STYLE.get(inc["severity"], "")
    # A Panel parses a str title itself, emoji and all: give it Text parsed without emoji.
    title = Text.from_markup(f"[{style}]{shown(inc['id'])}  {shown(inc['title'])}[/]", emoji=False)
    console.print(Panel(shown(inc["summary"]), title=title,
                        subtitle=f"risk {inc['risk_score']} · {inc['severity']} · {inc['first_seen']} → {inc['last_seen']}"))
    factors = Table(title="Why this risk score")
    factors.add_column("factor")
    factors.add_column("points", justify="right")
    factors.add_column("why")
    for f in inc["factors"]:
        factors.add_row(shown(f["factor"]), f"+{f['points']}", shown(f["why"]))
    console.print(factors)
    if inc["attack"]:
        console.print("[bold]ATT&CK[/] " + shown(", ".join(attack.label(t) for t in inc["attack"])))
    ents: dict[str, list[str]] = {}
    for e in inc["entities"]:
        ents.setdefault(e["type"], []).append(e["value"])
    for etype, values in ents.items():
        console.print(f"[bold]{shown(etype)}[/] " + shown(", ".join(values[:20])) + (f" (+{len(values) - 20})" if len(values) > 20 else ""))
    alerts = Table(title="Alerts")
    for col in ("first seen", "detection", "severity", "events", "what"):
        alerts.add_column(col, overflow="fold")
    for a in inc["alert_details"]:
        alerts.add_row(a["first_seen"][:16].replace("T", " "), shown(a["rule_id"]), a["severity"], str(a["event_count"]),
                       shown(a["summary"] or a["title"]))
    console.print(alerts)


@app.command()
def run(
    paths: list[Path] = typer.Argument(..., exists=True, help="Files or folders to ingest."),
    home: Optional[Path] = HomeOption,
    tz: str = typer.Option("UTC", "--tz", help="Time zone of timestamps that carry none."),
    rules: Optional[Path] = RulesOption,
) -> None:
    """Ingest, detect and show the incident table: the whole pipeline in one command."""
    from storewatch.correlate.queries import list_incidents

    ws = Workspace.at(home)
    _ingest_and_report(paths, ws, tz, json=False)
    _print_detect_report(_detect_with_progress(ws, rules, quiet=False))
    _notify(ws, quiet=False)
    with reader.opened(ws) as con:
        _print_incidents(list_incidents(con))


@app.command()
def evaluate(
    labels: Path = typer.Option(..., "--labels", exists=True, dir_okay=False, help="labels.jsonl of injected attacks."),
    benign: Optional[Path] = typer.Option(None, "--benign", help="benign.jsonl of look-alikes (default: beside the labels)."),
    home: Optional[Path] = HomeOption,
    json: bool = typer.Option(False, "--json"),
) -> None:
    """Score the incidents against labelled attacks: recall, precision, false positives per day."""
    result = _evaluate(existing_workspace(home), labels, benign)
    if json:
        _json_out(result)
        return
    _print_evaluation(result)


def _evaluate(ws: Workspace, labels: Path, benign: Optional[Path]) -> dict:
    from datetime import datetime

    from storewatch.correlate.queries import list_incidents
    from storewatch.evaluate import LabelsError, data_days, evaluate as score, read_labels

    benign = benign or (labels.parent / "benign.jsonl")
    try:
        attacks = read_labels(labels)
        lookalikes = read_labels(benign) if benign.exists() else []
    except LabelsError as exc:
        err.print(f"[red]{shown(str(exc))}[/]")
        raise typer.Exit(2)
    with reader.opened(ws) as con:
        rows = list_incidents(con)
        daily = [n for (n,) in con.execute("SELECT count(*) FROM events GROUP BY time::DATE").fetchall()]
    for r in rows:
        r["first_seen"] = datetime.fromisoformat(r["first_seen"].replace("Z", "+00:00"))
        r["last_seen"] = datetime.fromisoformat(r["last_seen"].replace("Z", "+00:00"))
    return score(rows, attacks, data_days(daily), lookalikes)


def _print_evaluation(result: dict) -> None:
    table = Table(title="Detection against the labels")
    for col in ("scenario", "labels", "detected", "missed"):
        table.add_column(col, justify="left" if col in ("scenario", "missed") else "right")
    for name, s in result["per_scenario"].items():
        table.add_row(shown(name), str(s["labels"]), str(s["detected"]), shown(", ".join(s["missed"])),
                      style=None if s["detected"] == s["labels"] else "red")
    console.print(table)
    recall = "n/a" if result["recall"] is None else f"{result['recall']:.2f}"
    precision = "n/a" if result["precision"] is None else f"{result['precision']:.2f}"
    console.print(f"recall {recall} ({result['detected']}/{result['labels']}) · precision {precision} "
                  f"({result['true_positive_incidents']}/{result['incidents']} incidents) · "
                  f"{result['false_positives_per_day']} false-positive incidents/day over {result['days']} day(s) · "
                  f"critical attacks in the top {result['critical_top_k']}: {'yes' if result['critical_in_top'] else 'no'}")
    for fp in result["false_positives"][:10]:
        console.print(f"  [yellow]false positive[/] {shown(fp['id'])} {shown(fp['title'])}")
    for b in result["benign_alarms"]:
        console.print(f"  [red]alarm on benign look-alike[/] {shown(b['benign'])} ({shown(b['scenario'])}) by {shown(b['incident'])}")


@app.command()
def demo(
    home: Optional[Path] = HomeOption,
    scale: float = typer.Option(0.05, "--scale", help="Size of the demo estate."),
    days: int = typer.Option(2, "--days", help="Days of activity (two give the baselines a day to learn from)."),
    seed: int = typer.Option(7, "--seed"),
) -> None:
    """Simulate a small estate, ingest it, detect and rank incidents, score them against the labels and write a report, offline."""
    started = time.monotonic()
    ws = Workspace.at(home or Path(tempfile.mkdtemp(prefix="storewatch-demo-")))
    data = ws.home / "demo-estate"
    console.rule("[bold]1. Simulating a retail estate")
    summary = _simulate_with_progress(data, days, scale, seed)
    console.print(f"{sum(summary['files'].values()):,} records in {len(summary['files'])} files, {summary['labels']} labelled attacks")
    console.rule("[bold]2. Ingesting")
    # its data files only: the labels, look-alikes and README beside them are the answers, not logs
    report = _ingest_with_progress([data / name for name in summary["files"]], ws, "UTC", quiet=False)
    _print_report(report, ws)
    console.rule("[bold]3. What the store holds")
    with reader.opened(ws) as con:
        _print_summary(store_summary(con))
    console.rule("[bold]4. Detecting and correlating")
    _print_detect_report(_detect_with_progress(ws, None, quiet=False))
    from storewatch.correlate.queries import list_incidents

    with reader.opened(ws) as con:
        _print_incidents(list_incidents(con))
    console.rule("[bold]5. Scored against the simulator's labels")
    _print_evaluation(_evaluate(ws, data / "labels.jsonl", None))
    console.rule("[bold]6. Report and dashboard")
    from storewatch.report import write_report

    report_path = write_report(ws, ws.home / "report.html")
    console.print(f"Report: {report_path}")
    console.print(f"Dashboard: storewatch serve --home {ws.home}   then open http://127.0.0.1:8765/")
    console.print(f"\nWorkspace: {ws.home}  ({time.monotonic() - started:.0f} s)")
    console.print(f"Explore it: storewatch incidents --home {ws.home}; storewatch timeline ID --home {ws.home}; "
                  f"storewatch respond ID --home {ws.home}; storewatch search 'http_status:401 | top 5 src_ip' "
                  f"--home {ws.home}; storewatch quarantine --home {ws.home}")


from storewatch.commands import register_all  # noqa: E402  (commands reuse this module's console and options)

register_all(app)


def main() -> None:
    """The `storewatch` command: the Typer app, with the errors a user can act on said plainly."""
    try:
        app()
    except (db.StoreBusy, KeyFileError) as exc:
        err.print(f"[red]{shown(str(exc))}[/]")
        raise SystemExit(1) from None
    except Exception as exc:  # a bug, not the input's fault: said in one line (STOREWATCH_DEBUG=1 shows the traceback)
        if os.environ.get("STOREWATCH_DEBUG"):
            raise
        err.print(f"[red]storewatch failed: {shown(exc.__class__.__name__)}: {shown(str(exc))}[/] "
                  "(STOREWATCH_DEBUG=1 for the traceback)")
        raise SystemExit(2) from None


if __name__ == "__main__":
    main()
