"""The incident page's timeline behind grouping and paging: hundreds of events read as a few groups.

Pure functions over the forensic timeline's events (`forensics.timeline` shape: time, class_name,
source_format, summary, entities); the page picks a grouping and a group with query parameters, so every
view has an address.
"""

from __future__ import annotations

from typing import Any, Callable, Iterable, Mapping, Optional

PAGE_SIZE = 50


def _hour(ev: Mapping) -> list[str]:
    return [str(ev.get("time") or "")[:13].replace("T", " ") + ":00"]


def _source(ev: Mapping) -> list[str]:
    return [str(ev.get("source_format") or "unknown")]


def _entity(ev: Mapping) -> list[str]:
    return [f"{e['type']} {e['value']}" for e in ev.get("entities") or []] or ["no entity"]


GROUPINGS: dict[str, Callable[[Mapping], list[str]]] = {"source": _source, "entity": _entity, "hour": _hour}


def groups(events: Iterable[Mapping], by: str) -> list[dict[str, Any]]:
    """One row per group: key, events, first and last time; largest first (by hour: in time order).
    An event naming several entities counts in each of their groups."""
    keyed = GROUPINGS[by]
    found: dict[str, dict[str, Any]] = {}
    for ev in events:
        for key in keyed(ev):
            g = found.setdefault(key, {"key": key, "events": 0, "first": ev.get("time"), "last": ev.get("time")})
            g["events"] += 1
            g["first"] = min(g["first"] or "", ev.get("time") or "") or None
            g["last"] = max(g["last"] or "", ev.get("time") or "") or None
    rows = list(found.values())
    rows.sort(key=(lambda g: g["key"]) if by == "hour" else (lambda g: (-g["events"], g["key"])))
    return rows


def members(events: Iterable[Mapping], by: Optional[str], key: Optional[str]) -> list[Mapping]:
    """The events of one group (all events when no grouping or no group is chosen)."""
    if not by or key is None:
        return list(events)
    keyed = GROUPINGS[by]
    return [ev for ev in events if key in keyed(ev)]


def page(items: list, number: int, size: int = PAGE_SIZE) -> dict[str, Any]:
    """Page `number` (1-based, clamped to what exists) of `items`, with what a pager needs."""
    pages = max(1, -(-len(items) // size))
    number = min(max(1, number), pages)
    return {"items": items[(number - 1) * size: number * size], "number": number, "pages": pages,
            "total": len(items), "first": (number - 1) * size + 1 if items else 0,
            "last": min(number * size, len(items))}
