"""`storewatch case INCIDENT_ID ACTION ...` (work a case) and `storewatch case stats` (SLA and MTTx figures)."""

from __future__ import annotations

from pathlib import Path
from typing import Optional

import typer

ACTIONS = ("show", "history", "assign", "comment", "status", "tag", "severity", "attach", "merge", "split")


def register(app: typer.Typer) -> None:
    from storewatch.cli import HomeOption

    @app.command(no_args_is_help=True)
    def case(
        incident_id: str = typer.Argument(..., metavar="INCIDENT_ID", help="Incident id (a unique prefix), or `stats`."),
        action: str = typer.Argument("show", metavar="ACTION", help="One of: " + ", ".join(ACTIONS) + "."),
        values: Optional[list[str]] = typer.Argument(None, metavar="[VALUE]...",
                                                     help="assign USER (none to unassign) | comment TEXT | status STATUS | "
                                                          "tag TAG... | severity SEV (none to clear) | attach FILE | "
                                                          "merge OTHER_ID... | split ALERT_ID..."),
        resolution: Optional[str] = typer.Option(None, "--resolution", help="With status resolved: true_positive, "
                                                 "benign, false_positive or duplicate."),
        duplicate_of: Optional[str] = typer.Option(None, "--duplicate-of", help="With --resolution duplicate: the incident it duplicates."),
        note: str = typer.Option("", "--note", help="Why (kept with the verdict and in the audit log)."),
        remove: bool = typer.Option(False, "--remove", help="With tag: remove the tags instead of adding them."),
        json: bool = typer.Option(False, "--json"),
        home: Optional[Path] = HomeOption,
    ) -> None:
        """Work a case: assign, comment, move its status (resolve with a resolution), tag, override its
        severity, attach a file, merge incidents into it, split alerts out; `show` prints it with its history."""
        from storewatch.cases import changes, read
        from storewatch.cases.lifecycle import CaseError
        from storewatch.cli import _json_out, console, err
        from storewatch.store import reader
        from storewatch.terminal import shown
        from storewatch.workspace import Workspace

        ws = Workspace.at(home)
        args = list(values or [])
        calls = {
            "assign": lambda: changes.assign(ws, incident_id, None if args[0].lower() == "none" else args[0]),
            "comment": lambda: changes.comment(ws, incident_id, " ".join(args)),
            "status": lambda: changes.set_status(ws, incident_id, " ".join(args), resolution, duplicate_of, note=note),
            "tag": lambda: changes.tag(ws, incident_id, remove=args) if remove else changes.tag(ws, incident_id, add=args),
            "severity": lambda: changes.set_severity(ws, incident_id, None if args[0].lower() == "none" else args[0]),
            "attach": lambda: changes.attach(ws, incident_id, Path(args[0])),
            "merge": lambda: changes.merge(ws, incident_id, args),
            "split": lambda: changes.split(ws, incident_id, args),
        }
        try:
            if incident_id == "stats":
                with reader.opened(ws) as con:
                    figures = read.stats(ws, con)
                _json_out(figures) if json else _print_stats(console, figures)
                return
            if action in ("show", "history"):
                with reader.opened(ws) as con:
                    found = read.case(ws, con, incident_id)
                _json_out(found) if json else _print_case(console, shown, found, history_only=action == "history")
                return
            if action not in calls:
                raise CaseError(f"unknown action {action!r}: choose one of {', '.join(ACTIONS)}")
            if not args:
                raise CaseError(f"{action} needs a value: see `storewatch case --help`")
            result = calls[action]()
        except (CaseError, ValueError) as exc:
            err.print(f"[red]{shown(str(exc))}[/]")
            raise typer.Exit(1)
        if json:
            _json_out(result)
        else:
            detail = {k: v for k, v in result.items() if k not in ("incident_id", "change", "actor", "feedback")}
            console.print(f"{shown(result['incident_id'])}: {action} " + shown(", ".join(f"{k}={v}" for k, v in detail.items())))


def _print_case(console, shown, found: dict, history_only: bool) -> None:
    from storewatch.cases.sla import duration

    if not history_only:
        resolution = f" ({found['resolution']}" + (f" of {found['duplicate_of']}" if found["duplicate_of"] else "") + ")" \
            if found["resolution"] else ""
        console.print(f"[bold]{shown(found['id'])}[/] {shown(found['title'])}")
        console.print(f"status {found['status']}{shown(resolution)} · assignee {shown(found['assignee'] or '-')} · "
                      f"severity {found['severity']}" + (f" (computed {found['computed_severity']})"
                                                         if found["severity"] != found["computed_severity"] else "")
                      + f" · risk {found['risk_score']} · tags {shown(', '.join(found['tags']) or '-')}")
        for clock, c in found["sla"].items():
            state = "[red]breached[/]" if c["breached"] else "within target"
            console.print(f"time to {clock}: {duration(c['seconds'])}{' (running)' if c['running'] else ''} of "
                          f"{duration(c['target_seconds'])}: {state}")
        for a in found["attachments"]:
            console.print(f"attachment {shown(a['name'])} {a['size']} bytes sha256 {a['sha256']} "
                          + ("[green]intact[/]" if a["intact"] else "[red]CHANGED OR MISSING[/]"))
        for c in found["comments"]:
            console.print(f"[dim]{c['created_at']:%Y-%m-%d %H:%M}[/] [bold]{shown(c['author'])}[/]: {shown(c['body'])}")
    for h in found["history"]:
        console.print(f"[dim]{h['changed_at']:%Y-%m-%d %H:%M:%S}[/] {shown(h['actor'])} {h['change']} "
                      + shown(", ".join(f"{k}={v}" for k, v in h["detail"].items())))


def _print_stats(console, figures: dict) -> None:
    from storewatch.cases.sla import duration

    console.print(f"{figures['incidents']} incidents: " + ", ".join(f"{n} {s}" for s, n in sorted(figures["by_status"].items())))
    if figures["by_resolution"]:
        console.print("resolved as: " + ", ".join(f"{n} {r}" for r, n in sorted(figures["by_resolution"].items())))
    console.print(f"MTTD {duration(figures['mttd_seconds'])} · MTTA {duration(figures['mtta_seconds'])} · "
                  f"MTTR {duration(figures['mttr_seconds'])}")
    console.print(f"breached: acknowledge {figures['breached']['acknowledge']}, resolve {figures['breached']['resolve']}")
