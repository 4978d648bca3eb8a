"""Drift: has what a model sees, or what a detection raises, moved away from its baseline?

Both use the population stability index, PSI = sum over bins of (recent - base) * ln(recent / base), bins closed on the right, with
shares floored at EPSILON so an empty bin stays finite. Reading (the usual one): below 0.1 stable, 0.1 to
0.25 moderate, 0.25 or more drifted.

- A model feature: bins are the deciles of the version's training reference (ten bins, edges deduplicated
  when a feature takes few values); recent is the last RECENT_DAYS days of entity-days in the store.
- A detection's alert rate: its alerts per day, binned 0, 1, 2-3, 4-7, 8-15, 16+; the baseline is every
  day of the store before the last RECENT_DAYS, recent those days (days counted from the store's events,
  so a quiet day with no alert counts as a 0).
Too little data on either side (fewer than MIN_ROWS entity-days or MIN_DAYS days) is reported as such, not as stable.
"""

from __future__ import annotations

from datetime import timedelta

import duckdb
import numpy as np
import pyarrow as pa

from storewatch.detect.behaviour import outliers
from storewatch.learn import anomaly, registry
from storewatch.workspace import Workspace

BINS = 10
EPSILON = 1e-4
MODERATE, DRIFTED = 0.1, 0.25
RECENT_DAYS = 7
MIN_ROWS = 10  # entity-days on each side before deciles mean anything
MIN_DAYS = 3  # days on each side before a rate's distribution does
RATE_EDGES = (0.5, 1.5, 3.5, 7.5, 15.5)  # alerts per day: 0 | 1 | 2-3 | 4-7 | 8-15 | 16+


def psi(base: np.ndarray, recent: np.ndarray, edges: np.ndarray | None = None) -> float:
    """PSI of `recent` against `base`; bins from `edges` (inner edges) or the deciles of `base`."""
    base, recent = np.asarray(base, float), np.asarray(recent, float)
    if edges is None:
        edges = np.unique(np.quantile(base, np.linspace(0, 1, BINS + 1)[1:-1]))
    b = np.bincount(np.searchsorted(edges, base, side="left"), minlength=len(edges) + 1) / len(base)
    r = np.bincount(np.searchsorted(edges, recent, side="left"), minlength=len(edges) + 1) / len(recent)
    b, r = np.maximum(b, EPSILON), np.maximum(r, EPSILON)
    return round(float(np.sum((r - b) * np.log(r / b))), 4)


def level(value: float | None) -> str:
    if value is None:
        return "insufficient data"
    return "drifted" if value >= DRIFTED else "moderate" if value >= MODERATE else "stable"


def model_drift(ws: Workspace, con: duckdb.DuckDBPyConnection, kind: str) -> dict | None:
    """Per-feature PSI of the current `kind` version's reference against the store's recent entity-days."""
    doc = registry.current(ws, outliers.model_name(kind))
    if doc is None:
        return None
    reference, _ = outliers.load(ws, doc["id"])
    table = outliers.features(con, kind)
    days = table["day"].to_pylist()
    if days:
        since = max(days) - timedelta(days=RECENT_DAYS - 1)
        table = table.filter(pa.array([d >= since for d in days]))
    names = reference.column_names[3:]
    feats = []
    for j, name in enumerate(names):
        value = None
        if reference.num_rows >= MIN_ROWS and table.num_rows >= MIN_ROWS:
            value = psi(outliers.scaled(reference, [name])[:, 0], outliers.scaled(table, [name])[:, 0])
        feats.append({"feature": name, "psi": value, "level": level(value)})
    worst = max((f["psi"] for f in feats if f["psi"] is not None), default=None)
    return {"model": doc["model"], "version": doc["id"], "baseline_rows": reference.num_rows,
            "recent_rows": table.num_rows, "psi": worst, "level": level(worst), "features": feats}


RATES_SQL = """
WITH days AS (SELECT DISTINCT date_trunc('day', time) AS day FROM events),
dets AS (SELECT DISTINCT rule_id FROM alerts),
per AS (SELECT rule_id, date_trunc('day', first_seen) AS day, count(*) AS n FROM alerts GROUP BY ALL)
SELECT d.rule_id, days.day, coalesce(per.n, 0) AS n
FROM dets d CROSS JOIN days LEFT JOIN per ON per.rule_id = d.rule_id AND per.day = days.day
ORDER BY d.rule_id, days.day
"""


def alert_rate_drift(con: duckdb.DuckDBPyConnection) -> list[dict]:
    """Per detection: PSI of its daily alert counts in the last RECENT_DAYS days against the days before."""
    rows = con.execute(RATES_SQL).fetchall()
    if not rows:
        return []
    last = max(day for _, day, _ in rows)
    cut = last - timedelta(days=RECENT_DAYS - 1)
    out = []
    for rule in sorted({r for r, _, _ in rows}):
        base = np.array([n for r, d, n in rows if r == rule and d < cut])
        recent = np.array([n for r, d, n in rows if r == rule and d >= cut])
        value = psi(base, recent, np.array(RATE_EDGES)) if len(base) >= MIN_DAYS and len(recent) >= MIN_DAYS else None
        out.append({"detection": rule, "baseline_per_day": round(float(base.mean()), 2) if len(base) else None,
                    "recent_per_day": round(float(recent.mean()), 2) if len(recent) else None,
                    "baseline_days": len(base), "recent_days": len(recent), "psi": value, "level": level(value)})
    return out


def drift(ws: Workspace, con: duckdb.DuckDBPyConnection) -> dict:
    """Every model's feature drift and every detection's alert-rate drift (docs/learning.md)."""
    models = [m for m in (model_drift(ws, con, kind) for kind in anomaly.KINDS) if m]
    return {"thresholds": {"moderate": MODERATE, "drifted": DRIFTED}, "recent_days": RECENT_DAYS,
            "models": models, "detections": alert_rate_drift(con)}
