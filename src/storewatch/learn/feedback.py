"""Analyst verdicts on incidents and on single alerts, and the suppressions a false positive creates.

Verdicts: true_positive, benign (a benign true positive: real, but expected, such as a new ETL job) and
false_positive. They feed the detections' scorecard (learn/scorecard.py). A false positive suppresses its
*pattern*: each of the incident's (or the one alert's) detections for each entity it named (rule X on host
Y), so the next `detect` stays quiet about exactly that and nothing else; those suppressions are listed and
removed as exceptions (learn/exceptions.py). Every verdict and every suppression goes to the audit log.
"""

from __future__ import annotations

import hashlib
from datetime import datetime, timezone

import duckdb
import pyarrow as pa
import pyarrow.compute as pc

from storewatch import audit
from storewatch.ingest.values import ValueScrubber
from storewatch.store import db
from storewatch.workspace import Workspace

VERDICTS = ("true_positive", "benign", "false_positive")  # also the resolutions of a case (storewatch.cases)
SUPPRESSION_PREFIX = "fp-"  # the exception id a suppression is listed under

class FeedbackError(ValueError):
    """Feedback that cannot be recorded: unknown incident or verdict."""


def record_feedback(ws: Workspace, incident_id: str, verdict: str, actor: str | None = None, note: str = "",
                    alert_id: str | None = None) -> dict:
    """Store a verdict on an incident (or on one of its alerts, `alert_id`), set the incident's status for an
    incident-level verdict and, for a false positive, suppress its pattern."""
    if verdict not in VERDICTS:
        raise FeedbackError(f"verdict must be one of {', '.join(VERDICTS)}, not {verdict!r}")
    actor = actor or audit.default_actor()
    note = ValueScrubber(ws.token_key()).text(note)[0]  # stored and audited: never with a card number in it
    now = datetime.now(timezone.utc)
    with db.opened(ws) as con:
        if not con.execute("SELECT count(*) FROM incidents WHERE incident_id = ?", [incident_id]).fetchall()[0][0]:
            raise FeedbackError(f"no incident {incident_id!r}")
        if alert_id is not None and not con.execute(
                "SELECT count(*) FROM incident_alerts WHERE incident_id = ? AND alert_id = ?",
                [incident_id, alert_id]).fetchall()[0][0]:
            raise FeedbackError(f"incident {incident_id} has no alert {alert_id!r}")
        con.execute("""INSERT INTO feedback BY NAME
            SELECT ? AS incident_id, ? AS verdict, ? AS actor, ? AS note, ? AS recorded_at, ? AS alert_id,
                   CASE WHEN ?::VARCHAR IS NULL THEN (SELECT list(alert_id ORDER BY alert_id) FROM incident_alerts
                                                      WHERE incident_id = ?) ELSE [?] END AS alert_ids""",
                    [incident_id, verdict, actor, note, now, alert_id, alert_id, incident_id, alert_id])
        if alert_id is None:  # an incident's verdict resolves its case; an alert's leaves the case as it is
            con.execute("""UPDATE incidents SET status = 'resolved', resolution = ?, duplicate_of = NULL,
                            acknowledged_at = coalesce(acknowledged_at, ?), resolved_at = coalesce(resolved_at, ?),
                            updated_at = ? WHERE incident_id = ?""", [verdict, now, now, now, incident_id])
        patterns = _patterns(con, incident_id, alert_id) if verdict == "false_positive" else []
        for rule_id, etype, value in patterns:
            con.execute("INSERT OR IGNORE INTO suppressions VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
                        [_suppression_id(rule_id, etype, value), rule_id, etype, value, incident_id, actor, note, now])
    result = {"incident_id": incident_id, "alert_id": alert_id, "verdict": verdict, "actor": actor,
              "suppressed": [{"rule_id": r, "type": t, "value": v} for r, t, v in patterns]}
    audit.append(ws, f"feedback.{verdict}", {"incident_id": incident_id, "alert_id": alert_id,
                                             "suppressions": len(patterns)},
                 note or "analyst verdict", "recorded", actor=actor)
    return result


def _patterns(con: duckdb.DuckDBPyConnection, incident_id: str, alert_id: str | None) -> list[tuple[str, str, str]]:
    return con.execute("""
        SELECT DISTINCT a.rule_id, e.type, e.value
        FROM alerts a JOIN incident_alerts l USING (alert_id), unnest(a.entities) AS u(e)
        WHERE l.incident_id = ? AND (?::VARCHAR IS NULL OR a.alert_id = ?) ORDER BY ALL""",
                       [incident_id, alert_id, alert_id]).fetchall()


def _suppression_id(rule_id: str, etype: str, value: str) -> str:
    return hashlib.sha256(f"{rule_id}|{etype}|{value.lower()}".encode()).hexdigest()[:16]


def apply_suppressions(con: duckdb.DuckDBPyConnection, candidates: pa.Table) -> tuple[pa.Table, pa.Table | None]:
    """Split candidate alerts into those kept and those whose detection is suppressed for an entity they name;
    the latter carry `exception_id` (fp-<suppression id>) so they are kept as closed, not lost."""
    if not con.execute("SELECT count(*) FROM suppressions").fetchall()[0][0]:
        return candidates, None
    with db.registered(con, _cands=candidates):
        marked = con.sql(f"""
            SELECT c.*, (SELECT '{SUPPRESSION_PREFIX}' || min(s.suppression_id)
                         FROM suppressions s, unnest(c.entities) AS u(e)
                         WHERE s.rule_id = c.rule_id AND s.entity_type = e.type AND lower(s.value) = lower(e.value))
                        AS exception_id
            FROM _cands c""").to_arrow_table()
    closed = marked.filter(pc.is_valid(marked["exception_id"]))
    kept = marked.filter(pc.is_null(marked["exception_id"])).drop_columns(["exception_id"])
    return kept, closed


def remove_suppression(con: duckdb.DuckDBPyConnection, exception_id: str) -> dict | None:
    """Delete the suppression listed as `exception_id`; returns what it was, or None when there is none."""
    sid = exception_id.removeprefix(SUPPRESSION_PREFIX)
    row = con.execute("SELECT rule_id, entity_type, value, incident_id FROM suppressions WHERE suppression_id = ?",
                      [sid]).fetchall()
    if not exception_id.startswith(SUPPRESSION_PREFIX) or not row:
        return None
    con.execute("DELETE FROM suppressions WHERE suppression_id = ?", [sid])
    return dict(zip(("rule_id", "entity_type", "value", "incident_id"), row[0]))
