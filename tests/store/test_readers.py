"""Readers read snapshots and never touch the store; writers publish what they committed."""

from __future__ import annotations

import hashlib
import shutil
from pathlib import Path

import pytest

from storewatch.correlate.queries import get_incident, list_incidents
from storewatch.ingest.engine import ingest
from storewatch.learn.feedback import record_feedback
from storewatch.respond import engine as respond
from storewatch.store import db, reader, snapshot
from storewatch.store.summary import store_summary
from storewatch.workspace import Workspace
from tests.report.support import ATTACKER
from tests.web.conftest import fresh_ws, hostile_ws  # noqa: F401 (fixtures)


@pytest.fixture
def ws(fresh_ws) -> Workspace:
    """The dashboard tests' hostile workspace (three incidents over a real nginx log), a private copy."""
    return fresh_ws


def fingerprint(home: Path) -> dict[str, tuple[str, int]]:
    """Every file under the workspace with its content hash and modification time."""
    return {str(p.relative_to(home)): (hashlib.sha256(p.read_bytes()).hexdigest(), p.stat().st_mtime_ns)
            for p in sorted(home.rglob("*")) if p.is_file()}


def read_everything(ws: Workspace) -> dict:
    """What the read-only commands and the dashboard read, through a reader."""
    with reader.opened(ws) as con:
        rows = list_incidents(con)
        detail = get_incident(con, rows[0]["id"])
        summary = store_summary(con)
        events = con.execute("SELECT count(*) FROM events WHERE src_ip = ?", [ATTACKER]).fetchall()[0][0]
    return {"rows": rows, "detail": detail, "summary": summary, "events": events,
            "actions": respond.actions(ws)}  # creates its table in the reader's memory when the store lacks it


def test_readers_leave_every_file_of_the_store_as_it_was(ws):
    before = fingerprint(ws.home)
    seen = read_everything(ws)
    assert fingerprint(ws.home) == before
    assert [r["scenario"] for r in seen["rows"]] == ["admin_bruteforce", "card_testing", "sweethearting"]
    assert seen["detail"]["alert_details"][0]["rule_id"] == "test.hostile"
    assert seen["events"] == 6 and seen["actions"] == []
    assert {s["source_format"] for s in seen["summary"]["by_source"]} == {"nginx"}


def test_a_store_from_before_snapshots_is_read_in_place_and_left_alone(ws):
    shutil.rmtree(snapshot.folder(ws))
    before = fingerprint(ws.home)
    seen = read_everything(ws)
    assert fingerprint(ws.home) == before and not snapshot.folder(ws).exists()
    assert [r["scenario"] for r in seen["rows"]] == ["admin_bruteforce", "card_testing", "sweethearting"]


def test_a_new_workspace_reads_as_empty_and_stays_empty(tmp_path):
    ws = Workspace.at(tmp_path / "new")
    with reader.opened(ws) as con:
        assert list_incidents(con) == []
        assert con.execute("SELECT count(*) FROM events").fetchall() == [(0,)]
    assert list(ws.home.iterdir()) == []


def test_a_reader_keeps_its_snapshot_and_the_next_one_sees_the_commit(ws):
    target = next(r["id"] for r in read_everything(ws)["rows"] if r["scenario"] == "card_testing")
    with reader.opened(ws) as before:
        record_feedback(ws, target, "true_positive", actor="analyst")
        assert get_incident(before, target)["status"] != "resolved"  # one consistent state, not a mix
    with reader.opened(ws) as after:
        assert (get_incident(after, target)["status"], get_incident(after, target)["resolution"]) == ("resolved", "true_positive")
        assert after.execute("SELECT verdict, actor FROM feedback").fetchall() == [("true_positive", "analyst")]


def test_a_writer_runs_while_readers_are_open_and_publishes_its_run(ws, tmp_path):
    log = tmp_path / "more.log"
    log.write_text('198.51.100.7 - - [17/Nov/2026:09:00:00 +0000] "GET /cart HTTP/1.1" 200 512 "-" "curl/8"\n')
    readers = reader.Readers(ws)
    with readers.reading() as held, reader.opened(ws) as other:
        report = ingest([log], ws)  # would be refused with "store in use" if a reader held the store
        assert report.totals["stored"] == 1
        assert held.execute("SELECT count(*) FROM ingest_runs").fetchall() == [(1,)]
    with readers.reading() as fresh:
        assert fresh.execute("SELECT count(*) FROM ingest_runs").fetchall() == [(2,)]
        assert fresh.execute("SELECT count(*) FROM events WHERE src_ip = '198.51.100.7'").fetchall() == [(1,)]
    assert len(snapshot.files(ws)) == snapshot.KEEP


def test_publishing_replaces_older_snapshots_atomically(ws):
    with db.opened(ws) as con:
        published = [snapshot.publish(con, ws) for _ in range(3)]
    names = [p.name for p in snapshot.files(ws)]
    assert len(names) == snapshot.KEEP and names == sorted(names)
    assert names[0] == published[-1].name  # the close of the block published the newest
    assert not [p for p in snapshot.folder(ws).iterdir() if p.name.startswith(".")]
