"""Analyst verdicts on incidents, and the suppressions a confirmed false positive creates.

A false positive suppresses its *pattern*: each of the incident's detections for each entity it named
(rule X on host Y), so the next `detect` stays quiet about exactly that and nothing else. Every verdict
and every suppression goes to the audit log.
"""

from __future__ import annotations

import hashlib
from datetime import datetime, timezone

import duckdb
import pyarrow as pa

from storewatch import audit
from storewatch.ingest.values import ValueScrubber
from storewatch.store import db
from storewatch.workspace import Workspace

VERDICTS = ("true_positive", "benign", "false_positive")  # also the resolutions of a case (storewatch.cases)

class FeedbackError(ValueError):
    """Feedback that cannot be recorded: unknown incident or verdict."""


def record_feedback(ws: Workspace, incident_id: str, verdict: str, actor: str | None = None, note: str = "") -> dict:
    """Store a verdict, set the incident's status and, for a false positive, suppress its pattern."""
    if verdict not in VERDICTS:
        raise FeedbackError(f"verdict must be one of {', '.join(VERDICTS)}, not {verdict!r}")
    actor = actor or audit.default_actor()
    note = ValueScrubber(ws.token_key()).text(note)[0]  # stored and audited: never with a card number in it
    now = datetime.now(timezone.utc)
    with db.opened(ws) as con:
        if not con.execute("SELECT count(*) FROM incidents WHERE incident_id = ?", [incident_id]).fetchall()[0][0]:
            raise FeedbackError(f"no incident {incident_id!r}")
        con.execute("INSERT INTO feedback VALUES (?, ?, ?, ?, ?)", [incident_id, verdict, actor, note, now])
        con.execute("""UPDATE incidents SET status = 'resolved', resolution = ?, duplicate_of = NULL,
                        acknowledged_at = coalesce(acknowledged_at, ?), resolved_at = coalesce(resolved_at, ?),
                        updated_at = ? WHERE incident_id = ?""", [verdict, now, now, now, incident_id])
        patterns = _patterns(con, incident_id) if verdict == "false_positive" else []
        for rule_id, etype, value in patterns:
            con.execute("INSERT OR IGNORE INTO suppressions VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
                        [_suppression_id(rule_id, etype, value), rule_id, etype, value, incident_id, actor, note, now])
    result = {"incident_id": incident_id, "verdict": verdict, "actor": actor,
              "suppressed": [{"rule_id": r, "type": t, "value": v} for r, t, v in patterns]}
    audit.append(ws, f"feedback.{verdict}", {"incident_id": incident_id, "suppressions": len(patterns)},
                 note or "analyst verdict", "recorded", actor=actor)
    return result


def _patterns(con: duckdb.DuckDBPyConnection, incident_id: str) -> list[tuple[str, str, str]]:
    return con.execute("""
        SELECT DISTINCT a.rule_id, e.type, e.value
        FROM alerts a JOIN incident_alerts l USING (alert_id), unnest(a.entities) AS u(e)
        WHERE l.incident_id = ? ORDER BY ALL""", [incident_id]).fetchall()


def _suppression_id(rule_id: str, etype: str, value: str) -> str:
    return hashlib.sha256(f"{rule_id}|{etype}|{value.lower()}".encode()).hexdigest()[:16]


def apply_suppressions(con: duckdb.DuckDBPyConnection, candidates: pa.Table) -> tuple[pa.Table, int]:
    """Drop candidate alerts whose detection is suppressed for any entity they name; returns (kept, dropped)."""
    if not con.execute("SELECT count(*) FROM suppressions").fetchall()[0][0]:
        return candidates, 0
    with db.registered(con, _cands=candidates):
        kept = con.sql("""
            SELECT c.* FROM _cands c
            WHERE NOT EXISTS (
                SELECT 1 FROM suppressions s, unnest(c.entities) AS u(e)
                WHERE s.rule_id = c.rule_id AND s.entity_type = e.type AND lower(s.value) = lower(e.value))
        """).to_arrow_table()
    return kept, candidates.num_rows - kept.num_rows
