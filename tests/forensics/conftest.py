"""Incidents to reconstruct: a small simulated estate with the admin and SSH brute forces, and hand-made stores.

Alerts are written directly from the simulator's labels and correlated, so these tests do not depend on which
detections exist: they check the forensics, given an incident.
"""

from __future__ import annotations

import itertools
import time
from dataclasses import dataclass
from datetime import datetime, timedelta, timezone
from pathlib import Path

import orjson
import pyarrow as pa
import pytest

from storewatch.correlate.incidents import correlate
from storewatch.evaluate import read_labels
from storewatch.ingest.engine import ingest
from storewatch.simulate import simulate
from storewatch.store import db, schema
from storewatch.workspace import Workspace

_ids = itertools.count()


def add_alert(con, entities: list[tuple[str, str]], first: datetime, last: datetime, scenario: str,
              event_ids: list[str] | None = None, severity: str = "high") -> None:
    """One alert as a detection would write it; call `correlate` afterwards."""
    con.execute("""INSERT INTO alerts (alert_id, rule_id, kind, title, scenario, severity, confidence, first_seen,
                       last_seen, event_count, entities, evidence, event_ids, attack, channel, summary, detected_at)
                   VALUES (?, 'test.' || ?, 'test', 'Test alert: ' || ?, ?, ?, 1.0, ?, ?, ?, ?, '{}', ?, [], NULL,
                           ?, now())""",
                [f"alert-{next(_ids)}", scenario, scenario, scenario, severity, first, last, len(event_ids or []),
                 [{"type": t, "value": v} for t, v in entities], event_ids or [], f"{scenario} test alert"])


def add_events(con, rows: list[dict]) -> None:
    """Events with only the given columns set (event_id generated when absent)."""
    full = [{c: r.get(c) for c in schema.COLUMN_NAMES} | {"event_id": r.get("event_id") or f"ev-{next(_ids)}"}
            for r in rows]
    db.append_events(con, pa.Table.from_pylist(full))


def incident_with(con, entity: tuple[str, str]) -> str:
    """The id of the incident naming this entity."""
    rows = con.execute("SELECT incident_id FROM incidents WHERE list_contains(entities, {'type': ?, 'value': ?})",
                       list(entity)).fetchall()
    assert len(rows) == 1, rows
    return rows[0][0]


@dataclass
class Case:
    incident_id: str
    ip: str
    user: str
    first_fail: datetime
    success: datetime


@dataclass
class Estate:
    raw: Path
    ws: Workspace
    admin: Case
    ssh: Case


def _case(con, label: dict, fail_sql: str, ok_sql: str, extra: list[tuple[str, str]]) -> Case:
    """Alert on the label's attacker IP from its first failure to its first success, like a detection would."""
    ip = next(e["value"] for e in label["entities"] if e["type"] == "ip")
    user = next(e["value"] for e in label["entities"] if e["type"] == "user")
    fails = con.execute(f"SELECT event_id, time FROM events WHERE src_ip = ? AND {fail_sql} ORDER BY time", [ip]).fetchall()
    ok = con.execute(f"SELECT min(time) FROM events WHERE src_ip = ? AND {ok_sql}", [ip]).fetchone()[0]
    add_alert(con, [("ip", ip), *extra], fails[0][1], ok, label["scenario"], [f[0] for f in fails[:20]], "critical")
    return Case("", ip, user, fails[0][1], ok)


@pytest.fixture(scope="session")
def estate(tmp_path_factory) -> Estate:
    root = tmp_path_factory.mktemp("forensics")
    simulate(root / "raw", days=1, scale=0.05, seed=7)
    ws = Workspace.at(root / "ws")
    ingest([root / "raw"], ws)
    labels = {lb["scenario"]: lb for lb in read_labels(root / "raw" / "labels.jsonl")}
    with db.opened(ws) as con:
        admin = _case(con, labels["admin_bruteforce"], "http_status = 401", "http_status = 302", [])
        host = next(e["value"] for e in labels["ssh_bruteforce"]["entities"] if e["type"] == "host")
        ssh = _case(con, labels["ssh_bruteforce"], "class_name = 'Authentication' AND outcome = 'failure'",
                       "class_name = 'Authentication' AND outcome = 'success'", [("host", host)])
        correlate(con, now=time.time())
        admin.incident_id = incident_with(con, ("ip", admin.ip))
        ssh.incident_id = incident_with(con, ("ip", ssh.ip))
    return Estate(root / "raw", ws, admin, ssh)


T0 = datetime(2026, 3, 2, 10, 0, tzinfo=timezone.utc)


def at(minutes: float) -> datetime:
    return T0 + timedelta(minutes=minutes)


@pytest.fixture
def small(tmp_path: Path):
    """A hand-made store: pass event rows, the alert's entities, span (minutes after T0) and evidence event ids;
    get the workspace and the incident id."""

    def _build(events: list[dict], entities: list[tuple[str, str]], first: float, last: float,
               evidence: list[str] | None = None) -> tuple[Workspace, str]:
        ws = Workspace.at(tmp_path / f"ws{next(_ids)}")
        with db.opened(ws) as con:
            add_events(con, [{"attributes": orjson.dumps({}).decode(), **e} for e in events])
            add_alert(con, entities, at(first), at(last), "test_scenario", evidence)
            correlate(con, now=time.time())
            return ws, incident_with(con, entities[0])

    return _build
