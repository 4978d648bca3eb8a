"""Run a hunting query over a reader's connection and hand back a page of rows, ready to print or export.

The connection is a read snapshot's (`storewatch.store.reader`): a search never waits for, or blocks, an
ingest or a detection running in another process.
"""

from __future__ import annotations

import csv
from dataclasses import dataclass
from datetime import datetime
from typing import IO

import duckdb
import orjson

from storewatch.hunt.compile import compile_query
from storewatch.hunt.parse import parse

# Columns a table of events shows (CLI and dashboard) when they hold something, in this order; exports carry all.
SHOWN = ("time", "channel", "class_name", "src_ip", "dst_ip", "user_name", "host", "store_id", "http_status",
         "url_path", "process_name", "command_line", "message")


@dataclass(frozen=True)
class Result:
    query: str
    columns: tuple[str, ...]
    rows: list[dict]
    aggregate: bool
    offset: int
    limit: int
    total: int | None  # events matching in all (None for aggregations)

    @property
    def next_offset(self) -> int | None:
        """Where the next page starts, or None when this one is the last."""
        if len(self.rows) < self.limit or (self.total is not None and self.offset + len(self.rows) >= self.total):
            return None
        return self.offset + len(self.rows)


def search(con: duckdb.DuckDBPyConnection, text: str, since: datetime | None = None, until: datetime | None = None,
           limit: int = 50, offset: int = 0) -> Result:
    """One page of the events (newest first) or the aggregation `text` asks for; QueryError if it cannot run."""
    compiled = compile_query(parse(text), since, until, limit, offset)
    cur = con.cursor()
    try:
        rows = cur.execute(compiled.sql, compiled.params).fetchall()
        total = cur.execute(compiled.count_sql, compiled.count_params).fetchone()[0] if compiled.count_sql else None
    finally:
        cur.close()
    dicts = [dict(zip(compiled.columns, r)) for r in rows]
    for d in dicts:
        if isinstance(d.get("attributes"), str):  # the JSON column: an object in exports, not a string
            d["attributes"] = orjson.loads(d["attributes"])
    return Result(text, compiled.columns, dicts, compiled.aggregate, offset, limit, total)


def cell(value: object) -> str:
    """A value as one line of text for a table cell or a CSV field."""
    if value is None:
        return ""
    if isinstance(value, datetime):
        return value.isoformat()
    if isinstance(value, (dict, list)):
        return orjson.dumps(value).decode()
    return str(value)


def write_csv(result: Result, out: IO[str]) -> None:
    """The page as CSV; a cell a spreadsheet would run as a formula (=, +, -, @ first) is prefixed with '."""
    writer = csv.writer(out)
    writer.writerow(result.columns)
    for row in result.rows:
        writer.writerow([_inert(cell(row[c])) for c in result.columns])


def _inert(text: str) -> str:
    if text[:1] in ("=", "+", "-", "@", "\t", "\r") and not _number(text):
        return "'" + text
    return text


def _number(text: str) -> bool:
    try:
        float(text)
    except ValueError:
        return False
    return True
