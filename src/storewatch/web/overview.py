"""The dashboard's home page and ATT&CK view: figures from the read snapshot, charts from the report's module.

Both are made once per published snapshot (a snapshot never changes) and kept, so the page an analyst
leaves open and reloads costs a dictionary lookup; the next ingest or detect publishes a new snapshot and
with it new figures.
"""

from __future__ import annotations

from datetime import datetime, timedelta, timezone
from functools import lru_cache
from pathlib import Path
from typing import Optional

import duckdb

from storewatch.correlate.queries import list_incidents
from storewatch.detect import coverage, registry
from storewatch.report import aggregate, charts
from storewatch.store import health, snapshot
from storewatch.web import services
from storewatch.workspace import Workspace

# Statuses that take an incident off the queue (the cases feature may add more; "open" is everything else).
CLOSED = frozenset({"false_positive", "resolved", "closed", "duplicate"})
AGES = (("under 1 day", timedelta(days=1)), ("1–3 days", timedelta(days=3)), ("3–7 days", timedelta(days=7)),
        ("over 7 days", None))
TOP = 10  # stores and detections shown in the charts
HALF = 6.4  # inches: a chart in one of the page's two columns


def age_table(rows: list[dict], now: datetime) -> dict[str, dict[str, int]]:
    """Open incidents per severity (critical first) and age band, age counted from when storewatch raised them."""
    table = {s: {label: 0 for label, _ in AGES} for s in aggregate.SEVERITIES}
    for r in rows:
        if r["status"] in CLOSED:
            continue
        age = now - r["created_at"]
        label = next(label for label, limit in AGES if limit is None or age < limit)
        table[r["severity"]][label] += 1
    return table


def _top_detections(con: duckdb.DuckDBPyConnection) -> list[dict]:
    cur = con.execute("""SELECT rule_id, any_value(title ORDER BY detected_at DESC), count(*), sum(event_count),
                                max(last_seen) FROM alerts GROUP BY rule_id ORDER BY 3 DESC, 1 LIMIT ?""", [TOP])
    return [dict(zip(("rule_id", "title", "alerts", "events", "last_fired"), r)) for r in cur.fetchall()]


def _alert_starts(con: duckdb.DuckDBPyConnection) -> list[dict]:
    return [{"first_seen": t, "severity": s} for t, s in con.execute(
        "SELECT strftime(first_seen, '%Y-%m-%dT%H:%M:%SZ'), severity FROM alerts").fetchall()]


def _over_time(items: list[dict], what: str, title: str) -> Optional[str]:
    if not items:
        return None
    buckets, series = aggregate.over_time(items)
    return charts.stacked_bars(buckets, series, what, title, size=(HALF, 2.6))


def _bars(pairs: list[tuple[str, int]], title: str) -> Optional[str]:
    if not pairs:
        return None
    return charts.horizontal_bars([p for p, _ in pairs], [n for _, n in pairs], "incidents", title, width=HALF)


def overview(ws: Workspace) -> dict:
    """Everything the home page shows."""
    return _overview(ws, snapshot.latest(ws))


@lru_cache(maxsize=8)
def _overview(ws: Workspace, published: Optional[Path]) -> dict:
    now = datetime.now(timezone.utc)
    with services.store(ws) as con:
        incidents = list_incidents(con)
        raised = con.execute("SELECT severity, status, created_at FROM incidents").fetchall()
        detections = _top_detections(con)
        alerts = _alert_starts(con)
        sources = health.source_health(con, now)
    ages = age_table([dict(zip(("severity", "status", "created_at"), r)) for r in raised], now)
    open_incidents = [i for i in incidents if i["status"] not in CLOSED]
    return {
        "generated": now,
        "total": len(incidents),
        "open": len(open_incidents),
        "open_by_severity": aggregate.severity_counts(open_incidents),
        "ages": ages,
        "age_labels": [label for label, _ in AGES],
        "top_open": open_incidents[:5],
        "health": sources,
        "detections": detections,
        "charts": {
            "incidents": _over_time(incidents, "incidents", "Incidents started over time, by severity"),
            "alerts": _over_time(alerts, "alerts", "Alerts raised over time, by severity"),
            "channels": _bars(aggregate.counted(incidents, "channels"), "Incidents by channel"),
            "stores": _bars(aggregate.counted(incidents, "stores")[:TOP], f"Incidents by store (top {TOP})"),
        },
        "stores_total": len(aggregate.counted(incidents, "stores")),
    }


def attack_matrix(ws: Workspace) -> dict:
    """The ATT&CK matrix of the loaded detections (shipped and the workspace's rules) and the alerts' techniques."""
    return _attack_matrix(ws, snapshot.latest(ws))


@lru_cache(maxsize=8)
def _attack_matrix(ws: Workspace, published: Optional[Path]) -> dict:
    detections, errors = registry.load_detections(ws)
    with services.store(ws) as con:
        fired = dict(con.execute("SELECT upper(t), count(*) FROM (SELECT unnest(attack) AS t FROM alerts) "
                                 "GROUP BY 1").fetchall())
    return {**coverage.matrix(detections, fired), "detections": len(detections), "load_errors": len(errors)}
