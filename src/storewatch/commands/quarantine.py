"""`storewatch quarantine`: records ingest could not read, with totals and filters; `quarantine purge`."""

from __future__ import annotations

from pathlib import Path
from typing import Optional

import typer

from storewatch.helptext import DefaultCommandGroup


class _QuarantineGroup(DefaultCommandGroup):
    default = "show"


def _filters(reason: Optional[str], file: Optional[str], since: Optional[str], before: Optional[str] = None):
    from storewatch.cli import _parse_since
    from storewatch.ingest.quarantine import Filters

    return Filters(reason, file, _parse_since(since), _parse_since(before) if before else None)


ReasonOption = typer.Option(None, "--reason", help="Only records whose reason contains this (any case).")
FileOption = typer.Option(None, "--file", help="Only records from files whose path contains this.")


def register(app: typer.Typer) -> None:
    from storewatch.cli import HomeOption

    group = typer.Typer(cls=_QuarantineGroup, help="Records that could not be read: totals, filters, purge.")
    app.add_typer(group, name="quarantine")

    @group.command("show")
    def show(
        home: Optional[Path] = HomeOption,
        limit: int = typer.Option(20, "--limit", min=1, help="Records to show."),
        reason: Optional[str] = ReasonOption,
        file: Optional[str] = FileOption,
        since: Optional[str] = typer.Option(None, "--since", help="Quarantined since this ISO 8601 time or this long ago (24h)."),
        json: bool = typer.Option(False, "--json", help="Totals and records as one JSON object."),
    ) -> None:
        """Totals by reason and by file, then the newest records: file, line, reason, raw text (card numbers tokenized)."""
        from storewatch.cli import _json_out, existing_workspace
        from storewatch.ingest import quarantine
        from storewatch.store import reader

        filters = _filters(reason, file, since)
        with reader.opened(existing_workspace(home)) as con:
            counts, rows = quarantine.totals(con, filters), quarantine.records(con, filters, limit)
        if json:
            _json_out({**counts, "records": rows})
            return
        _print(counts, rows)

    @group.command("purge")
    def purge(
        home: Optional[Path] = HomeOption,
        reason: Optional[str] = ReasonOption,
        file: Optional[str] = FileOption,
        before: Optional[str] = typer.Option(None, "--before", help="Only records quarantined before this ISO 8601 time or this long ago (30d)."),
        yes: bool = typer.Option(False, "--yes", help="Delete them (without it, only say how many would go)."),
    ) -> None:
        """Delete quarantined records (all, or those the filters pick); audited. Needs --yes."""
        from storewatch.cli import console, existing_workspace
        from storewatch.ingest import quarantine
        from storewatch.store import reader

        ws = existing_workspace(home)
        filters = _filters(reason, file, None, before)
        if not yes:
            with reader.opened(ws) as con:
                n = quarantine.totals(con, filters)["total"]
            console.print(f"{n:,} quarantined record(s) would be deleted; run again with --yes to delete them.")
            raise typer.Exit(1)
        console.print(f"Deleted {quarantine.purge(ws, filters):,} quarantined record(s) (written to the audit log).")


def _print(counts: dict, rows: list[dict]) -> None:
    from rich.table import Table

    from storewatch.cli import _short, console
    from storewatch.terminal import shown

    if not counts["total"]:
        console.print("Nothing quarantined" + (" matches." if rows is not None else "."))
        return
    for key, title in (("by_reason", "reason"), ("by_file", "file")):
        table = Table(title=f"Quarantined by {title}")
        table.add_column(title, overflow="fold")
        table.add_column("records", justify="right")
        for r in counts[key][:10]:
            table.add_row(shown(_short(r[title if title == "reason" else "source_file"])), f"{r['count']:,}")
        if len(counts[key]) > 10:
            table.caption = f"and {len(counts[key]) - 10} more"
        console.print(table)
    table = Table(title=f"Quarantine: {len(rows)} of {counts['total']:,} records, newest first")
    for col in ("file", "line", "reason", "raw"):
        table.add_column(col, overflow="fold")
    for r in rows:
        table.add_row(shown(_short(r["source_file"])), str(r["source_line"]), shown(r["reason"]), shown(r["raw"]))
    console.print(table)
