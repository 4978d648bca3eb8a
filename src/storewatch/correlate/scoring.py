"""Risk score 0-100 for an incident, with the factors that made it, so an analyst sees why it ranks where it does.

Pure function of the incident's alerts: the worst alert sets the base, then corroboration (several
detections, several kinds of evidence), signs of success (a login after the failures, intel-listed
infrastructure) and money or breadth add points. Severity is read off the final score.
"""

from __future__ import annotations

import math
from typing import Iterable, Mapping

BASE = {"low": 25, "medium": 45, "high": 65, "critical": 85}
SEVERITY_FLOORS = (("critical", 85), ("high", 65), ("medium", 45), ("low", 0))
# Evidence flags a detection sets when the attack got somewhere.
SUCCESS_FLAGS = ("success_after", "compromised", "data_moved", "intel_match")


def severity_for(score: int) -> str:
    return next(name for name, floor in SEVERITY_FLOORS if score >= floor)


def score(alerts: Iterable[Mapping]) -> tuple[int, list[dict]]:
    """(risk score, factors) for a group of alerts; each factor is {'factor', 'points', 'why'}."""
    alerts = list(alerts)
    worst = max(alerts, key=lambda a: BASE[a["severity"]])
    factors = [{"factor": "severity", "points": BASE[worst["severity"]],
                "why": f"worst alert is {worst['severity']}: {worst['title']}"}]
    rules = {a["rule_id"] for a in alerts}
    if len(rules) > 1:
        factors.append({"factor": "corroboration", "points": min(10, 5 * (len(rules) - 1)),
                        "why": f"{len(rules)} different detections agree"})
    kinds = {a["kind"] for a in alerts}
    if len(kinds) > 1:
        factors.append({"factor": "independent evidence", "points": 5,
                        "why": f"evidence of {len(kinds)} kinds ({', '.join(sorted(kinds))})"})
    flags = sorted({f for a in alerts for f in SUCCESS_FLAGS if (a.get("evidence") or {}).get(f)})
    if flags:
        factors.append({"factor": "success", "points": 10,
                        "why": "the attack got somewhere: " + ", ".join(f.replace("_", " ") for f in flags)})
    money = sum(float((a.get("evidence") or {}).get("amount") or 0) for a in alerts)
    if money >= 100:
        factors.append({"factor": "money", "points": min(10, int(2 * math.log10(money))),
                        "why": f"{money:,.2f} in payments, refunds or orders involved"})
    entities = {(e["type"], e["value"]) for a in alerts for e in a["entities"]}
    if len(entities) >= 10:
        factors.append({"factor": "breadth", "points": 5, "why": f"{len(entities)} distinct entities involved"})
    return min(100, sum(f["points"] for f in factors)), factors
