"""Reading a case back: the incident with its thread, attachments, history and SLA clocks; the figures."""

from __future__ import annotations

from datetime import datetime, timezone
from typing import Optional

import duckdb
import orjson

from storewatch.cases import sla
from storewatch.cases.changes import verify_attachments
from storewatch.cases.lifecycle import CaseError
from storewatch.correlate import queries
from storewatch.store import db
from storewatch.workspace import Workspace


def case(ws: Workspace, con: duckdb.DuckDBPyConnection, incident_id: str, now: Optional[datetime] = None) -> dict:
    """The incident (as `storewatch incident --json` gives it) with `comments`, `attachments` (each
    checked against its SHA-256), `history` (oldest first) and `sla` clocks."""
    found = queries.get_incident(con, incident_id)
    if found is None:
        raise CaseError(f"no single incident matches {incident_id!r}")
    full = found["id"]
    found["comments"] = db.dicts(con, "SELECT comment_id, author, body, created_at FROM case_comments "
                                   "WHERE incident_id = ? ORDER BY created_at, comment_id", [full])
    found["attachments"] = verify_attachments(ws, con, full)
    found["history"] = db.dicts(con, "SELECT changed_at, actor, change, detail FROM case_history "
                                  "WHERE incident_id = ? ORDER BY changed_at", [full])
    for entry in found["history"]:
        entry["detail"] = orjson.loads(entry["detail"]) if entry["detail"] else {}
    found["sla"] = sla.clocks(found, now or datetime.now(timezone.utc), sla.targets(ws))
    return found


def stats(ws: Workspace, con: duckdb.DuckDBPyConnection, now: Optional[datetime] = None) -> dict:
    """Counts, MTTD / MTTA / MTTR and breached clocks over every incident, and the targets used."""
    chosen = sla.targets(ws)
    figures = sla.stats(queries.list_incidents(con), now or datetime.now(timezone.utc), chosen)
    figures["targets_seconds"] = {clock: {sev: t.total_seconds() for sev, t in per.items()}
                                  for clock, per in chosen.items()}
    return figures
