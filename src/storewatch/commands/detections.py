"""`storewatch detections`: list every detection (source, enabled, last fired, alerts, scorecard, load
errors) and manage them: enable/disable a rule or a group, override thresholds, let a user rule replace a
shipped one. Every change is a line in `<workspace>/detections.yml` and an audit entry."""

from __future__ import annotations

from pathlib import Path
from typing import Optional

import typer


def register(app: typer.Typer) -> None:
    from storewatch.cli import HomeOption, RulesOption

    group = typer.Typer(help="The detections `detect` runs: list them with their scorecard, enable, disable, tune.",
                        invoke_without_command=True)
    app.add_typer(group, name="detections")

    @group.callback()
    def listing(
        ctx: typer.Context,
        home: Optional[Path] = HomeOption,
        rules: Optional[Path] = RulesOption,
        scorecard: bool = typer.Option(False, "--scorecard", help="Verdicts, precision and a keep/tune/retire suggestion."),
        days: int = typer.Option(30, "--days", min=1, help="Scorecard window, in days up to the newest alert."),
        json: bool = typer.Option(False, "--json"),
    ) -> None:
        """List the detections: shipped ones and your workspace's rules, with their state and load errors."""
        if ctx.invoked_subcommand is not None:
            ctx.obj = home
            return
        from storewatch.learn.overview import detections_overview
        from storewatch.workspace import Workspace

        view = detections_overview(Workspace.at(home), rules, days)
        if scorecard:  # the busiest first
            view["detections"].sort(key=lambda r: (-r["alerts"], r["id"]))
        if json:
            _print_json(view, scorecard)
        elif scorecard:
            _print_scorecard(view["detections"])
        else:
            _print_detections(view)

    @group.command()
    def disable(target: str = typer.Argument(..., help="A detection id, or with --group a scenario or kind."),
                is_group: bool = typer.Option(False, "--group", help="TARGET is a scenario or kind."),
                home: Optional[Path] = HomeOption) -> None:
        """Stop running a detection (or a whole group) from the next `detect` on."""
        _set_enabled(home, target, False, is_group)

    @group.command()
    def enable(target: str = typer.Argument(..., help="A detection id, or with --group a scenario or kind."),
               is_group: bool = typer.Option(False, "--group", help="TARGET is a scenario or kind."),
               home: Optional[Path] = HomeOption) -> None:
        """Run a disabled detection (or group) again."""
        _set_enabled(home, target, True, is_group)

    @group.command()
    def tune(det_id: str = typer.Argument(..., metavar="ID"),
             values: list[str] = typer.Argument(..., metavar="NAME=VALUE...", help="Thresholds, e.g. min_failures=40."),
             preview: bool = typer.Option(False, "--preview", help="Replay the store with the new values; save nothing."),
             home: Optional[Path] = HomeOption) -> None:
        """Override a detection's thresholds (see its `parameters` in `detections --json`)."""
        from storewatch.cli import console
        from storewatch.detect import tuning
        from storewatch.learn.tune_preview import preview_parameters
        from storewatch.workspace import Workspace

        ws = Workspace.at(home)
        parsed = _values(values)
        result = _checked(lambda: preview_parameters(ws, det_id, parsed))
        console.print(f"{det_id} with {', '.join(values)}: {result['text']}")
        if not preview:
            tuning.set_parameters(ws, det_id, parsed)
            console.print(f"Saved in {ws.home / tuning.FILE}; the next `storewatch detect` uses it.")

    @group.command("replace")
    def replace_(det_id: str = typer.Argument(..., metavar="ID"),
                 undo: bool = typer.Option(False, "--undo", help="Run the shipped rule again."),
                 home: Optional[Path] = HomeOption) -> None:
        """Let your rule of the same id (in <workspace>/rules or --rules) replace the shipped detection."""
        from storewatch.cli import console
        from storewatch.detect import tuning
        from storewatch.detect.registry import builtin_detections
        from storewatch.workspace import Workspace

        if det_id not in {d.id for d in builtin_detections()}:
            raise typer.BadParameter(f"no shipped detection {det_id!r}", param_hint="ID")
        tuning.set_replace(Workspace.at(home), det_id, not undo)
        console.print(f"{det_id}: {'the shipped rule runs' if undo else 'your rule of this id replaces the shipped one'}.")


def _set_enabled(home: Optional[Path], target: str, on: bool, is_group: bool) -> None:
    from storewatch.cli import console
    from storewatch.detect import tuning
    from storewatch.detect.registry import load_detections
    from storewatch.workspace import Workspace

    ws = Workspace.at(home)
    found, _ = load_detections(ws, with_disabled=True)
    known = {name for d in found for name in (d.scenario, d.kind)} if is_group else {d.id for d in found}
    if target not in known:
        raise typer.BadParameter(f"no {'group' if is_group else 'detection'} {target!r}", param_hint="TARGET")
    _checked(lambda: tuning.set_enabled(ws, target, on, group=is_group))
    console.print(f"{'group ' if is_group else ''}{target}: {'enabled' if on else 'disabled'} from the next `storewatch detect`.")


def _checked(call):
    from storewatch.commands import or_exit
    from storewatch.detect.detection import DetectionError
    from storewatch.detect.tuning import TuningError

    return or_exit(call, (TuningError, DetectionError))


def _values(values: list[str]) -> dict[str, float]:
    out = {}
    for v in values:
        name, _, number = v.partition("=")
        try:
            out[name.strip()] = int(number) if number.strip().lstrip("-").isdigit() else float(number)
        except ValueError:
            raise typer.BadParameter(f"{v!r}: write NAME=NUMBER", param_hint="NAME=VALUE") from None
    return out


def _print_json(view: dict, scorecard: bool) -> None:
    from storewatch.cli import _json_out
    from storewatch.detect.registry import refusal_summary

    _json_out(view["detections"] if scorecard else {**view, "refused": refusal_summary(view["errors"])})


def _print_detections(view: dict) -> None:
    from rich.table import Table

    from storewatch.cli import console, err
    from storewatch.detect.registry import refusal_summary
    from storewatch.terminal import shown

    rows, errors = view["detections"], view["errors"]
    table = Table(title=f"{len(rows)} detections ({sum(r['enabled'] for r in rows)} enabled)")
    for col in ("scenario", "id", "source", "on", "alerts", "last fired"):
        table.add_column(col, overflow="fold", justify="right" if col == "alerts" else "left")
    for r in rows:
        table.add_row(shown(r["scenario"]), shown(r["id"]), r["source"], "yes" if r["enabled"] else "[red]no[/]",
                      str(r["alerts"]), (r["last_fired"] or "")[:16])
    console.print(table)
    if len(errors) > 10:  # a rule pack: the reasons, counted, instead of a line per rule
        err.print(f"[yellow]{len(errors)} rule(s) not loaded[/] ({len(rows)} detections loaded); by reason:")
        for g in refusal_summary(errors):
            err.print(f"  {g['count']:>5}  {shown(g['reason'])}  e.g. {shown(g['examples'][0])}")
        err.print("  (--json lists every refused rule with its file and reason)")
        return
    for e in errors:
        err.print(f"[yellow]not loaded[/] {shown(e['source'])}: {shown(e['error'])}")


def _print_scorecard(rows: list[dict]) -> None:
    from rich.table import Table

    from storewatch.cli import console
    from storewatch.terminal import shown

    table = Table(title=f"Scorecard, last {rows[0]['days'] if rows else 30} days")
    for col in ("id", "alerts", "tp", "benign", "fp", "precision", "h to verdict", "suggestion", "evidence"):
        table.add_column(col, overflow="fold")
    for r in rows:
        v = r["verdicts"]
        table.add_row(shown(r["id"]), str(r["alerts"]), str(v["true_positive"]), str(v["benign"]),
                      str(v["false_positive"]), "" if r["precision"] is None else f"{r['precision']:.0%}",
                      "" if r["mean_hours_to_verdict"] is None else f"{r['mean_hours_to_verdict']:.1f}",
                      r["suggestion"], shown(r["evidence"]))
    console.print(table)
