"""`storewatch respond`, `storewatch playbooks`, `storewatch actions`: the response stage on the command line.

Thin: options in, `storewatch.respond.engine` does the work, Rich out. Every value that came from logs
(targets, titles, descriptions) is escaped before it is printed with markup.
"""

from __future__ import annotations

from pathlib import Path
from typing import Optional

import typer

STATUS_STYLE = {"executed": "green", "failed": "red", "planned": "yellow", "rolled_back": "cyan", "expired": "dim"}


def _fail(message: str) -> None:
    from storewatch.cli import err
    from storewatch.terminal import shown

    err.print(f"[red]{shown(message)}[/]")
    raise typer.Exit(1)


def _guarded(call):
    """Run an engine call, turning the errors a user can fix into a message instead of a traceback."""
    from storewatch.respond.config import ConfigError
    from storewatch.respond.engine import RespondError
    from storewatch.respond.playbook import PlaybookError

    try:
        return call()
    except (RespondError, ConfigError, PlaybookError) as exc:
        _fail(str(exc))


def _print_plan(p) -> None:
    from rich.padding import Padding
    from rich.text import Text

    from storewatch.cli import console
    from storewatch.terminal import shown, visible

    inc = p.incident
    console.print(f"[bold]{inc['id']}[/] {shown(inc['title'])} ({inc['scenario']}, {inc['severity']}, "
                  f"risk {inc['risk_score']})")
    console.print("Playbooks: " + (shown(", ".join(p.playbooks)) or "none match this incident"))
    console.rule("Dry run: exactly what would be done")
    for n, a in enumerate(p.actions, 1):
        approval = "[yellow]needs approval[/]" if a.approval_required else "automatic"
        console.print(f"{n}. [bold]{a.action_id}[/] {a.action} → [bold]{shown(a.target)}[/]  {approval} · expires "
                      f"{a.expires_at[:16].replace('T', ' ')} UTC · [{STATUS_STYLE.get(a.status, '')}]{a.status}[/]")
        console.print(Padding(Text(visible(a.description)), (0, 0, 0, 4)))
    for note in p.notes:
        console.print(f"[yellow]note:[/] {shown(note)}")
    pending = [a for a in p.actions if a.status in ("planned", "failed")]
    needing = sum(a.approval_required for a in pending)
    console.print(f"\nDry run: nothing was done. {len(pending)} action(s) to carry out, {needing} of them need "
                  f"approval. To carry them out: storewatch respond {inc['id']} --execute" if pending
                  else "\nDry run: nothing was done, and nothing is left to do.")


def _print_results(title: str, results) -> None:
    from rich.padding import Padding
    from rich.text import Text

    from storewatch.cli import console
    from storewatch.terminal import shown, visible

    console.rule(title)
    for r in results:
        style = STATUS_STYLE.get(r.status, "")
        console.print(f"[bold]{r.action_id}[/] {r.action} → [bold]{shown(r.target)}[/]: [{style}]{r.status}[/]"
                      + ("" if r.changed else " (unchanged)"))
        console.print(Padding(Text(visible(r.detail)), (0, 0, 0, 4)))


def respond(
    incident: Optional[str] = typer.Argument(None, help="Incident id (a unique prefix is enough)."),
    playbook: Optional[str] = typer.Option(None, "--playbook", "-p", help="Use only this playbook (default: every matching one)."),
    execute: bool = typer.Option(False, "--execute", help="Carry the actions out; this is the approval. Default: dry run."),
    rollback: Optional[str] = typer.Option(None, "--rollback", metavar="ACTION_ID", help="Undo one action (or cancel it if not yet done)."),
    home: Optional[Path] = typer.Option(None, "--home", help="Workspace folder (default ./.storewatch or $STOREWATCH_HOME)."),
    json: bool = typer.Option(False, "--json", help="Print JSON."),
) -> None:
    """Respond to an incident with its playbooks: a dry run unless --execute; --rollback ACTION_ID undoes one."""
    from storewatch.cli import _json_out, console, existing_workspace
    from storewatch.respond import engine

    ws = existing_workspace(home)
    if rollback:
        result = _guarded(lambda: engine.rollback(ws, rollback))
        if json:
            _json_out(result.as_dict())
        else:
            _print_results("Rollback", [result])
        if result.status not in ("rolled_back", "expired"):
            raise typer.Exit(1)
        return
    if not incident:
        _fail("Name an incident (see `storewatch incidents`) or give --rollback ACTION_ID.")
    if not execute:
        p = _guarded(lambda: engine.build_plan(ws, incident, playbook))
        if json:
            _json_out({"dry_run": True, "incident": p.incident, "playbooks": p.playbooks,
                       "actions": [a.as_dict() for a in p.actions], "notes": p.notes})
        else:
            _print_plan(p)
        return
    results = _guarded(lambda: engine.execute(ws, incident, playbook, approved=True))
    if json:
        _json_out({"dry_run": False, "results": [r.as_dict() for r in results]})
    elif results:
        _print_results(f"Response to {results[0].incident_id}", results)
    else:
        console.print("No playbook action applies to this incident.")
    if any(r.status == "failed" for r in results):
        raise typer.Exit(1)


def playbooks(
    home: Optional[Path] = typer.Option(None, "--home", help="Workspace folder."),
    show_actions: bool = typer.Option(False, "--actions", help="List the actions playbooks can use and their settings."),
    json: bool = typer.Option(False, "--json"),
) -> None:
    """The shipped and user playbooks (user ones in <workspace>/playbooks/ replace shipped ones of the same name)."""
    from rich.padding import Padding
    from rich.table import Table
    from rich.text import Text

    from storewatch.cli import _json_out, console, err
    from storewatch.respond.adapters import OPERATIONS
    from storewatch.respond.config import env_name
    from storewatch.respond.playbook import load_all, user_folder
    from storewatch.terminal import shown, visible
    from storewatch.workspace import Workspace

    ws = Workspace.at(home)
    if show_actions:
        rows = [{"action": name, "summary": op.summary, "targets": list(op.targets), "product": cls.product,
                 "reversible": op.reversible, "settings": [env_name(cls.name, s.key) for s in cls.settings]}
                for name, (cls, op) in OPERATIONS.items()]
        if json:
            _json_out(rows)
            return
        table = Table(title="Actions playbooks can use")
        for col in ("action", "acts on", "what", "product and interface", "environment variables"):
            table.add_column(col, overflow="fold")
        for r in rows:
            table.add_row(r["action"], ", ".join(r["targets"]), r["summary"], r["product"], "\n".join(r["settings"]))
        console.print(table)
        return
    books, errors = load_all(ws)
    if json:
        _json_out({"playbooks": [{"name": b.name, "origin": b.origin, "path": str(b.path), "enabled": b.enabled,
                                  "description": b.description, "scenarios": list(b.when.scenarios),
                                  "min_severity": b.when.min_severity,
                                  "actions": [{"do": s.do, "approval": s.approval,
                                               "expires_seconds": int(s.expires.total_seconds())} for s in b.steps]}
                                 for b in books], "errors": errors})
        return
    console.print(f"Playbooks: shipped ones, and yours in {user_folder(ws)} (same name replaces a shipped one)\n")
    for b in books:
        console.print(f"[bold]{shown(b.name)}[/] ({b.origin}{'' if b.enabled else ', disabled'}) "
                      f"when {shown(_conditions(b.when) or 'any incident')}")
        console.print(Padding(Text(visible(b.description)), (0, 0, 0, 2)))
        for n, s in enumerate(b.steps, 1):
            only = _conditions(s.when)
            console.print(f"  {n}. {s.do} on {', '.join(s.for_each)}, {'needs approval' if s.approval else 'automatic'}, "
                          f"expires after {_duration(s.expires)}" + shown(f", only if {only}" if only else ""))
        console.print()
    for e in errors:
        err.print(f"[red]unusable playbook[/] {shown(e)}")


def _conditions(when) -> str:
    return "; ".join(filter(None, [", ".join(when.scenarios), when.min_severity and f"severity ≥ {when.min_severity}",
                                   when.entities and f"it names {', '.join(when.entities)}"]))


def _duration(delta) -> str:
    hours = int(delta.total_seconds() // 3600)
    return f"{hours // 24} d" if hours >= 24 and hours % 24 == 0 else f"{hours} h" if hours else f"{int(delta.total_seconds() // 60)} min"


def actions(
    incident: Optional[str] = typer.Option(None, "--incident", help="Only this incident's actions."),
    expire: bool = typer.Option(False, "--expire", help="First lift every executed action whose expiry has passed."),
    home: Optional[Path] = typer.Option(None, "--home", help="Workspace folder."),
    json: bool = typer.Option(False, "--json"),
) -> None:
    """Response actions and where each stands: planned, executed, failed, rolled_back, expired."""
    from rich.table import Table

    from storewatch.cli import _json_out, console, existing_workspace
    from storewatch.respond import engine
    from storewatch.terminal import shown

    ws = existing_workspace(home)
    lifted = _guarded(lambda: engine.expire(ws)) if expire else []
    rows = engine.actions(ws, incident)
    if json:
        _json_out({"expired": [r.as_dict() for r in lifted], "actions": rows} if expire else rows)
        return
    if lifted:
        _print_results("Expired and lifted", lifted)
    if not rows:
        console.print("No response actions yet. Plan some with `storewatch respond INCIDENT`.")
        return
    table = Table(title="Response actions")
    for col in ("action id", "incident", "action", "target", "status", "expires (UTC)", "by", "detail"):
        table.add_column(col, overflow="fold")
    for r in rows:
        table.add_row(r["action_id"], r["incident_id"], r["action"], shown(r["target"]),
                      f"[{STATUS_STYLE.get(r['status'], '')}]{r['status']}[/]",
                      (r["expires_at"] or "")[:16].replace("T", " "), shown(r["actor"] or ""), shown(r["detail"]))
    console.print(table)


def register(app: typer.Typer) -> None:
    app.command()(respond)
    app.command()(playbooks)
    app.command()(actions)
