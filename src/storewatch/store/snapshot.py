"""Read snapshots: copies of the store's tables that readers open while a writer works.

DuckDB lets one process open a database file for writing, or many processes open it read-only, never
both at once. A dashboard or an `incidents` command must not wait for (or stop) an ingest, a detection
or `watch`, so readers never open the store's file: the writer, at each commit point (the end of an
ingest run, of a detection, of any command that wrote), copies the tables into a new DuckDB file under
`<workspace>/snapshots/`, written under a hidden name and renamed into place once complete. Readers take
the newest one (`storewatch.store.reader`). Events are not copied: they are Parquet segments that are
already immutable and renamed into place, read by everyone directly.

The tables of an ordinary estate (scale 1: 18 incidents, 35 alerts, 734 quarantined records) make a
3 MB snapshot written in about 0.1 s; docs/operations.md says more.
"""

from __future__ import annotations

import secrets
import time
from pathlib import Path

import duckdb

from storewatch.store.schema import sql_text
from storewatch.store.segments import sync_rename
from storewatch.workspace import Workspace

FOLDER = "snapshots"
SUFFIX = ".duckdb"
KEEP = 2  # the newest and the one before: a reader that listed the folder a moment ago still finds its file


def folder(ws: Workspace) -> Path:
    return ws.home / FOLDER


def files(ws: Workspace) -> list[Path]:
    """Published snapshots, oldest first (names are the publication time in nanoseconds)."""
    return sorted(folder(ws).glob(f"*{SUFFIX}"))


def latest(ws: Workspace) -> Path | None:
    found = files(ws)
    return found[-1] if found else None


def publish(con: duckdb.DuckDBPyConnection, ws: Workspace) -> Path:
    """Copy the store `con` writes (committed state) into a new snapshot and retire older ones.
    Call it holding the store's write lock (an open read-write connection), outside a transaction."""
    where = folder(ws)
    where.mkdir(parents=True, exist_ok=True)
    for left in where.glob(".*.tmp*"):  # a publication a crash interrupted (and its write-ahead log)
        left.unlink(missing_ok=True)
    target = where / f"{time.time_ns():020d}{SUFFIX}"
    tmp = where / f".{target.name}.{secrets.token_hex(4)}.tmp"
    source = con.execute("SELECT current_database()").fetchone()[0]
    con.execute(f"ATTACH {sql_text(str(tmp))} AS sw_snapshot")
    try:
        con.execute(f'COPY FROM DATABASE "{source}" TO sw_snapshot')
    finally:
        con.execute("DETACH sw_snapshot")
    sync_rename(tmp, target)
    for old in files(ws)[:-KEEP]:
        old.unlink(missing_ok=True)
    return target
