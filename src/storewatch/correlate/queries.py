"""Reading incidents back for people and programs: the list with filters, one incident in full."""

from __future__ import annotations

from datetime import datetime
from typing import Optional

import duckdb
import orjson

from storewatch.business import impact
from storewatch.correlate.incidents import SEVERITY_RANK

LIST_COLUMNS = ("incident_id", "title", "scenario", "severity", "risk_score", "first_seen", "last_seen",
                "entities", "alert_count", "attack", "stores", "channels", "summary", "status", "factors",
                "assignee", "resolution", "duplicate_of", "tags", "created_at", "acknowledged_at", "resolved_at")
# `severity` is what the analyst set it to, when they did (a case's override); the computed one stays beside it.
_SELECT = ", ".join(LIST_COLUMNS).replace("severity,", "coalesce(severity_override, severity) AS severity, "
                                          "severity AS computed_severity,", 1)


def _iso(ts: datetime) -> str:
    return ts.strftime("%Y-%m-%dT%H:%M:%SZ")


def _public(row: dict) -> dict:
    """The JSON shape of the CLI contract: `id`, ISO 8601 UTC times, entities as {type, value}, `alerts` count."""
    out = {"id": row.pop("incident_id"), **row}
    for key in ("first_seen", "last_seen", "created_at", "acknowledged_at", "resolved_at"):
        out[key] = _iso(row[key]) if row.get(key) else None
    out["tags"] = list(row.get("tags") or [])
    out["alerts"] = out.pop("alert_count")
    out["factors"] = orjson.loads(row["factors"]) if row.get("factors") else []
    return out


def list_incidents(
    con: duckdb.DuckDBPyConnection, min_severity: Optional[str] = None, since: Optional[datetime] = None,
    limit: Optional[int] = None,
) -> list[dict]:
    """Incidents ranked by risk (then recency); filters on minimum severity and last activity."""
    rank = SEVERITY_RANK[min_severity] if min_severity else 0
    severities = [s for s, r in SEVERITY_RANK.items() if r >= rank]
    sql = f"SELECT {_SELECT} FROM incidents WHERE list_contains(?, coalesce(severity_override, severity))"
    params: list = [severities]
    if since is not None:
        sql += " AND last_seen >= ?"
        params.append(since)
    sql += " ORDER BY risk_score DESC, last_seen DESC, incident_id"
    if limit:
        sql += f" LIMIT {int(limit)}"
    cur = con.execute(sql, params)
    names = [d[0] for d in cur.description]
    rows = [_public(dict(zip(names, r))) for r in cur.fetchall()]
    impacts = impact.for_incidents(con, [r["id"] for r in rows])
    return [{**r, "impact": impacts[r["id"]]} for r in rows]


def new_incidents(con: duckdb.DuckDBPyConnection, after: Optional[datetime], min_severity: Optional[str] = None,
                  limit: int = 50) -> dict:
    """Incidents created after `after` (oldest first), and `until`, the creation time to ask after next; without
    `after`, none and the newest creation time: what a page open since then has not shown yet."""
    rank = SEVERITY_RANK[min_severity] if min_severity else 0
    severities = [s for s, r in SEVERITY_RANK.items() if r >= rank]
    newest = con.execute("SELECT max(created_at) FROM incidents").fetchone()[0]
    if after is None:
        return {"until": newest.isoformat() if newest else None, "incidents": []}
    cur = con.execute(f"SELECT {_SELECT} FROM incidents WHERE created_at > ? "
                      f"AND list_contains(?, coalesce(severity_override, severity)) "
                      f"ORDER BY created_at, incident_id LIMIT {int(limit)}", [after, severities])
    names = [d[0] for d in cur.description]
    rows = [dict(zip(names, r)) for r in cur.fetchall()]
    until = max([after, *(r["created_at"] for r in rows)])
    return {"until": until.isoformat(), "incidents": [_public(r) for r in rows]}


def get_incident(con: duckdb.DuckDBPyConnection, incident_id: str) -> Optional[dict]:
    """One incident with its alerts and their evidence; accepts a unique id prefix."""
    cur = con.execute(
        f"SELECT {_SELECT} FROM incidents WHERE incident_id ILIKE ? || '%' ORDER BY incident_id",
        [incident_id])
    names = [d[0] for d in cur.description]
    rows = cur.fetchall()
    if len(rows) != 1:
        return None
    incident = _public(dict(zip(names, rows[0])))
    incident["impact"] = impact.for_incidents(con, [incident["id"]])[incident["id"]]
    cur = con.execute("""
        SELECT a.alert_id, a.rule_id, a.kind, a.title, a.scenario, a.severity, a.first_seen, a.last_seen,
               a.event_count, a.entities, a.evidence, a.event_ids, a.attack, a.summary
        FROM alerts a JOIN incident_alerts l USING (alert_id) WHERE l.incident_id = ?
        ORDER BY a.first_seen, a.alert_id""", [incident["id"]])
    names = [d[0] for d in cur.description]
    alerts = []
    for r in cur.fetchall():
        a = dict(zip(names, r))
        a["first_seen"], a["last_seen"] = _iso(a["first_seen"]), _iso(a["last_seen"])
        a["evidence"] = orjson.loads(a["evidence"]) if a["evidence"] else {}
        alerts.append(a)
    incident["alert_details"] = alerts
    return incident
