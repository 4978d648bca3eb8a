"""Stores and channels ranked by the risk still open on them and the money already lost, with what drives each.

Open risk is the sum of the risk scores of the incidents not yet closed that touch a store (or channel);
realised loss sums the incidents' losses (business/impact.py) per currency, false positives left out. A
store with one critical open incident outranks one with three closed ones: the ranking says where to look
next, the loss what it has cost.
"""

from __future__ import annotations

from collections import defaultdict
from typing import Any

CLOSED = {"resolved", "closed", "false_positive", "duplicate"}  # statuses of the old and the case lifecycle


def _closed(incident: dict[str, Any]) -> bool:
    return incident.get("status") in CLOSED


def _false_positive(incident: dict[str, Any]) -> bool:
    return incident.get("status") == "false_positive" or incident.get("resolution") == "false_positive"


def rank(incidents: list[dict[str, Any]], by: str) -> list[dict[str, Any]]:
    """`by` "stores" or "channels": one row per store or channel, highest open risk first, then largest loss."""
    rows: dict[str, dict[str, Any]] = defaultdict(lambda: {"open_risk": 0, "open_incidents": 0, "incidents": 0,
                                                           "loss": defaultdict(float), "drivers": defaultdict(int)})
    for inc in incidents:
        if _false_positive(inc):
            continue
        for key in inc.get(by) or []:
            row = rows[key]
            row["incidents"] += 1
            for currency, amount in (inc.get("impact") or {}).get("loss", {}).items():
                row["loss"][currency] += amount
            if not _closed(inc):
                row["open_risk"] += inc["risk_score"]
                row["open_incidents"] += 1
                row["drivers"][inc["title"].split(":")[0]] += inc["risk_score"]
    out = []
    for key, row in rows.items():
        drivers = sorted(row["drivers"].items(), key=lambda kv: (-kv[1], kv[0]))[:3]
        out.append({by[:-1]: key, "open_risk": row["open_risk"], "open_incidents": row["open_incidents"],
                    "incidents": row["incidents"], "loss": {c: round(v, 2) for c, v in sorted(row["loss"].items())},
                    "drivers": [{"what": what, "risk": risk} for what, risk in drivers]})
    return sorted(out, key=lambda r: (-r["open_risk"], -sum(r["loss"].values()), r[by[:-1]]))
