"""Score incidents against a labels file: which attacks were found, which incidents were noise.

A labelled attack counts as detected when an incident's [first_seen, last_seen] overlaps the label's
[start, end] and the two share an entity (compared by value, case-insensitively, so `user` vs `email`
spellings of the same account still meet). An incident that matches no labelled attack is a false
positive. Benign look-alikes (a `benign.jsonl` beside the labels, or given explicitly) are reported
separately: any incident touching one is a false alarm on normal behaviour.
"""

from __future__ import annotations

from collections import defaultdict
from datetime import datetime
from pathlib import Path
from typing import Iterable, Mapping, Sequence

import orjson


class LabelsError(ValueError):
    """A labels file that cannot be read; the message says which line and why."""


def _time(value: str) -> datetime:
    return datetime.fromisoformat(value.replace("Z", "+00:00"))


def read_labels(path: Path) -> list[dict]:
    """labels.jsonl → [{id, scenario, start, end, entities, severity}] with datetimes; clear errors per line."""
    labels = []
    try:
        lines = path.read_text(encoding="utf-8").splitlines()
    except (OSError, UnicodeDecodeError) as exc:
        raise LabelsError(f"{path}: {exc}") from None
    for n, line in enumerate(lines, 1):
        if not line.strip():
            continue
        try:
            doc = orjson.loads(line)
            labels.append({
                "id": str(doc.get("id") or f"line-{n}"), "scenario": str(doc["scenario"]),
                "start": _time(doc["start"]), "end": _time(doc["end"]),
                "severity": str(doc.get("severity") or ""),
                "entities": [{"type": str(e["type"]), "value": str(e["value"])} for e in doc.get("entities") or []],
            })
        except (orjson.JSONDecodeError, KeyError, TypeError, ValueError, AttributeError) as exc:
            raise LabelsError(f"{path}:{n}: not a label ({type(exc).__name__}: {exc})") from None
    return labels


def _values(entities: Iterable[Mapping]) -> set[str]:
    return {str(e["value"]).lower() for e in entities}


def matches(incident: Mapping, label: Mapping) -> bool:
    overlaps = incident["first_seen"] <= label["end"] and label["start"] <= incident["last_seen"]
    return overlaps and bool(_values(incident["entities"]) & _values(label["entities"]))


def evaluate(
    incidents: Sequence[Mapping], labels: Sequence[Mapping], days: float, benign: Sequence[Mapping] = (),
) -> dict:
    """Recall, precision, false positives per day, per-scenario results and where critical attacks rank.

    `incidents` are ranked (best first) with datetime `first_seen`/`last_seen`; `days` is the span of data.
    """
    attacks = [lb for lb in labels if lb["severity"] != "benign"]
    ranked = list(incidents)
    found: dict[str, list[int]] = {lb["id"]: [r for r, inc in enumerate(ranked, 1) if matches(inc, lb)] for lb in attacks}
    true_incidents = {r for ranks in found.values() for r in ranks}
    per_scenario: dict[str, dict] = defaultdict(lambda: {"labels": 0, "detected": 0, "missed": []})
    for lb in attacks:
        s = per_scenario[lb["scenario"]]
        s["labels"] += 1
        if found[lb["id"]]:
            s["detected"] += 1
        else:
            s["missed"].append(lb["id"])
    critical = [lb for lb in attacks if lb["severity"] == "critical"]
    top_k = max(10, 2 * len(critical))
    critical_ranks = {lb["id"]: (min(found[lb["id"]]) if found[lb["id"]] else None) for lb in critical}
    false_positives = [inc for r, inc in enumerate(ranked, 1) if r not in true_incidents]
    on_benign = [
        {"incident": inc["id"], "benign": lb["id"], "scenario": lb["scenario"]}
        for inc in ranked for lb in benign if matches(inc, lb) and inc in false_positives
    ]
    detected = sum(1 for ranks in found.values() if ranks)
    days = max(days, 1e-9)
    return {
        "labels": len(attacks),
        "detected": detected,
        "recall": round(detected / len(attacks), 4) if attacks else None,
        "incidents": len(ranked),
        "true_positive_incidents": len(true_incidents),
        "precision": round(len(true_incidents) / len(ranked), 4) if ranked else None,
        "false_positive_incidents": len(false_positives),
        "days": round(days, 2),
        "false_positives_per_day": round(len(false_positives) / days, 2),
        "false_positives": [{"id": i["id"], "title": i["title"], "scenario": i["scenario"]} for i in false_positives],
        "benign_alarms": on_benign,
        "critical_top_k": top_k,
        "critical_ranks": critical_ranks,
        "critical_in_top": all(r is not None and r <= top_k for r in critical_ranks.values()),
        "per_scenario": dict(sorted(per_scenario.items())),
    }


def data_days(daily_counts: Sequence[int]) -> float:
    """Days of data (the denominator of false positives per day): UTC days holding at least a tenth of the
    busiest day's events, so a few late disputes or a midnight spill do not count as extra days."""
    if not daily_counts:
        return 1.0
    busiest = max(daily_counts)
    return float(max(1, sum(1 for n in daily_counts if n >= busiest / 10)))
