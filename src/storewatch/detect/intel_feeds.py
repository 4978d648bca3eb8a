"""Keep threat intel current: pull the workspace's feeds, store what changed, and retro-hunt.

A pull fetches every feed first (network I/O before the store is opened), then applies each to the intel
table in one transaction: indicators the producer revoked are removed, a newer `modified` version of an
indicator replaces the rows of the older one, a block list (a full list each time) loses the entries it no
longer carries, and new rows get `added_at` (now) and `match_from` (now minus the retro-hunt window,
setting `intel.retro_days`, default 30). When anything new arrived, detection and correlation run again
(`storewatch.detect.engine.detect`, the normal path), so a new indicator raises alerts and incidents on
the events of the window it was published too late for, not only on events still to come.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from datetime import datetime, timedelta, timezone
from typing import Optional

import duckdb
import pyarrow as pa

from storewatch.detect.engine import DetectReport, detect
from storewatch.ingest.feeds import Feed, FeedError, Fetched, fetch, load
from storewatch.store import db, reader
from storewatch.workspace import Workspace

RETRO_DAYS = "30"


@dataclass
class PullReport:
    feed: str
    status: str  # ok | failed
    added: int = 0  # indicator rows new to the store (retro-hunted)
    updated: int = 0  # rows of a newer version of a known indicator
    removed: int = 0  # revoked, replaced or no longer listed
    total: int = 0  # the feed's rows in the store afterwards
    notes: list[str] = field(default_factory=list)
    detail: str = ""

    def as_dict(self) -> dict:
        return asdict(self)


def state(ws: Workspace) -> dict[str, dict]:
    """Each feed's last pull (time, cursor, status, counts), from the read snapshot."""
    with reader.opened(ws) as con:
        cur = con.execute("SELECT * FROM intel_feed_state")
        names = [d[0] for d in cur.description]
        return {row[0]: dict(zip(names, row)) for row in cur.fetchall()}


def due_pulls(ws: Workspace, now: Optional[datetime] = None) -> list[str]:
    """Feeds whose interval has passed since their last pull (or never pulled): what a monitor pulls next."""
    now = now or datetime.now(timezone.utc)
    last = state(ws)
    return [name for name, feed in load(ws).items()
            if last.get(name, {}).get("last_pulled") is None
            or last[name]["last_pulled"] + timedelta(seconds=feed.interval) <= now]


def pull(ws: Workspace, names: Optional[list[str]] = None, now: Optional[datetime] = None,
         hunt: bool = True) -> tuple[list[PullReport], Optional[DetectReport]]:
    """Pull the named feeds (all without names); retro-hunt through `detect` when indicators were added or
    changed. Returns a report per feed and the detection run's report (None when nothing changed)."""
    feeds = load(ws)
    unknown = [n for n in names or [] if n not in feeds]
    if unknown:
        raise FeedError(f"no feed named {', '.join(unknown)}: see `storewatch intel feeds list`")
    chosen = [feeds[n] for n in (names or list(feeds))]
    now = now or datetime.now(timezone.utc)
    window = timedelta(days=int(ws.setting("intel.retro_days", RETRO_DAYS)))
    cursors = {n: s.get("cursor") for n, s in state(ws).items()}
    fetched: list[tuple[Feed, Fetched | FeedError]] = []
    for feed in chosen:
        try:
            fetched.append((feed, fetch(ws, feed, cursors.get(feed.name))))
        except FeedError as exc:
            fetched.append((feed, exc))
    reports = []
    with db.opened(ws) as con:
        for feed, got in fetched:
            if isinstance(got, FeedError):
                report = PullReport(feed.name, "failed", detail=str(got))
            else:
                report = apply(con, feed, got, now, now - window)
            _save_state(con, feed.name, now, None if isinstance(got, FeedError) else got.cursor, report)
            reports.append(report)
    changed = any(r.added or r.updated or r.removed for r in reports)
    return reports, detect(ws) if hunt and changed else None


def apply(con: duckdb.DuckDBPyConnection, feed: Feed, got: Fetched, now: datetime, match_from: datetime) -> PullReport:
    """Store one feed's fetch in one transaction (see the module docstring); returns what changed."""
    report = PullReport(feed.name, "ok", notes=got.notes)
    con.execute("BEGIN")
    try:
        prior = con.sql("SELECT indicator_id, min(added_at) AS added_at, min(match_from) AS match_from "
                        "FROM intel WHERE source = $source GROUP BY 1", params={"source": feed.name}).to_arrow_table()
        if got.revoked:
            report.removed += _changed(con, "DELETE FROM intel WHERE source = ? AND list_contains(?, indicator_id)",
                                       [feed.name, got.revoked])
        if got.rows:
            with db.registered(con, _incoming=pa.Table.from_pylist(got.rows), _prior=prior):
                removed, inserted = _merge(con, feed.name, got.complete, now, match_from)
            report.removed += removed
            report.added = con.execute("SELECT count(*) FROM intel WHERE source = ? AND added_at = ?",
                                       [feed.name, now]).fetchone()[0]
            report.updated = inserted - report.added
        elif got.complete:  # an empty list: nothing is listed any more
            report.removed += _changed(con, "DELETE FROM intel WHERE source = ?", [feed.name])
        report.total = con.execute("SELECT count(*) FROM intel WHERE source = ?", [feed.name]).fetchone()[0]
        con.execute("COMMIT")
    except Exception:
        con.execute("ROLLBACK")
        raise
    return report


def _changed(con: duckdb.DuckDBPyConnection, sql: str, params: list) -> int:
    """Rows a DELETE or INSERT changed (DuckDB answers it as the statement's one result row)."""
    return con.execute(sql, params).fetchone()[0]


def _merge(con: duckdb.DuckDBPyConnection, source: str, complete: bool, now: datetime,
           match_from: datetime) -> tuple[int, int]:
    """Out: rows of a version older than the one arriving, and (full lists) what is no longer listed.
    In: rows not stored yet, unless a newer version of their indicator is; a replaced indicator keeps when
    it was first added and its retro-hunt start. Returns (rows removed, rows inserted)."""
    removed = _changed(con, """
        DELETE FROM intel i USING (SELECT indicator_id, max(modified) AS m FROM _incoming GROUP BY 1) n
        WHERE i.source = ? AND i.indicator_id = n.indicator_id AND n.m IS NOT NULL
          AND (i.modified IS NULL OR i.modified < n.m)""", [source])
    if complete:
        removed += _changed(con, "DELETE FROM intel WHERE source = ? AND indicator_id NOT IN "
                                 "(SELECT indicator_id FROM _incoming)", [source])
    inserted = _changed(con, """
        INSERT INTO intel BY NAME
        SELECT DISTINCT n.* REPLACE (coalesce(p.added_at, ?::TIMESTAMPTZ) AS added_at,
                                     coalesce(p.match_from, ?::TIMESTAMPTZ) AS match_from)
        FROM _incoming n LEFT JOIN _prior p USING (indicator_id)
        WHERE NOT EXISTS (SELECT 1 FROM intel i WHERE i.source = ? AND i.indicator_id = n.indicator_id
                            AND ((i.ioc_type = n.ioc_type AND i.value = n.value) OR i.modified > n.modified))""",
                        [now, match_from, source])
    return removed, inserted


def _save_state(con: duckdb.DuckDBPyConnection, feed: str, now: datetime, cursor: str | None, report: PullReport) -> None:
    con.execute("""
        INSERT OR REPLACE INTO intel_feed_state
        SELECT ?, ?, coalesce(?, (SELECT cursor FROM intel_feed_state WHERE feed = ?)), ?, ?, ?, ?, ?""",
                [feed, now, cursor, feed, report.status, report.detail or "; ".join(report.notes[:3]),
                 report.added, report.removed, report.total])
