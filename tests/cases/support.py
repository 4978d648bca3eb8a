"""A small workspace of hand-made alerts, correlated, for the case tests."""

from __future__ import annotations

import time

import orjson

from storewatch.correlate.incidents import correlate
from storewatch.store import db
from storewatch.workspace import Workspace

# Three incidents: two alerts on one address, one on another address, one on an account.
ALERTS = {
    "a1": ([("ip", "198.51.100.7")], 10, {"failures": 40}),
    "a2": ([("ip", "198.51.100.7"), ("host", "web-1")], 11, {"paths": 12}),
    "b1": ([("ip", "203.0.113.9")], 12, {"failures": 25}),
    "c1": ([("user", "kim")], 13, {"logins": 3}),
}


def add_alert(con, aid: str, entities: list[tuple[str, str]], hour: int, evidence: dict, rule: str = "r.login") -> None:
    first = f"2026-11-16T{hour:02d}:00:00Z"
    con.execute(
        """INSERT OR REPLACE INTO alerts VALUES (?, ?, 'window', ?, 'brute', 'high', 0.9, ?::TIMESTAMPTZ,
           ?::TIMESTAMPTZ + INTERVAL 30 MINUTE, 5, ?::STRUCT(type VARCHAR, value VARCHAR)[], ?::JSON, [], [], NULL,
           'web', ?, now())""",
        [aid, rule, f"Brute force {aid}", first, first, [{"type": t, "value": v} for t, v in entities],
         orjson.dumps(evidence).decode(), f"summary {aid}"])


def build(home) -> Workspace:
    ws = Workspace.at(home)
    with db.opened(ws) as con:
        for aid, (ents, hour, evidence) in ALERTS.items():
            add_alert(con, aid, ents, hour, evidence)
        correlate(con, time.time())
    return ws


def incident_of(ws: Workspace, alert_id: str) -> str:
    with db.opened(ws, read_only=True) as con:
        return con.execute("SELECT incident_id FROM incident_alerts WHERE alert_id = ?", [alert_id]).fetchone()[0]


def row(ws: Workspace, incident_id: str) -> dict:
    with db.opened(ws, read_only=True) as con:
        cur = con.execute("SELECT * FROM incidents WHERE incident_id = ?", [incident_id])
        return dict(zip([d[0] for d in cur.description], cur.fetchone()))


def redetect(ws: Workspace, *extra: tuple) -> None:
    """What `detect` does to incidents: alerts written (new ones, or the same again), then correlation."""
    with db.opened(ws) as con:
        for aid, ents, hour, evidence in extra:
            add_alert(con, aid, ents, hour, evidence)
        correlate(con, time.time())
