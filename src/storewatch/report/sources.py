"""The later stages a report or the dashboard shows when they are installed: forensic timelines and response status.

Those stages are built beside this one, so each is looked up when it is needed: a workspace without them
still reports from the incident's own alerts, and adding them needs no change here.
"""

from __future__ import annotations

import dataclasses
import importlib
from datetime import date, datetime
from types import ModuleType
from typing import Any, Mapping

import duckdb

from storewatch.workspace import Workspace

TIMELINE_MODULE = "storewatch.forensics.timeline"
RESPOND_MODULE = "storewatch.respond.engine"


def optional_module(name: str) -> ModuleType | None:
    """The module, or None when it (or a package above it) is not there; a module that is there but broken raises."""
    try:
        return importlib.import_module(name)
    except ModuleNotFoundError as exc:
        if exc.name and (name == exc.name or name.startswith(exc.name + ".")):
            return None
        raise


def plain(value: Any) -> Any:
    """JSON-ready copy of what another stage returned (dataclasses, datetimes, nested containers)."""
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        return plain(dataclasses.asdict(value))
    if isinstance(value, Mapping):
        return {str(k): plain(v) for k, v in value.items()}
    if isinstance(value, (list, tuple, set)):
        return [plain(v) for v in value]
    if isinstance(value, datetime):
        return value.isoformat().replace("+00:00", "Z")
    if isinstance(value, date):
        return value.isoformat()
    return value


def alerts_timeline(incident: dict) -> dict:
    """A timeline of the incident's alerts alone, in the forensics shape, for when forensics is absent."""
    events = [{"time": a["first_seen"], "event_id": None, "class_name": "Alert", "source_format": a["rule_id"],
               "summary": a["summary"] or a["title"], "entities": a["entities"], "pivot": None}
              for a in incident["alert_details"]]
    return {"incident": incident["id"], "events": events, "root_cause": {}, "blast_radius": {}, "gaps": [],
            "source": "alerts"}


def timeline(con: duckdb.DuckDBPyConnection, incident: dict) -> dict:
    """The forensic timeline (`source: forensics`) when that stage exists, else the alerts' (`source: alerts`)."""
    forensics = optional_module(TIMELINE_MODULE)
    if forensics is None:
        return alerts_timeline(incident)
    return {**plain(forensics.build_timeline(con, incident["id"])), "source": "forensics"}


def respond_engine() -> ModuleType | None:
    return optional_module(RESPOND_MODULE)


def response_actions(ws: Workspace, incident_id: str | None = None) -> list[dict] | None:
    """Status of every response action for the incident; None when the respond stage is not installed."""
    engine = respond_engine()
    if engine is None:
        return None
    return plain(engine.actions(ws, incident_id=incident_id))
