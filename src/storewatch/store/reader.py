"""How readers (the dashboard, the API, read-only commands) see the store without touching it.

A reader's connection is an in-memory DuckDB holding a copy of the newest snapshot's tables
(`storewatch.store.snapshot`), with the `events` view over the Parquet segments, the entity view and the
SQL macros. Nothing a reader does reaches a file of the store: the snapshot is attached read-only, copied
and detached at once (a writer may retire it a moment later), and a stage that creates a table it lacks
(the respond stage's `response_actions`) creates it in memory. Events appended after the snapshot show
in the view: events only grow, so every alert and incident of the snapshot still finds its events.

A store written before snapshots, which no writer has opened since, is read the same way from its own
file, attached read-only; if a writer holds it, `StoreBusy` says to retry shortly (its first act is to
publish a snapshot).
"""

from __future__ import annotations

import threading
from contextlib import contextmanager
from pathlib import Path
from typing import Iterator

import duckdb

from storewatch.store import db, schema, segments, snapshot
from storewatch.workspace import Workspace

_ATTEMPTS = 3  # a snapshot retired between listing the folder and attaching it: take the newer one


def connect(ws: Workspace) -> duckdb.DuckDBPyConnection:
    """A private in-memory copy of the newest snapshot, ready for the stages' queries."""
    for attempt in range(_ATTEMPTS):
        path = snapshot.latest(ws)
        try:
            return _open(ws, path)
        except duckdb.IOException as exc:
            if path is None and "lock" in str(exc).lower():
                raise db.StoreBusy(f"The store {ws.db_path} is being written and has no read snapshot yet: "
                                   "retry in a few seconds.") from exc
            if path is None or path.exists() or attempt == _ATTEMPTS - 1:
                raise
    raise AssertionError("unreachable")


@contextmanager
def opened(ws: Workspace) -> Iterator[duckdb.DuckDBPyConnection]:
    con = connect(ws)
    try:
        yield con
    finally:
        con.close()


def _open(ws: Workspace, path: Path | None) -> duckdb.DuckDBPyConnection:
    con = duckdb.connect()
    try:
        con.execute("SET GLOBAL TimeZone = 'UTC'")  # GLOBAL: every cursor of this database too
        con.execute("SET GLOBAL parquet_metadata_cache = true")
        source = path or (ws.db_path if ws.db_path.exists() else None)
        legacy = source is not None and _copy_tables(con, source)
        db.migrate(con)  # a snapshot of an older version may lack a table or column; a new workspace has none
        db.define_macros(con, temp=False)
        if not legacy:
            # (the view needs a file to read columns from: a workspace no writer opened yet has none)
            has_files = any(segments.folder(ws).glob("*.parquet"))
            con.execute(segments.view_sql(ws, temp=False) if has_files else schema.create_table_sql("events"))
        con.execute(schema.entities_view_sql(temp=False))
    except BaseException:
        con.close()
        raise
    return con


def _copy_tables(con: duckdb.DuckDBPyConnection, source: Path) -> bool:
    """Copy every table of `source` but a legacy `events` table into memory, which stays attached and is
    read through a view instead (too large to copy). Returns whether there was one."""
    con.execute(f"ATTACH {schema.sql_text(str(source))} AS sw_source (READ_ONLY)")
    tables = [t for (t,) in con.execute("SELECT table_name FROM duckdb_tables() WHERE database_name = 'sw_source' "
                                        "AND schema_name = 'main'").fetchall()]
    for table in tables:
        if table != "events":
            con.execute(f'CREATE TABLE "{table}" AS SELECT * FROM sw_source.main."{table}"')
    if "events" in tables:
        con.execute("CREATE VIEW events AS SELECT * FROM sw_source.main.events")
        return True
    con.execute("DETACH sw_source")
    return False


class Readers:
    """A long-running process's reads (the dashboard's): the in-memory copy of the newest snapshot is
    made once per snapshot and shared; each read takes a cursor of it (a connection of its own, safe on
    its own thread), so a read costs its query and nothing more."""

    def __init__(self, ws: Workspace):
        self._ws = ws
        self._lock = threading.Lock()
        self._path: Path | None = None
        self._con: duckdb.DuckDBPyConnection | None = None

    def cursor(self) -> duckdb.DuckDBPyConnection:
        path = snapshot.latest(self._ws)
        with self._lock:
            if self._con is None or path != self._path:
                # The previous copy is not closed: cursors still reading it keep it alive until they finish.
                self._con, self._path = connect(self._ws), path
            return self._con.cursor()

    @contextmanager
    def reading(self) -> Iterator[duckdb.DuckDBPyConnection]:
        cur = self.cursor()
        try:
            yield cur
        finally:
            cur.close()
