"""Ingest health: a source that stops or drops is flagged against its own days; the rest read as usual."""

from __future__ import annotations

from datetime import datetime, timedelta, timezone

import duckdb

from storewatch.store.health import judge, source_health

NOW = datetime(2026, 11, 20, 12, 0, tzinfo=timezone.utc)


def _store(rows: list[tuple[str, datetime, int]], files: list[tuple[str, int, int]]) -> duckdb.DuckDBPyConnection:
    con = duckdb.connect()
    con.execute("SET TimeZone = 'UTC'")
    con.execute("CREATE TABLE events (source_format VARCHAR, time TIMESTAMPTZ)")
    for source, start, count in rows:  # `count` events an hour for the day starting at `start`
        con.executemany("INSERT INTO events VALUES (?, ?)",
                        [(source, start + timedelta(minutes=60 * h + m)) for h in range(24) for m in range(count)])
    con.execute("CREATE TABLE ingest_files (source_format VARCHAR, stored BIGINT, quarantined BIGINT)")
    if files:
        con.executemany("INSERT INTO ingest_files VALUES (?, ?, ?)", files)
    return con


def test_a_stopped_source_is_silent_a_dropped_one_low_the_steady_ok():
    day = timedelta(days=1)
    start = NOW - 3 * day
    rows = [(s, start + d * day, 4) for s in ("nginx", "auth0") for d in range(3)]  # steady, to the present
    rows += [("poslog", start - day, 4), ("poslog", start, 4)]  # stopped two days ago
    rows += [("stripe", start, 8), ("stripe", start + day, 8), ("stripe", start + 2 * day, 1)]  # dropped to an eighth
    con = _store(rows, [("nginx", 288, 0), ("shopify+document", 0, 5), ("auth0", 270, 30)])
    health = source_health(con, now=NOW)
    by = {r["source"]: r for r in health["sources"]}
    assert by["poslog"]["state"] == "silent" and by["poslog"]["today"] == 0
    assert by["stripe"]["state"] == "low" and 0.1 < by["stripe"]["ratio"] < 0.25  # days cut at the present
    assert by["nginx"]["state"] == "ok" and by["nginx"]["today"] == 96 and 90 < by["nginx"]["usual"] <= 96
    assert by["auth0"]["quarantine_rate"] == 0.1
    assert by["shopify"]["state"] == "refused" and by["shopify"]["quarantine_rate"] == 1.0
    assert [r["source"] for r in health["sources"]][:2] == ["poslog", "shopify"]  # the troubled first


def test_judge_thresholds():
    present = NOW
    assert judge(present, 100, [100, 110, 90], present) == ("ok", 1.0)
    assert judge(present, 20, [100, 110, 90], present)[0] == "low"
    assert judge(present - timedelta(hours=7), 100, [100], present)[0] == "silent"
    assert judge(present, 5, [], present) == ("new", None)  # nothing to compare with yet: not alarming


def test_an_empty_store_has_no_sources():
    assert source_health(_store([], []), now=NOW) == {"present": None, "sources": []}
