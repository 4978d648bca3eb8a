"""`storewatch search QUERY`: hunt through the events; `search save|list|delete|promote` for saved searches."""

from __future__ import annotations

from contextlib import contextmanager
from pathlib import Path
from typing import Iterator, Optional

import typer

from storewatch.helptext import DefaultCommandGroup

WHOLE = ("time", "bucket", "src_ip", "dst_ip", "channel", "http_status", "store_id", "count")
RUN = "query"  # the subcommand a bare `search QUERY` runs


class _SearchGroup(DefaultCommandGroup):
    """`search QUERY` runs the query (a query that is a subcommand's name is written `search query save`)."""

    default = RUN


def register(app: typer.Typer) -> None:
    from storewatch.cli import HomeOption

    group = typer.Typer(cls=_SearchGroup, no_args_is_help=True,
                        help="Hunt through the events with a Lucene/KQL-like query (docs/search.md); saved searches.")
    app.add_typer(group, name="search")

    @group.command(RUN)
    def run(
        query: str = typer.Argument("", help='e.g. \'src_ip:10.0.0.0/8 AND NOT http_status:200\' or \'| count by src_ip\''),
        home: Optional[Path] = HomeOption,
        since: Optional[str] = typer.Option(None, "--since", help="Events from this ISO 8601 date/time or this long ago (24h, 7d)."),
        until: Optional[str] = typer.Option(None, "--until", help="Events before this ISO 8601 date/time or this long ago."),
        limit: int = typer.Option(50, "--limit", min=1, max=10_000, help="Rows per page."),
        offset: int = typer.Option(0, "--offset", min=0, help="Rows to skip (the next page starts where this one ends)."),
        json: bool = typer.Option(False, "--json", help="Print the page as a JSON array of events (or of counts)."),
        csv: Optional[Path] = typer.Option(None, "--csv", help="Also write the page as CSV to this file."),
    ) -> None:
        """Events matching QUERY, newest first, a page at a time; or its aggregation after `|`."""
        from storewatch.cli import _json_out, console
        from storewatch.hunt.parse import moment
        from storewatch.hunt.run import search, write_csv
        from storewatch.store import reader

        with _query_errors():
            window = (moment(since) if since else None, moment(until) if until else None)
            with reader.opened(_workspace(home)) as con:
                result = search(con, query, *window, limit=limit, offset=offset)
        if csv is not None:
            with csv.open("w", encoding="utf-8", newline="") as fh:
                write_csv(result, fh)
        if json:
            _json_out(result.rows)
            return
        _print_result(result, console)
        if csv is not None:
            console.print(f"CSV: {csv}")

    @group.command("save")
    def save_(name: str = typer.Argument(..., help="Name (lower-case letters, digits, _ and -)."),
              query: str = typer.Argument(..., help="The query."), home: Optional[Path] = HomeOption) -> None:
        """Save a query under a name (replacing one of the same name); audited."""
        from storewatch.cli import console
        from storewatch.hunt import saved
        from storewatch.terminal import shown

        with _query_errors():
            saved.save(_workspace(home), name, query)
        console.print(f"Saved {shown(name)}: {shown(query)}")

    @group.command("list")
    def list_(home: Optional[Path] = HomeOption, json: bool = typer.Option(False, "--json")) -> None:
        """The saved searches."""
        from rich.table import Table

        from storewatch.cli import _json_out, console
        from storewatch.hunt import saved
        from storewatch.terminal import shown

        found = saved.load(_workspace(home))
        if json:
            _json_out(found)
            return
        if not found:
            console.print("No saved searches. Save one: storewatch search save NAME QUERY")
            return
        table = Table(title=f"Saved searches ({len(found)})")
        for col in ("name", "query", "saved (UTC)"):
            table.add_column(col, overflow="fold")
        for name, s in found.items():
            table.add_row(shown(name), shown(s["query"]), shown(str(s.get("saved_at", ""))[:16]))
        console.print(table)

    @group.command("delete")
    def delete(name: str = typer.Argument(...), home: Optional[Path] = HomeOption) -> None:
        """Delete a saved search; audited."""
        from storewatch.cli import console
        from storewatch.hunt import saved
        from storewatch.terminal import shown

        with _query_errors():
            saved.delete(_workspace(home), name)
        console.print(f"Deleted {shown(name)}.")

    @group.command("promote")
    def promote(
        name: str = typer.Argument(..., help="A saved search."),
        threshold: int = typer.Option(..., "--threshold", min=1, help="Matching events of one group that make an alert."),
        window: str = typer.Option("10m", "--window", help="Within this long (sliding): 30s, 10m, 1h, 1d."),
        group_by: str = typer.Option(..., "--group-by", help="Field the events are counted per (src_ip, user_name...)."),
        severity: str = typer.Option("medium", "--severity", help="low, medium, high or critical."),
        home: Optional[Path] = HomeOption,
    ) -> None:
        """Turn a saved search into a windowed detection in <workspace>/rules/ that `detect` runs; audited."""
        from storewatch.cli import console
        from storewatch.hunt import promote as promotion

        with _query_errors():
            path = promotion.promote(_workspace(home), name, threshold, window, group_by, severity)
        console.print(f"Wrote {path}: `storewatch detect` runs it from now on (delete the file to stop).")


def _workspace(home: Optional[Path]):
    from storewatch.cli import existing_workspace

    return existing_workspace(home)


@contextmanager
def _query_errors() -> Iterator[None]:
    """A query or saved-search problem: said in one line, exit 2 (the input's fault, not a bug)."""
    from storewatch.hunt.parse import QueryError

    try:
        yield
    except QueryError as exc:
        from storewatch.cli import err
        from storewatch.terminal import shown

        err.print(f"[red]{shown(str(exc))}[/]")
        raise typer.Exit(2) from None


def _print_result(result, console) -> None:
    from rich.table import Table

    from storewatch.hunt.run import SHOWN, cell
    from storewatch.terminal import shown

    if not result.rows:
        console.print("No events match." if not result.aggregate else "Nothing to count.")
        return
    columns = result.columns if result.aggregate else [c for c in SHOWN if any(r.get(c) is not None for r in result.rows)]
    first, last = result.offset + 1, result.offset + len(result.rows)
    of = f" of {result.total:,}" if result.total is not None else ""
    table = Table(title=f"{first:,}-{last:,}{of}, newest first" if not result.aggregate else None)
    for col in columns:  # short values whole (a wrapped address misleads); long text folded
        table.add_column(col, overflow="fold", justify="right" if col == "count" else "left", no_wrap=col in WHOLE,
                         max_width=60 if col in ("command_line", "message", "url_path") else None)
    for row in result.rows:
        table.add_row(*(shown(cell(row[c]))[:19].replace("T", " ") if c in ("time", "bucket")
                        else shown(cell(row[c])) for c in columns))
    console.print(table)
    if result.next_offset is not None:
        console.print(f"[dim]more: --offset {result.next_offset}[/]")
