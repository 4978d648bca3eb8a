"""The events table as Parquet segments: typed, complete, atomic, and migrated from the old DuckDB table."""

from __future__ import annotations

from datetime import datetime, timezone
from decimal import Decimal
from pathlib import Path

import duckdb
import pyarrow as pa
import pyarrow.parquet as pq

from storewatch.store import db, schema, segments
from storewatch.workspace import Workspace

T = datetime(2026, 11, 16, 9, 30, tzinfo=timezone.utc)


def _event(i: int, **extra) -> dict:
    return {"event_id": f"e{i}", "time": T, "class_name": "Payment", "amount": Decimal("12.50"),
            "attributes": '{"k": [1, 2]}', "src_ip": f"203.0.113.{i}", **extra}


def test_a_new_store_has_an_empty_events_view_with_the_schema_types(tmp_path: Path) -> None:
    with db.opened(Workspace.at(tmp_path)) as con:
        described = con.execute("SELECT column_name, column_type FROM (DESCRIBE events)").fetchall()
        assert con.execute("SELECT count(*) FROM events").fetchall() == [(0,)]
        assert con.execute("SELECT count(*) FROM event_entities").fetchall() == [(0,)]
    expected = [(c.name, {"TIMESTAMPTZ": "TIMESTAMP WITH TIME ZONE"}.get(c.sql_type, c.sql_type)) for c in schema.EVENT_COLUMNS]
    assert described == expected


def test_appended_events_read_back_with_their_values_and_types(tmp_path: Path) -> None:
    ws = Workspace.at(tmp_path)
    with db.opened(ws) as con:
        assert db.append_events(con, pa.Table.from_pylist([_event(1, user_name=None), _event(2, user_name="ana")])) == 2
        rows = con.execute("SELECT event_id, time, amount, attributes->'$.k[1]', user_name, typeof(attributes) "
                           "FROM events ORDER BY event_id").fetchall()
        ents = con.execute("SELECT entity_type, value FROM event_entities WHERE event_id = 'e2' ORDER BY 1").fetchall()
    assert rows == [("e1", T, Decimal("12.50"), "2", None, "JSON"), ("e2", T, Decimal("12.50"), "2", "ana", "JSON")]
    assert ("user", "ana") in ents and ("ip", "203.0.113.2") in ents
    # a second connection, read-only, sees the same events
    with db.opened(ws, read_only=True) as con:
        assert con.execute("SELECT count(*) FROM events").fetchall() == [(2,)]


def test_a_half_written_segment_is_never_read_and_is_cleaned_up(tmp_path: Path) -> None:
    ws = Workspace.at(tmp_path)
    with db.opened(ws) as con:
        db.append_events(con, pa.Table.from_pylist([_event(1)]))
    crashed = segments.folder(ws) / ".00000000000000000009-dead.parquet.beef.tmp"
    crashed.write_bytes(b"PAR1 half a segment")
    with db.opened(ws, read_only=True) as con:  # a reader leaves it alone (a writer may own it) and skips it
        assert con.execute("SELECT count(*) FROM events").fetchall() == [(1,)]
    assert crashed.exists()
    with db.opened(ws) as con:  # the writer, who holds the store's lock, removes it
        assert con.execute("SELECT count(*) FROM events").fetchall() == [(1,)]
    assert not crashed.exists()


def test_segments_written_with_fewer_columns_read_with_nulls(tmp_path: Path) -> None:
    ws = Workspace.at(tmp_path)
    db.connect(ws).close()
    old = pa.table({"event_id": ["old-1"], "time": pa.array([T], pa.timestamp("us", tz="UTC")), "src_ip": ["198.51.100.7"]})
    pq.write_table(old, segments.folder(ws) / "00000000000000000001-old.parquet")
    with db.opened(ws) as con:
        assert con.execute("SELECT event_id, src_ip, user_agent, amount FROM events").fetchall() == [
            ("old-1", "198.51.100.7", None, None)]


def _legacy_store(ws: Workspace, rows: int) -> None:
    """A store as versions before segments wrote it: events in a DuckDB table, a persistent entity view."""
    con = duckdb.connect(str(ws.db_path))
    con.execute(schema.create_table_sql("events"))
    con.execute("INSERT INTO events (event_id, time, src_ip, attributes) SELECT 'ev' || i, TIMESTAMPTZ '2026-11-16 09:30:00Z', "
                "'192.0.2.1', '{\"a\": 1}' FROM range(?) t(i)", [rows])
    con.execute(schema.entities_view_sql(temp=False))
    con.close()


def test_a_store_written_before_segments_is_migrated_once(tmp_path: Path) -> None:
    ws = Workspace.at(tmp_path)
    _legacy_store(ws, 300)
    with db.opened(ws, read_only=True) as con:  # read-only: the old table still serves
        assert con.execute("SELECT count(*) FROM events").fetchall() == [(300,)]
    for _ in range(2):
        with db.opened(ws) as con:
            assert con.execute("SELECT count(*), count(DISTINCT event_id) FROM events").fetchall() == [(300, 300)]
            assert con.execute("SELECT count(*) FROM duckdb_tables() WHERE table_name = 'events'").fetchall() == [(0,)]
            assert con.execute("SELECT count(*) FROM event_entities WHERE entity_type = 'ip'").fetchall() == [(300,)]
            assert con.execute("SELECT DISTINCT attributes->>'a' FROM events").fetchall() == [("1",)]
    assert (segments.folder(ws) / segments.LEGACY_SEGMENT).exists()


def test_a_migration_cut_short_after_writing_the_segment_is_finished_without_duplicates(tmp_path: Path) -> None:
    ws = Workspace.at(tmp_path)
    _legacy_store(ws, 50)
    con = duckdb.connect(str(ws.db_path))
    segments.migrate_table(con, ws)  # the segment is written and the table dropped ...
    con.close()
    _legacy_store(ws, 50)  # ... but say the drop never reached the disk: the table is back
    with db.opened(ws) as con:
        assert con.execute("SELECT count(*) FROM events").fetchall() == [(50,)]


def _segment_files(ws: Workspace) -> list[Path]:
    return sorted(p for p in segments.folder(ws).glob("*.parquet") if "-schema-" not in p.name)


def _many_small_segments(ws: Workspace, count: int, rows: int) -> list[str]:
    ids = []
    with db.opened(ws) as con:
        for s in range(count):
            batch = [_event(s * 1000 + r, event_id=f"s{s:03d}-r{r:03d}") for r in range(rows)]
            db.append_events(con, pa.Table.from_pylist(batch))
            ids += [e["event_id"] for e in batch]
    return ids


def test_small_segments_are_merged_in_order_without_loss_or_duplicates(tmp_path: Path) -> None:
    ws = Workspace.at(tmp_path)
    ids = _many_small_segments(ws, 12, 40)
    assert segments.compact(ws, below_rows=200, when=13) == 0  # not yet enough of them
    assert len(_segment_files(ws)) == 12
    assert segments.compact(ws, below_rows=200, when=12) == 12
    files = _segment_files(ws)
    assert len(files) == 3  # 5 + 5 + 2 segments of 40 events, none above 200
    with db.opened(ws) as con:
        stored = [r[0] for r in con.execute("SELECT event_id FROM read_parquet(?, filename = true) "
                                            "ORDER BY filename, file_row_number",
                                            [[str(f) for f in files]]).fetchall()]
        assert con.execute("SELECT count(*), count(DISTINCT event_id) FROM events").fetchall() == [(480, 480)]
    assert stored == ids


def test_a_compaction_cut_short_before_deleting_the_merged_segments_is_finished(tmp_path: Path, monkeypatch) -> None:
    ws = Workspace.at(tmp_path)
    _many_small_segments(ws, 6, 10)
    with monkeypatch.context() as m:
        m.setattr(segments, "_drop_replaced", lambda merged: None)  # the crash: merged, not yet deleted
        segments.compact(ws, below_rows=1000, when=2)
    with db.opened(ws, read_only=True) as con:  # (a reader meanwhile sees both)
        assert con.execute("SELECT count(*) FROM events").fetchall() == [(120,)]
    with db.opened(ws) as con:  # the next writer finishes the job
        assert con.execute("SELECT count(*), count(DISTINCT event_id) FROM events").fetchall() == [(60, 60)]
    assert len(_segment_files(ws)) == 1


def test_the_appender_shows_a_segment_once_it_is_full_or_closed_and_drops_it_on_abort(tmp_path: Path) -> None:
    ws = Workspace.at(tmp_path)
    db.connect(ws).close()

    def batch(start: int) -> pa.Table:
        return segments.conform(pa.Table.from_pylist([_event(start + i, event_id=f"a{start + i}") for i in range(60)]))

    def stored() -> int:
        with db.opened(ws, read_only=True) as con:
            return con.execute("SELECT count(*) FROM events").fetchall()[0][0]

    appender = segments.Appender(ws, rows=100)
    appender.write(batch(0))
    assert stored() == 0  # still being written
    appender.write(batch(60))
    assert stored() == 120 and len(segments.files(ws)) == 1  # full: visible
    appender.write(batch(120))
    assert stored() == 120
    appender.close()
    assert stored() == 180 and len(segments.files(ws)) == 2
    appender.write(batch(180))
    appender.abort()
    assert stored() == 180 and not list(segments.folder(ws).glob(".*.tmp"))
