"""The `response_actions` table: every planned action and where it stands, so an action is done once,
a failed one can be retried, and rollback and expiry know what was done.

Statuses: planned (dry-run seen or awaiting approval), executed, failed (retryable: run again),
rolled_back, expired. `result` is JSON: `detail` (what happened, credential-free) and `state` (what the
vendor returned that undo needs, e.g. a Stripe item id).
"""

from __future__ import annotations

from datetime import datetime, timezone
from typing import Any

import duckdb
import orjson

DDL = """CREATE TABLE IF NOT EXISTS response_actions (
    action_id VARCHAR PRIMARY KEY, incident_id VARCHAR, playbook VARCHAR, action VARCHAR, adapter VARCHAR,
    target VARCHAR, params JSON, approval_required BOOLEAN, description VARCHAR, ttl_seconds BIGINT,
    status VARCHAR, result JSON, attempts INTEGER, actor VARCHAR, expires_at TIMESTAMPTZ,
    created_at TIMESTAMPTZ, updated_at TIMESTAMPTZ)"""
COLUMNS = ("action_id", "incident_id", "playbook", "action", "adapter", "target", "params", "approval_required",
           "description", "ttl_seconds", "status", "result", "attempts", "actor", "expires_at", "created_at",
           "updated_at")
OPEN = ("planned", "failed")  # statuses an execution may (re)try


def ensure(con: duckdb.DuckDBPyConnection) -> None:
    try:
        con.execute(DDL)
    except duckdb.TransactionException:  # a reader's cursor raced another creating it in their shared memory
        pass


def _row(values: tuple) -> dict[str, Any]:
    row = dict(zip(COLUMNS, values))
    row["params"] = orjson.loads(row["params"]) if row["params"] else {}
    row["result"] = orjson.loads(row["result"]) if row["result"] else {}
    return row


def save_planned(con: duckdb.DuckDBPyConnection, rows: list[dict[str, Any]]) -> None:
    """Record planned actions; an action not yet carried out takes the latest plan's details, one
    carried out, rolled back or expired keeps its history."""
    ensure(con)
    now = datetime.now(timezone.utc)
    for r in rows:
        con.execute("""
            INSERT INTO response_actions VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, 'planned', NULL, 0, NULL, ?, ?, ?)
            ON CONFLICT (action_id) DO UPDATE SET playbook = excluded.playbook, params = excluded.params,
                approval_required = excluded.approval_required, description = excluded.description,
                ttl_seconds = excluded.ttl_seconds, expires_at = excluded.expires_at, updated_at = excluded.updated_at
            WHERE response_actions.status IN ('planned', 'failed')""",
                    [r["action_id"], r["incident_id"], r["playbook"], r["action"], r["adapter"], r["target"],
                     orjson.dumps(r["params"]).decode(), r["approval_required"], r["description"], r["ttl_seconds"],
                     r["expires_at"], now, now])


def get(con: duckdb.DuckDBPyConnection, action_id: str) -> dict[str, Any] | None:
    """One action by id or unique id prefix."""
    ensure(con)
    rows = con.execute(f"SELECT {', '.join(COLUMNS)} FROM response_actions WHERE action_id ILIKE ? || '%'",
                       [action_id]).fetchall()
    return _row(rows[0]) if len(rows) == 1 else None


def listed(con: duckdb.DuckDBPyConnection, incident_id: str | None = None) -> list[dict[str, Any]]:
    ensure(con)
    sql = f"SELECT {', '.join(COLUMNS)} FROM response_actions"
    params: list = []
    if incident_id:
        sql += " WHERE incident_id ILIKE ? || '%'"
        params.append(incident_id)
    return [_row(r) for r in con.execute(sql + " ORDER BY created_at, incident_id, action_id", params).fetchall()]


def due(con: duckdb.DuckDBPyConnection, now: datetime) -> list[dict[str, Any]]:
    """Executed actions whose expiry has passed."""
    ensure(con)
    rows = con.execute(f"SELECT {', '.join(COLUMNS)} FROM response_actions WHERE status = 'executed' "
                       "AND expires_at <= ? ORDER BY expires_at", [now]).fetchall()
    return [_row(r) for r in rows]


def record(con: duckdb.DuckDBPyConnection, action_id: str, status: str, result: dict[str, Any], actor: str,
           attempted: bool = False, expires_at: datetime | None = None) -> None:
    """Store an outcome; `attempted` counts a call to the far side."""
    con.execute("""UPDATE response_actions SET status = ?, result = ?, actor = ?, updated_at = ?,
                   attempts = attempts + ?, expires_at = coalesce(?, expires_at) WHERE action_id = ?""",
                [status, orjson.dumps(result).decode(), actor, datetime.now(timezone.utc), int(attempted),
                 expires_at, action_id])
