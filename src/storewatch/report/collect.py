"""Everything a report shows, read from the store and the later stages in one pass."""

from __future__ import annotations

from datetime import datetime, timezone
from typing import Callable, Optional

from storewatch.correlate.incidents import SEVERITY_RANK
from storewatch.correlate.queries import get_incident, list_incidents
from storewatch.learn import drift
from storewatch.report import aggregate, charts, narrative, sources
from storewatch.report.appendix import Appendix
from storewatch.store import reader
from storewatch.workspace import Workspace


Progress = Callable[[str, int, int], None]  # (stage, done, total): what a long report is doing


def quiet(stage: str, done: int, total: int) -> None:
    """No progress shown."""


def _incidents(ws: Workspace, progress: Progress) -> tuple[list[dict], dict]:
    with reader.opened(ws) as con:
        incidents = [get_incident(con, row["id"]) for row in list_incidents(con)]
        for n, inc in enumerate(incidents):
            progress("forensic timelines", n, len(incidents))
            inc["timeline"] = sources.timeline(con, inc)
        progress("forensic timelines", len(incidents), len(incidents))
        drifted = drift.drift(ws, con)
        events, first, last = con.execute("SELECT count(*), min(time), max(time) FROM events").fetchone()
    for inc in incidents:
        inc["money"] = aggregate.money_at_risk(inc)
        inc["actions"] = sources.response_actions(ws, inc["id"])
    return incidents, {"events": events, "first": first, "last": last, "drift": drifted}


DETAIL = 5  # incidents given in full by default; the rest in one line each


def _period(first: datetime | None, last: datetime | None) -> str:
    if first is None:
        return "no events in the store"
    return f"{first:%Y-%m-%d %H:%M} to {last:%Y-%m-%d %H:%M} UTC"


def _charts(incidents: list[dict], counts: dict[str, int], stores: list, channels: list, entities: list) -> dict:
    if not incidents:
        return {}
    buckets, series = aggregate.over_time(incidents)
    return {
        "over_time": charts.stacked_bars(buckets, series, "incidents started", "Incidents started over time"),
        "severity": charts.horizontal_bars(list(counts), list(counts.values()), "incidents", "Incidents by severity",
                                           [charts.SEVERITY_COLOURS[s] for s in counts]),
        "stores": charts.horizontal_bars([s for s, _ in stores], [n for _, n in stores], "incidents",
                                         "Incidents by store") if stores else None,
        "channels": charts.horizontal_bars([c for c, _ in channels], [n for _, n in channels], "incidents",
                                           "Incidents by channel") if channels else None,
        "entities": charts.horizontal_bars([f"{e['type']} {e['value']}" for e in entities],
                                           [e["incidents"] for e in entities], "incidents",
                                           "Top attacking entities") if entities else None,
    }


def in_detail(incidents: list[dict], detail: int, severity: Optional[str]) -> list[bool]:
    """Which incidents (highest risk first) the report gives in full: the first `detail`, and every one at
    or above `severity` when it is given; the rest get one line."""
    floor = SEVERITY_RANK[severity] if severity else None
    return [n < detail or (floor is not None and SEVERITY_RANK[inc["severity"]] >= floor)
            for n, inc in enumerate(incidents)]


def collect(ws: Workspace, detail: int = DETAIL, detail_severity: Optional[str] = None,
            progress: Progress = quiet) -> dict:
    """The report's context: summary, figures, charts, the incidents (highest risk first) in full or in one
    line, and the appendix the long values go to as the template renders."""
    if detail_severity is not None and detail_severity not in SEVERITY_RANK:
        raise ValueError(f"detail severity must be one of {', '.join(SEVERITY_RANK)}")
    incidents, store = _incidents(ws, progress)
    full = in_detail(incidents, detail, detail_severity)
    rule = f"the {detail} highest risk" + (f" and every {detail_severity} or worse" if detail_severity else "")
    counts = aggregate.severity_counts(incidents)
    stores, channels = aggregate.counted(incidents, "stores"), aggregate.counted(incidents, "channels")
    entities = aggregate.top_entities(incidents)
    money = aggregate.total_money(incidents)
    period = _period(store["first"], store["last"])
    return {
        "generated": datetime.now(timezone.utc).strftime("%Y-%m-%d %H:%M UTC"),
        "period": period,
        "events": store["events"],
        "counts": counts,
        "summary": {
            "overview": narrative.overview(incidents, counts, store["events"], period),
            "top": incidents[:3],
            "money": narrative.money_sentence(incidents, money),
            "first_steps": narrative.first_steps(incidents),
        },
        "charts": _charts(incidents, counts, stores, channels, entities),
        "stores": stores,
        "channels": channels,
        "entities": entities,
        "money": money,
        "incidents": incidents,
        "detailed": [i for i, f in zip(incidents, full) if f],
        "brief": [i for i, f in zip(incidents, full) if not f],
        "detail_rule": rule,
        "appendix": Appendix(),
        "drift": store["drift"],
    }
