"""SLA clocks and response figures, as arithmetic on an incident's times.

- time to acknowledge: from detection (the incident's `created_at`) to the first move out of `new`;
- time to resolve: from detection to `resolved`;
- MTTD (mean time to detect): first activity (`first_seen`) to detection; MTTA and MTTR the means of the two
  clocks above over the cases that have them.
A clock still running is measured to `now`; it is breached when it passed the target for the incident's
severity (the override when set). Targets come from settings `sla.acknowledge` / `sla.resolve`
(`critical=15m`, ...), else `DEFAULTS`.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from statistics import mean
from typing import Any, Iterable, Mapping, Optional

from storewatch.workspace import Workspace

CLOCKS = ("acknowledge", "resolve")
DEFAULTS: dict[str, dict[str, timedelta]] = {
    "acknowledge": {"critical": timedelta(minutes=15), "high": timedelta(hours=1), "medium": timedelta(hours=4),
                    "low": timedelta(hours=24)},
    "resolve": {"critical": timedelta(hours=4), "high": timedelta(hours=24), "medium": timedelta(hours=72),
                "low": timedelta(days=7)},
}
_ENDS = {"acknowledge": "acknowledged_at", "resolve": "resolved_at"}


def targets(ws: Workspace) -> dict[str, dict[str, timedelta]]:
    """The targets per clock and severity: settings where given, defaults for the rest."""
    from storewatch.respond.playbook import parse_duration

    chosen = {clock: dict(per) for clock, per in DEFAULTS.items()}
    settings = ws.settings()
    for clock in CLOCKS:
        for item in settings.get(f"sla.{clock}", []):
            severity, _, duration = item.partition("=")
            chosen[clock][severity] = parse_duration(duration, f"sla.{clock}")
    return chosen


def duration(seconds: Optional[float]) -> str:
    """`3h 05m`, `2d 4h`, or `-` when there is nothing to measure: for people, in the CLI and the dashboard."""
    if seconds is None:
        return "-"
    minutes = int(seconds // 60)
    return f"{minutes // 1440}d {minutes % 1440 // 60}h" if minutes >= 1440 else f"{minutes // 60}h {minutes % 60:02d}m"


def _time(value: Any) -> Optional[datetime]:
    if value is None or isinstance(value, datetime):
        return value
    return datetime.fromisoformat(str(value).replace("Z", "+00:00"))


def clocks(incident: Mapping[str, Any], now: datetime, chosen: Mapping[str, Mapping[str, timedelta]]) -> dict:
    """Each clock's elapsed seconds, target, whether it is still running and whether it is breached."""
    start = _time(incident["created_at"])
    out: dict[str, dict] = {}
    for clock in CLOCKS:
        end = _time(incident.get(_ENDS[clock]))
        target = chosen[clock][incident["severity"]]
        elapsed = ((end or now) - start).total_seconds() if start else None
        out[clock] = {"seconds": elapsed, "target_seconds": target.total_seconds(), "running": end is None,
                      "breached": elapsed is not None and elapsed > target.total_seconds()}
    return out


def stats(incidents: Iterable[Mapping[str, Any]], now: datetime, chosen: Mapping[str, Mapping[str, timedelta]]) -> dict:
    """Counts by status and resolution, MTTD / MTTA / MTTR in seconds (None with no case to measure),
    and how many clocks are breached."""
    rows = list(incidents)
    by_status: dict[str, int] = {}
    by_resolution: dict[str, int] = {}
    detect, ack, resolve = [], [], []
    breached = {clock: 0 for clock in CLOCKS}
    for inc in rows:
        by_status[inc["status"]] = by_status.get(inc["status"], 0) + 1
        if inc.get("resolution"):
            by_resolution[inc["resolution"]] = by_resolution.get(inc["resolution"], 0) + 1
        created = _time(inc["created_at"])
        if created and inc.get("first_seen"):
            detect.append((created - _time(inc["first_seen"])).total_seconds())
        times = clocks(inc, now, chosen)
        for clock, values in (("acknowledge", ack), ("resolve", resolve)):
            if not times[clock]["running"]:
                values.append(times[clock]["seconds"])
            if times[clock]["breached"] and inc.get("resolution") != "duplicate":
                breached[clock] += 1
    return {"incidents": len(rows), "by_status": by_status, "by_resolution": by_resolution,
            "mttd_seconds": mean(detect) if detect else None, "mtta_seconds": mean(ack) if ack else None,
            "mttr_seconds": mean(resolve) if resolve else None, "breached": breached}
