"""`storewatch exceptions add|list|remove`: "never alert on this again", as reviewable YAML files in
`<workspace>/exceptions/`, with the impact replayed on the stored alerts before one is saved."""

from __future__ import annotations

from pathlib import Path
from typing import Optional

import typer


def register(app: typer.Typer) -> None:
    from storewatch.cli import HomeOption

    group = typer.Typer(help="Exceptions: alerts an analyst expects, closed by a condition (see docs/learning.md).",
                        no_args_is_help=True)
    app.add_typer(group, name="exceptions")

    @group.command()
    def add(
        condition: str = typer.Argument(..., help='e.g. "user = etl_nightly and time between 01:00 and 03:00".'),
        reason: str = typer.Option(..., "--reason", help="Why this is expected (kept in the file and the audit log)."),
        ex_id: Optional[str] = typer.Option(None, "--id", help="File name and id (default: from the time)."),
        scope: str = typer.Option("all", "--scope", help="all, detection:<id> or group:<scenario or kind>."),
        owner: Optional[str] = typer.Option(None, "--owner", help="Who answers for it (default: you)."),
        expires: Optional[int] = typer.Option(30, "--expires-days", min=0, help="Days it lasts; 0: no expiry."),
        days: int = typer.Option(30, "--days", min=1, help="History to replay for the preview."),
        preview: bool = typer.Option(False, "--preview", help="Print the impact and save nothing."),
        home: Optional[Path] = HomeOption,
        json: bool = typer.Option(False, "--json"),
    ) -> None:
        """Add an exception after showing what it would have closed in the stored history."""
        from datetime import datetime, timezone

        from storewatch.cli import _json_out, console
        from storewatch.learn import exceptions as ex
        from storewatch.store import reader
        from storewatch.workspace import Workspace

        ws = Workspace.at(home)
        now = datetime.now(timezone.utc)
        exc = _checked(lambda: ex.make({"id": ex_id or now.strftime("exc-%Y%m%d-%H%M%S"), "condition": condition,
                                        "scope": scope, "owner": owner, "reason": reason, "created": now,
                                        "expires": ex.default_expiry(expires, now)}))
        with reader.opened(ws) as con:
            impact = ex.preview(con, exc, days)
        path = None if preview else _checked(lambda: ex.add(ws, exc))
        if json:
            _json_out({**impact, "saved": str(path) if path else None})
            return
        console.print(f"{exc.id}: {impact['text']}.")
        console.print(f"Saved as {path}." if path else "Preview only: nothing saved.")

    @group.command("list")
    def list_(home: Optional[Path] = HomeOption, json: bool = typer.Option(False, "--json")) -> None:
        """The exceptions: files in <workspace>/exceptions/, false positives' suppressions (fp-...), load errors."""
        from datetime import datetime, timezone

        from rich.table import Table

        from storewatch.cli import _json_out, console, err
        from storewatch.learn import exceptions as ex
        from storewatch.store import reader
        from storewatch.terminal import shown
        from storewatch.workspace import Workspace

        ws = Workspace.at(home)
        found, errors = ex.load(ws)
        with reader.opened(ws) as con:
            found += ex.suppressions(con)
        now = datetime.now(timezone.utc)
        rows = [{**e.as_dict(), "active": e.active(now)} for e in found]
        if json:
            _json_out(rows if not errors else rows + [{"error": e["error"], "file": e["file"]} for e in errors])
            return
        table = Table(title=f"{len(rows)} exceptions")
        for col in ("id", "scope", "condition", "owner", "expires", "active", "reason"):
            table.add_column(col, overflow="fold")
        for r in rows:
            table.add_row(*(shown(str(r[c] or "")) for c in ("id", "scope", "condition", "owner")),
                          (r["expires"] or "never")[:16],
                          "yes" if r["active"] else "[yellow]expired[/]", shown(r["reason"]))
        console.print(table)
        for e in errors:
            err.print(f"[yellow]not loaded[/] {shown(e['file'])}: {shown(e['error'])}")

    @group.command()
    def remove(ex_id: str = typer.Argument(..., metavar="ID"), home: Optional[Path] = HomeOption) -> None:
        """Remove an exception (its file) or a false positive's suppression (fp-...); the next detect raises again."""
        from storewatch.cli import console
        from storewatch.learn import exceptions as ex
        from storewatch.workspace import Workspace

        _checked(lambda: ex.remove(Workspace.at(home), ex_id))
        console.print(f"{ex_id} removed; the next `storewatch detect` raises what it closed.")


def _checked(call):
    from storewatch.commands import or_exit
    from storewatch.learn.exceptions import ExceptionError

    return or_exit(call, (ExceptionError,))
