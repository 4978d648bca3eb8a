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

from storewatch.ingest.engine import IngestReport, ingest as run_ingest
from storewatch.store import db
from storewatch.store.summary import store_summary
from storewatch.workspace import Workspace

app = typer.Typer(help="Security analytics and response for retailers.", no_args_is_help=True, add_completion=False)
console = Console()
err = Console(stderr=True)

HomeOption = typer.Option(None, "--home", help="Workspace folder (default ./.storewatch or $STOREWATCH_HOME).")


def _json_out(data) -> None:
    sys.stdout.write(orjson.dumps(data, option=orjson.OPT_INDENT_2 | orjson.OPT_NON_STR_KEYS, default=str).decode() + "\n")


@app.command()
def ingest(
    paths: list[Path] = typer.Argument(..., help="Files or folders (recursive; .gz/.bz2/.xz read as they are)."),
    home: Optional[Path] = HomeOption,
    json: bool = typer.Option(False, "--json", help="Print the report as one JSON object."),
    tz: str = typer.Option("UTC", "--tz", help="Time zone of timestamps that carry none (syslog, naive ISO)."),
) -> None:
    """Read logs as the systems wrote them into the normalized store; report every record's fate."""
    ws = Workspace.at(home)
    missing = [p for p in paths if not p.exists()]
    for p in missing:
        err.print(f"[yellow]not found:[/] {p}")
    report = _ingest_with_progress([p for p in paths if p.exists()], ws, tz, quiet=json)
    if json:
        _json_out(report.as_dict())
    else:
        _print_report(report)
    if report.totals["read"] == 0:
        err.print("[red]Nothing could be read.[/]")
        raise typer.Exit(1)


def _ingest_with_progress(paths: list[Path], ws: Workspace, tz: str, quiet: bool) -> IngestReport:
    with Progress(TextColumn("[bold]{task.description}"), BarColumn(), DownloadColumn(), TimeRemainingColumn(),
                  console=err, disable=quiet, transient=True) as bar:
        tasks: dict[str, int] = {}

        def progress(name: str, done: int, total: int) -> None:
            if name not in tasks:
                tasks[name] = bar.add_task(Path(name).name[:40], total=max(total, 1))
            bar.update(tasks[name], completed=done)

        return run_ingest(paths, ws, tz=tz, progress=progress)


def _print_report(report: IngestReport) -> None:
    table = Table(title=f"Ingest run {report.run_id}", show_footer=True)
    t = report.totals
    table.add_column("source", footer="total")
    table.add_column("format")
    for key in ("read", "stored", "quarantined", "duplicates"):
        table.add_column(key, justify="right", footer=f"{t[key]:,}")
    table.add_column("notes", overflow="fold")
    root = _common_root([f.source_file for f in report.files])
    if root:
        table.caption = f"sources under {root}"
    for f in report.files:
        notes = "; ".join(f.notes + ([f"{f.pans_scrubbed} card numbers tokenized"] if f.pans_scrubbed else []))
        style = "red" if f.read and f.quarantined == f.read else None
        shown = os.path.relpath(f.source_file, root) if root else f.source_file
        table.add_row(shown, f.source_format, f"{f.read:,}", f"{f.stored:,}", f"{f.quarantined:,}",
                      f"{f.duplicates:,}", notes, style=style)
    console.print(table)
    if t["quarantined"]:
        console.print(f"[yellow]{t['quarantined']:,} records quarantined[/]: see `storewatch quarantine`.")


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
def quarantine(home: Optional[Path] = HomeOption, limit: int = typer.Option(20, help="Rows to show."),
               json: bool = typer.Option(False, "--json")) -> None:
    """Show quarantined records: file, line, reason and the raw text (card numbers already tokenized)."""
    with db.opened(Workspace.at(home)) as con:
        rows = con.execute("SELECT source_file, source_line, reason, left(raw, 200) FROM quarantine "
                           "ORDER BY run_id DESC, source_file, source_line LIMIT ?", [limit]).fetchall()
    if json:
        _json_out([dict(zip(("source_file", "source_line", "reason", "raw"), r)) for r in rows])
        return
    table = Table(title="Quarantine")
    for col in ("file", "line", "reason", "raw"):
        table.add_column(col, overflow="fold")
    for f, line, reason, raw in rows:
        table.add_row(_short(f), str(line), reason, raw)
    console.print(table)


@app.command()
def status(home: Optional[Path] = HomeOption, json: bool = typer.Option(False, "--json")) -> None:
    """What the store holds: events per source and class, entities, intel, quarantine."""
    with db.opened(Workspace.at(home)) as con:
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
        table.add_row(r["channel"], r["source_format"], r["class_name"], f"{r['events']:,}",
                      f"{r['first']:%Y-%m-%d %H:%M}", f"{r['last']:%Y-%m-%d %H:%M}")
    console.print(table)
    ents = ", ".join(f"{k}: {v:,}" for k, v in summary["entities"].items())
    console.print(f"[bold]Distinct entities[/] {ents}")
    if summary["intel"]:
        console.print("[bold]Threat intel[/] " + ", ".join(f"{k}: {v:,}" for k, v in summary["intel"].items()))


@app.command()
def simulate(
    out: Path = typer.Option(..., "--out", help="Folder to write the synthetic estate into."),
    days: int = typer.Option(2, "--days", min=1, help="Days of activity."),
    scale: float = typer.Option(1.0, "--scale", min=0.01, help="Volume multiplier (1 = ~200 MB for 2 days)."),
    seed: int = typer.Option(0, "--seed", help="Random seed: actors, rates, times and addresses vary with it."),
) -> None:
    """Write a synthetic retail estate with labelled attacks and benign look-alikes."""
    summary = _simulate_with_progress(out, days, scale, seed)
    console.print(f"Wrote {sum(summary['files'].values()):,} records in {len(summary['files'])} files "
                  f"({summary['bytes'] / 1e6:,.1f} MB) and {summary['labels']} labelled attacks to {out}")


def _simulate_with_progress(out: Path, days: int, scale: float, seed: int) -> dict:
    from storewatch.simulate import simulate as run_simulate

    with Progress(TextColumn("[bold]simulate {task.description}"), BarColumn(), console=err, transient=True) as bar:
        task = bar.add_task("", total=1.0)
        return run_simulate(out, days=days, scale=scale, seed=seed,
                            progress=lambda stage, frac: bar.update(task, completed=frac, description=stage))


@app.command()
def demo(
    home: Optional[Path] = HomeOption,
    scale: float = typer.Option(0.05, "--scale", help="Size of the demo estate."),
    days: int = typer.Option(1, "--days"),
    seed: int = typer.Option(7, "--seed"),
) -> None:
    """Simulate a small estate, ingest it and show what the store holds, offline."""
    started = time.monotonic()
    ws = Workspace.at(home or Path(tempfile.mkdtemp(prefix="storewatch-demo-")))
    data = ws.home / "demo-estate"
    console.rule("[bold]1. Simulating a retail estate")
    summary = _simulate_with_progress(data, days, scale, seed)
    console.print(f"{sum(summary['files'].values()):,} records in {len(summary['files'])} files, {summary['labels']} labelled attacks")
    console.rule("[bold]2. Ingesting")
    report = _ingest_with_progress([data], ws, "UTC", quiet=False)
    _print_report(report)
    console.rule("[bold]3. What the store holds")
    with db.opened(ws) as con:
        _print_summary(store_summary(con))
    console.print(f"\nWorkspace: {ws.home}  ({time.monotonic() - started:.0f} s)")
    console.print(f"Explore it: storewatch status --home {ws.home}")


if __name__ == "__main__":
    app()
