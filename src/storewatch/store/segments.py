"""The events table as Parquet segment files under `<workspace>/events/`.

Why files and not a DuckDB table: appending to DuckDB's own storage costs about 2.7 µs per event for the
58-column schema (every column of every row is appended and compressed, NULL or not), more than parsing
the event; Arrow's Parquet writer does the same job in a third of the time, outside the GIL, and the
result is readable as is by Spark, Polars or pandas when a store outgrows one machine.

A segment is written beside the folder's segments under a hidden name and renamed into place once
complete, so a reader sees a segment entirely or not at all, and a crash leaves no partial events
behind. DuckDB reads the folder through the `events` view that `storewatch.store.db` creates on every
connection; the file names sort in the order they were written.
"""

from __future__ import annotations

import hashlib
import json
import os
import secrets
import time
from functools import lru_cache
from pathlib import Path

import duckdb
import pyarrow as pa
import pyarrow.parquet as pq

from storewatch.store import schema
from storewatch.workspace import Workspace

FOLDER = "events"
ROW_GROUP_ROWS = 122_880  # DuckDB's row group size: its scans and zone maps work per row group
COMPRESSION = "lz4"  # fastest to write and to scan; zstd would make segments 40% smaller for 0.25 µs more per event
LEGACY_SEGMENT = "00000000000000000000-legacy.parquet"  # a store written before segments, migrated once
SEGMENT_ROWS = 1_000_000  # a large ingest writes segments of this many events
COMPACT_BELOW_ROWS = SEGMENT_ROWS  # smaller segments are merged ...
COMPACT_WHEN = 16  # ... once there are this many of them
_COMPACTED = "-compacted.parquet"
_REPLACES = "storewatch.replaces"


def folder(ws: Workspace) -> Path:
    return ws.home / FOLDER


@lru_cache(maxsize=1)
def arrow_schema() -> pa.Schema:
    """The events schema as Arrow types, taken from DuckDB's own conversion so the two cannot disagree;
    JSON columns keep their JSON type in Parquet, so DuckDB reads them back as JSON."""
    con = duckdb.connect()
    try:
        con.execute(schema.create_table_sql("events"))
        arrow = con.sql("SELECT * FROM events").to_arrow_table().schema
    finally:
        con.close()
    fields = [pa.field(f.name, pa.json_(pa.string()) if schema.COLUMNS[f.name].sql_type == "JSON" else f.type)
              for f in arrow]
    return pa.schema(fields)


def conform(table: pa.Table) -> pa.Table:
    """The table with exactly the schema's columns, in order and typed; columns it lacks are NULL and
    columns the schema does not know are dropped."""
    target = arrow_schema()
    if table.schema == target:  # already conformed (ingest conforms before filtering)
        return table
    columns = []
    present = {name: i for i, name in enumerate(table.column_names)}
    for field in target:
        if (at := present.get(field.name)) is not None:
            col = table.column(at)
            if col.type != field.type:
                col = (pa.chunked_array([pa.ExtensionArray.from_storage(field.type, c) for c in col.chunks], field.type)
                       if isinstance(field.type, pa.ExtensionType) and col.type == field.type.storage_type
                       else col.cast(field.type))
            columns.append(col)
        else:
            columns.append(_nulls(field.type, table.num_rows))
    return pa.Table.from_arrays(columns, schema=target)


_NULLS: dict[pa.DataType, pa.Array] = {}


def _nulls(type_: pa.DataType, rows: int) -> pa.Array:
    """`rows` NULLs of a type, sliced from one shared array: most columns of most events are NULL, and
    allocating (and zeroing) fresh buffers for each of them in every batch costs more than writing them."""
    shared = _NULLS.get(type_)
    if shared is None or len(shared) < rows:
        shared = _NULLS[type_] = pa.nulls(max(rows, ROW_GROUP_ROWS), type_)
    return shared.slice(0, rows)


def files(ws: Workspace) -> list[Path]:
    """The segments holding events, in the order they were written."""
    return sorted(p for p in folder(ws).glob("*.parquet") if "-schema-" not in p.name)


def append(ws: Workspace, table: pa.Table) -> None:
    """Store events as one new segment; nothing is written for an empty table."""
    appender = Appender(ws, rows=max(table.num_rows, 1))
    appender.write(table)
    appender.close()


class Appender:
    """Events written as row groups of one segment that grows to `rows` events before the next one
    starts. A segment becomes visible (renamed into place) when it is full or the appender closes, so a
    large ingest writes a few large segments instead of many small ones to merge later. Until then its
    events are invisible, which suits ingest: its duplicate check keeps the run's own ids."""

    def __init__(self, ws: Workspace, rows: int = SEGMENT_ROWS):
        self._where, self._limit = folder(ws), rows
        self._out: pq.ParquetWriter | None = None
        self._tmp = self._target = None
        self._rows = 0

    def write(self, table: pa.Table) -> None:
        if not table.num_rows:
            return
        if self._out is None:
            self._where.mkdir(parents=True, exist_ok=True)
            self._target = self._where / f"{time.time_ns():020d}-{secrets.token_hex(4)}.parquet"
            self._tmp = _tmp_for(self._target)
            self._out = pq.ParquetWriter(self._tmp, arrow_schema(), **_WRITE_OPTIONS)
        self._out.write_table(conform(table), row_group_size=ROW_GROUP_ROWS)
        self._rows += table.num_rows
        if self._rows >= self._limit:
            self.close()

    def close(self) -> None:
        """Make the segment being written visible."""
        if self._out is not None:
            self._out.close()
            sync_rename(self._tmp, self._target)
            self._out, self._rows = None, 0

    def abort(self) -> None:
        """Drop the segment being written (its events were never visible)."""
        if self._out is not None:
            self._out.close()
            self._tmp.unlink(missing_ok=True)
            self._out, self._rows = None, 0


def ensure(ws: Workspace, writer: bool) -> None:
    """The folder with at least the empty segment of the current schema, so the view always has a file
    to read its columns from (a glob matching nothing is an error in DuckDB), even in a new workspace.
    The writer (who holds the store's lock) also removes segments a crash left half-written."""
    names = ",".join(f"{f.name}:{f.type}" for f in arrow_schema())
    digest = hashlib.sha256(names.encode()).hexdigest()[:12]
    empty = folder(ws) / f"00000000000000000000-schema-{digest}.parquet"
    if not empty.exists():
        _write(folder(ws), arrow_schema().empty_table(), empty.name)
    if writer:
        for tmp in folder(ws).glob(".*.tmp"):
            tmp.unlink(missing_ok=True)
        _finish_compactions(folder(ws))


def compact(ws: Workspace, below_rows: int = COMPACT_BELOW_ROWS, when: int = COMPACT_WHEN) -> int:
    """Merge small segments (fewer than `below_rows` events) into segments of about that size, once
    there are `when` of them: every ingest run adds at least one segment, and a query pays for every file
    it opens. Segments are merged whole and in order, so events keep their order. Each merged segment
    names the segments it replaces in its metadata and is renamed into place before they are deleted;
    a crash in between is finished by the next writer (`ensure`). Call it holding the store's write lock
    (an open read-write connection). Returns how many segments were merged."""
    where = folder(ws)
    small = [(p, pq.ParquetFile(p).metadata.num_rows) for p in files(ws)]
    small = [(p, n) for p, n in small if n < below_rows]
    if len(small) < when:
        return 0
    groups: list[list[Path]] = [[]]
    rows = 0
    for path, n in small:
        if rows + n > below_rows and groups[-1]:
            groups.append([])
            rows = 0
        groups[-1].append(path)
        rows += n
    merged = 0
    for group in groups:
        if len(group) > 1:
            _merge(where, group)
            merged += len(group)
    return merged


def _merge(where: Path, group: list[Path]) -> None:
    name = f"{group[0].name[:20]}-{secrets.token_hex(4)}{_COMPACTED}"
    tmp = _tmp_for(where / name)
    meta = {_REPLACES: json.dumps([p.name for p in group])}
    with pq.ParquetWriter(tmp, arrow_schema().with_metadata(meta), **_WRITE_OPTIONS) as out:
        pending: list[pa.Table] = []
        held = 0
        for path in group:
            source = pq.ParquetFile(path)
            for i in range(source.num_row_groups):
                pending.append(conform(source.read_row_group(i)))
                held += pending[-1].num_rows
                if held >= ROW_GROUP_ROWS:
                    table = pa.concat_tables(pending)
                    cut = held // ROW_GROUP_ROWS * ROW_GROUP_ROWS
                    out.write_table(table.slice(0, cut), row_group_size=ROW_GROUP_ROWS)
                    pending, held = [table.slice(cut)], held - cut
        if held:
            out.write_table(pa.concat_tables(pending), row_group_size=ROW_GROUP_ROWS)
    sync_rename(tmp, where / name)
    _drop_replaced(where / name)


def _finish_compactions(where: Path) -> None:
    for merged in where.glob(f"*{_COMPACTED}"):
        _drop_replaced(merged)


def _drop_replaced(merged: Path) -> None:
    meta = pq.read_schema(merged).metadata or {}
    for name in json.loads(meta.get(_REPLACES.encode(), b"[]")):
        (merged.parent / name).unlink(missing_ok=True)


def view_sql(ws: Workspace, temp: bool = True, since: str | None = None) -> str:
    """The `events` view over every segment. Columns are listed by name, so segments written with an
    older schema (fewer columns) read with NULLs in the columns they lack. Temporary on a connection to
    the store (a moved workspace still finds its segments); a reader's in-memory database keeps it.
    `since` (an ISO time) limits it to the events from then on: `watch`'s detection window."""
    glob = schema.sql_text(str(folder(ws) / "*.parquet"))
    cols = ", ".join(f"{c.name}::{c.sql_type} AS {c.name}" for c in schema.EVENT_COLUMNS)
    return (f"CREATE OR REPLACE {'TEMP ' if temp else ''}VIEW events AS "
            f"SELECT {cols} FROM read_parquet({glob}, union_by_name = true)"
            + (f" WHERE time >= {schema.sql_text(since)}::TIMESTAMPTZ" if since is not None else ""))


def has_legacy_table(con: duckdb.DuckDBPyConnection) -> bool:
    """Whether the store still keeps its events in a DuckDB table (written before segments)."""
    return con.execute("SELECT count(*) FROM duckdb_tables() WHERE database_name = current_database() "
                       "AND schema_name = 'main' AND table_name = 'events'").fetchall()[0][0] > 0


def migrate_table(con: duckdb.DuckDBPyConnection, ws: Workspace) -> bool:
    """Move the events of a store written before segments (a DuckDB table) into a segment, once.
    The segment is written before the table is dropped; a crash in between is finished on next open."""
    if not has_legacy_table(con):
        return False
    target = folder(ws) / LEGACY_SEGMENT
    if not target.exists():
        folder(ws).mkdir(parents=True, exist_ok=True)
        tmp = _tmp_for(target)
        con.execute(f"COPY (SELECT * FROM main.events) TO {schema.sql_text(str(tmp))} "
                    f"(FORMAT parquet, COMPRESSION {COMPRESSION}, ROW_GROUP_SIZE {ROW_GROUP_ROWS})")
        sync_rename(tmp, target)
    con.execute("DROP VIEW IF EXISTS main.event_entities")
    con.execute("DROP TABLE main.events")
    return True


# Ids, times, positions and byte counts hardly repeat, so a dictionary for them is built only to be
# dropped when it overflows (12% of the writing time, and larger files); every other column keeps one
# (user agents, referrers and URLs repeat a lot, and DuckDB evaluates a filter once per dictionary
# entry). Free text varies in every row, so the min/max of a row group prunes nothing there.
_UNIQUE = {"event_id", "time", "source_line", "source_offset", "bytes_in", "bytes_out", "duration"}
_FREE_TEXT = {"message", "attributes", "command_line", "query", "url_query", "referrer", "user_agent"}
_WRITE_OPTIONS = {
    "compression": COMPRESSION,
    "use_dictionary": [c.name for c in schema.EVENT_COLUMNS if c.name not in _UNIQUE],
    "write_statistics": [c.name for c in schema.EVENT_COLUMNS if c.name not in _FREE_TEXT],
}


def _tmp_for(target: Path) -> Path:
    """The hidden name a segment is written under before it is renamed to `target` (never globbed)."""
    return target.parent / f".{target.name}.{secrets.token_hex(4)}.tmp"


def _write(where: Path, table: pa.Table, name: str) -> Path:
    where.mkdir(parents=True, exist_ok=True)
    target = where / name
    tmp = _tmp_for(target)
    pq.write_table(table, tmp, row_group_size=ROW_GROUP_ROWS, **_WRITE_OPTIONS)
    sync_rename(tmp, target)
    return target


def sync_rename(tmp: Path, target: Path) -> None:
    """Make the file durable, then visible: a segment is never seen half-written."""
    fd = os.open(tmp, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)
    os.replace(tmp, target)
    try:
        fd = os.open(target.parent, os.O_RDONLY)
    except OSError:  # some platforms cannot open folders; the rename itself is still atomic
        return
    try:
        os.fsync(fd)
    finally:
        os.close(fd)
