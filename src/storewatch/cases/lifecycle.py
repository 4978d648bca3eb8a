"""The incident lifecycle as rules without I/O: statuses, resolutions, which change is allowed and what it sets.

new → acknowledged → in progress → resolved (with a resolution). Any status may be set from any other
(an analyst may resolve straight away, or reopen a resolved case); a resolution goes with `resolved` and
only with it, and `duplicate` names the incident it duplicates.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any, Mapping, Optional

STATUSES = ("new", "acknowledged", "in_progress", "resolved")
RESOLUTIONS = {
    "true_positive": "true positive",
    "benign": "benign true positive",
    "false_positive": "false positive",
    "duplicate": "duplicate",
}
# Resolutions that are also verdicts on the detections (storewatch.learn.feedback records them).
VERDICTS = ("true_positive", "benign", "false_positive")
# The incident columns that are the case's, carried over when correlation rebuilds incidents.
CASE_COLUMNS = ("status", "assignee", "resolution", "duplicate_of", "severity_override", "tags",
                "acknowledged_at", "resolved_at")
SEVERITIES = ("low", "medium", "high", "critical")
# What a list can be filtered on: a status, or `open` for every case not resolved yet.
FILTERS = ("open", *STATUSES)


class CaseError(ValueError):
    """A change that cannot be made: unknown value, missing resolution, unknown incident."""


def status_name(text: str) -> str:
    """`in progress`, `in-progress` and `In_Progress` are one status."""
    name = text.strip().lower().replace("-", "_").replace(" ", "_")
    if name not in STATUSES:
        raise CaseError(f"status must be one of {', '.join(s.replace('_', ' ') for s in STATUSES)}, not {text!r}")
    return name


def in_filter(incident: Mapping[str, Any], wanted: str) -> bool:
    return incident["status"] != "resolved" if wanted == "open" else incident["status"] == wanted


def status_change(case: Mapping[str, Any], status: str, resolution: Optional[str], duplicate_of: Optional[str],
                  now: datetime) -> dict[str, Any]:
    """The columns to set for moving `case` to `status`; raises CaseError when the change is incomplete."""
    status = status_name(status)
    if status == "resolved":
        if resolution not in RESOLUTIONS:
            raise CaseError(f"resolving needs a resolution: {', '.join(RESOLUTIONS)}")
        if (resolution == "duplicate") != bool(duplicate_of):
            raise CaseError("a duplicate names the incident it duplicates (and only a duplicate does)")
    elif resolution or duplicate_of:
        raise CaseError("a resolution goes with status resolved")
    return {
        "status": status,
        "resolution": resolution if status == "resolved" else None,
        "duplicate_of": duplicate_of if status == "resolved" else None,
        "acknowledged_at": case.get("acknowledged_at") or (now if status != "new" else None),
        "resolved_at": (case.get("resolved_at") or now) if status == "resolved" else None,
    }


def merged_case(survivor: Mapping[str, Any], absorbed: list[Mapping[str, Any]]) -> dict[str, Any]:
    """The case of an incident that absorbed others (correlation joined their alerts): the survivor's
    state, with an assignee taken from an absorbed case if it had none, and every tag."""
    case = {c: survivor.get(c) for c in CASE_COLUMNS}
    case["assignee"] = case["assignee"] or next((a["assignee"] for a in absorbed if a.get("assignee")), None)
    tags = list(case["tags"] or []) + [t for a in absorbed for t in (a.get("tags") or [])]
    case["tags"] = sorted(set(tags)) or None
    return case
