"""What an action acts on: the incident's entities of the step's types, checked and normalized
(`storewatch.respond.values`), filtered and capped.

Orders are not incident entities; they are found through the incident's evidence (order ids on its
alerts' events) and the orders its customers placed while it was active.
"""

from __future__ import annotations

import ipaddress
import re
from datetime import datetime, timedelta
from typing import Any, Mapping

import duckdb

from storewatch.respond.playbook import Step
from storewatch.respond.values import CHECKS, valid_ip

ORDER_WINDOW_AFTER = timedelta(hours=1)


def _orders(con: duckdb.DuckDBPyConnection, incident: Mapping[str, Any]) -> list[str]:
    """Order ids on the incident's evidence, then orders by its customers while it was active."""
    event_ids = [e for a in incident["alert_details"] for e in (a.get("event_ids") or [])]
    people = [e["value"] for e in incident["entities"] if e["type"] in ("email", "user")]
    first = datetime.fromisoformat(incident["first_seen"].replace("Z", "+00:00"))
    last = datetime.fromisoformat(incident["last_seen"].replace("Z", "+00:00")) + ORDER_WINDOW_AFTER
    rows = con.execute("""
        SELECT order_id, min(time) AS t FROM events
        WHERE order_id IS NOT NULL AND channel IN ('orders', 'payments')
          AND (list_contains(?::VARCHAR[], event_id)
               OR ((list_contains(?::VARCHAR[], email) OR list_contains(?::VARCHAR[], user_id))
                   AND time BETWEEN ? AND ?))
        GROUP BY order_id ORDER BY t, order_id""", [event_ids, people, people, first, last]).fetchall()
    return [r[0] for r in rows]


def resolve(step: Step, incident: Mapping[str, Any], con: duckdb.DuckDBPyConnection) -> tuple[list[str], list[str]]:
    """(targets, notes): the values this step acts on, and what was left out and why."""
    values: list[tuple[str, str]] = []
    for etype in step.for_each:
        if etype == "incident":
            values.append((etype, incident["id"]))
        elif etype == "order":
            found = [e["value"] for e in incident["entities"] if e["type"] == "order"] + _orders(con, incident)
            values += [(etype, v) for v in found]
        else:
            values += [(etype, e["value"]) for e in incident["entities"] if e["type"] == etype]
    notes, kept = [], []
    for etype, raw in dict.fromkeys(values):
        value = CHECKS[etype](raw) if etype in CHECKS else str(raw)
        if value is None:
            notes.append(f"{step.do}: skipped {raw!r}, not a valid {etype}")
            continue
        if step.only and valid_ip(value):
            public = ipaddress.ip_network(value, strict=False).is_global
            if public != (step.only == "public"):
                continue
        if step.pattern and not re.search(step.pattern, value):
            continue
        if value not in kept:
            kept.append(value)
    if len(kept) > step.limit:
        notes.append(f"{step.do}: {len(kept)} targets, acting on the first {step.limit} (the step's limit)")
        kept = kept[:step.limit]
    return kept, notes
