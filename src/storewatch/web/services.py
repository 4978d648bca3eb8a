"""What the dashboard and its JSON API do, in one place, so pages and API are thin layers over the same calls.

Reads never touch the store's file: they query the newest read snapshot (`storewatch.store.reader`), so
the dashboard answers while ingest, detect or watch write, and never stops them. Actions that write
(verdicts, playbook plans and runs, rollbacks) take the store's write lock for their moment; when another
command holds it longer than `WRITE_WAIT_S` they answer `Busy` (503 with `Retry-After`).
"""

from __future__ import annotations

import threading
import time
from contextlib import contextmanager
from datetime import datetime
from functools import lru_cache
from pathlib import Path
from types import ModuleType
from typing import Any, Callable, Iterator, Optional, TypeVar

import duckdb
import orjson

from storewatch import audit
from storewatch.cases import lifecycle
from storewatch.correlate import queries
from storewatch.correlate.incidents import SEVERITY_RANK
from storewatch.learn import drift, registry, triage
from storewatch.report import sources
from storewatch.store import db, reader, snapshot
from storewatch.store.schema import COLUMN_NAMES
from storewatch.workspace import Workspace

SORTS = {
    "risk": lambda i: -i["risk_score"],  # stable: ties keep the store's most-recent-first order
    "recent": lambda i: i["last_seen"],
    "first_seen": lambda i: i["first_seen"],
    "severity": lambda i: (-SEVERITY_RANK[i["severity"]], -i["risk_score"]),
    # the triage model's order (learn/triage.py); the risk order while it defers
    "triage": lambda i: (-(i["triage"]["score"] or 0), i["triage"]["rank_before"]),
}
REVERSED = {"recent"}  # newest first
SAMPLE_EVENTS = 5
# Columns an analyst reads first when looking at an event; the rest follow in schema order.
EVENT_LEAD = ("time", "class_name", "activity", "outcome", "source_format", "source_line")
WRITE_WAIT_S = 2.0  # how long an action waits for another command's write lock before answering 503
RETRY_AFTER_S = 5  # what the 503 tells the client: long writers (ingest, detect) commit in seconds
_WRITE_LOCK = threading.RLock()  # one writer at a time within the dashboard too
T = TypeVar("T")


class ServiceError(Exception):
    status = 400


class NotFound(ServiceError):
    status = 404


class Unavailable(ServiceError):
    status = 503


class Busy(Unavailable):
    """Another storewatch command holds the store's write lock; the client should retry later."""

    retry_after = RETRY_AFTER_S


@lru_cache(maxsize=8)  # one per workspace served (tests serve many)
def _readers(ws: Workspace) -> reader.Readers:
    return reader.Readers(ws)


@contextmanager
def store(ws: Workspace) -> Iterator[duckdb.DuckDBPyConnection]:
    """A read-only view of the newest snapshot, for one request."""
    try:
        with _readers(ws).reading() as con:
            yield con
    except db.StoreBusy as exc:  # only a store from before snapshots, while its first writer opens it
        raise Busy(str(exc)) from None


def write(call: Callable[[], T]) -> T:
    """Run a call that opens the store for writing, waiting up to `WRITE_WAIT_S` for another command's
    lock (the store refuses at once; the call has done nothing yet when it does)."""
    deadline = time.monotonic() + WRITE_WAIT_S
    with _WRITE_LOCK:
        while True:
            try:
                return call()
            except db.StoreBusy as exc:
                if time.monotonic() >= deadline:
                    raise Busy(f"the store is being written by another storewatch command; retry in a moment ({exc})") from None
                time.sleep(0.1)


def list_incidents(ws: Workspace, min_severity: Optional[str] = None, since: Optional[datetime] = None,
                   scenario: Optional[str] = None, sort: str = "risk", limit: Optional[int] = None,
                   status: Optional[str] = None, store_id: Optional[str] = None,
                   channel: Optional[str] = None) -> list[dict]:
    """Incidents filtered by severity, activity, scenario, status, store and channel, sorted."""
    if min_severity is not None and min_severity not in SEVERITY_RANK:
        raise ServiceError(f"min_severity must be one of {', '.join(SEVERITY_RANK)}")
    if sort not in SORTS:
        raise ServiceError(f"sort must be one of {', '.join(SORTS)}")
    with store(ws) as con:
        rows = triage.attach(ws, con, queries.list_incidents(con, min_severity, since))
    rows = [r for r in rows if (not scenario or r["scenario"] == scenario)
            and (not status or lifecycle.in_filter(r, status))
            and (not store_id or store_id in r["stores"]) and (not channel or channel in r["channels"])]
    rows.sort(key=SORTS[sort], reverse=sort in REVERSED)
    return rows[:limit] if limit else rows


def incident_list_json(ws: Workspace, min_severity: Optional[str] = None, since: Optional[datetime] = None,
                       scenario: Optional[str] = None, sort: str = "risk", limit: Optional[int] = None,
                       status: Optional[str] = None, store_id: Optional[str] = None,
                       channel: Optional[str] = None) -> bytes:
    """`list_incidents` as JSON, made once per snapshot and filter: a snapshot never changes, and the list
    is what every open dashboard and every poller asks for, again and again."""
    return _list_json(ws, snapshot.latest(ws), min_severity, since, scenario, sort, limit, status, store_id, channel)


@lru_cache(maxsize=64)
def _list_json(ws: Workspace, published: Optional[Path], min_severity: Optional[str], since: Optional[datetime],
               scenario: Optional[str], sort: str, limit: Optional[int], status: Optional[str],
               store_id: Optional[str], channel: Optional[str]) -> bytes:
    return orjson.dumps(list_incidents(ws, min_severity, since, scenario, sort, limit, status, store_id, channel))


def new_incidents(ws: Workspace, after: Optional[datetime], min_severity: Optional[str] = None) -> dict:
    with store(ws) as con:
        return queries.new_incidents(con, after, min_severity)


def facets(ws: Workspace) -> dict[str, list[str]]:
    """The values the list can be filtered by: scenarios, statuses, stores and channels that occur."""
    with store(ws) as con:
        found = con.execute("""SELECT list_sort(list_distinct(list(scenario))), list_sort(list_distinct(list(status))),
                                      list_sort(list_distinct(flatten(list(stores)))),
                                      list_sort(list_distinct(flatten(list(channels)))) FROM incidents""").fetchone()
    return {name: [v for v in (values or []) if v] for name, values in
            zip(("scenarios", "statuses", "stores", "channels"), found)}


def _incident(con: duckdb.DuckDBPyConnection, incident_id: str) -> dict:
    found = queries.get_incident(con, incident_id)
    if found is None:
        raise NotFound(f"no single incident matches {incident_id!r}")
    return found


def incident(ws: Workspace, incident_id: str) -> dict:
    """One incident, with its triage view (score, place in the risk order, top features) from the full list."""
    with store(ws) as con:
        found = _incident(con, incident_id)
        ranked = triage.attach(ws, con, queries.list_incidents(con))
    found["triage"] = next((r["triage"] for r in ranked if r["id"] == found["id"]), None)
    return found


def models(ws: Workspace) -> dict[str, Any]:
    """The model versions and the drift of the current ones, for the dashboard's Models page."""
    with store(ws) as con:
        return {"versions": registry.versions(ws), "drift": drift.drift(ws, con)}


def timeline(ws: Workspace, incident_id: str) -> dict:
    """The incident's forensic timeline, built once per snapshot: it takes seconds on a large store, and the
    incident page asks for it again for every group and page of it an analyst opens."""
    return _timeline(ws, snapshot.latest(ws), incident(ws, incident_id)["id"])


@lru_cache(maxsize=32)
def _timeline(ws: Workspace, published: Optional[Path], full_id: str) -> dict:
    with store(ws) as con:
        return sources.timeline(con, _incident(con, full_id))


def _events(con: duckdb.DuckDBPyConnection, event_ids: list[str], first: str, last: str) -> list[dict]:
    """Stored events by id, each with only the fields it has, lead columns first.

    Looked for within the alert's time span first, so Parquet row groups outside it are skipped (the ids
    alone skip nothing); an event a detection names from beyond its span is then found by id alone."""
    if not event_ids:
        return []
    order = list(EVENT_LEAD) + [c for c in COLUMN_NAMES if c not in EVENT_LEAD]
    select = f"SELECT {', '.join(order)} FROM events WHERE list_contains(?, event_id)"
    rows = con.execute(select + " AND time BETWEEN ?::TIMESTAMPTZ AND ?::TIMESTAMPTZ + INTERVAL 1 SECOND",
                       [event_ids, first, last]).fetchall()  # the span's times are whole seconds
    if len(rows) < len(set(event_ids)):
        rows = con.execute(select, [event_ids]).fetchall()
    rows.sort(key=lambda r: r[0])  # `time` leads
    return [{k: sources.plain(v) for k, v in zip(order, row) if v is not None} for row in rows]


def alerts(ws: Workspace, incident_id: str, samples: int = SAMPLE_EVENTS) -> list[dict]:
    """The incident's alerts with their evidence and a sample of the events behind each, found once per
    snapshot (the samples cost a scan of the events; the timeline's pages and groups ask again)."""
    return _alerts(ws, snapshot.latest(ws), incident(ws, incident_id)["id"], samples)


@lru_cache(maxsize=32)
def _alerts(ws: Workspace, published: Optional[Path], full_id: str, samples: int) -> list[dict]:
    with store(ws) as con:
        found = _incident(con, full_id)
        return [{**a, "events": _events(con, list(a["event_ids"] or [])[:samples], a["first_seen"], a["last_seen"])}
                for a in found["alert_details"]]


def _respond(call: Callable[[ModuleType], Any]) -> Any:
    """Call the response engine; its refusals (unknown playbook, bad config) become ServiceErrors."""
    engine = sources.respond_engine()
    if engine is None:
        raise Unavailable("the response engine (storewatch.respond.engine) is not installed")
    from storewatch.respond.config import ConfigError

    try:
        return sources.plain(call(engine))
    except (engine.RespondError, ConfigError) as exc:
        raise ServiceError(str(exc)) from None


def _full_id(ws: Workspace, incident_id: str) -> str:
    return incident(ws, incident_id)["id"]


def plan(ws: Workspace, incident_id: str, playbook: Optional[str] = None) -> list[dict]:
    """What the playbooks would do, changing nothing (dry run)."""
    full = _full_id(ws, incident_id)
    return _respond(lambda engine: write(lambda: engine.plan(ws, full, playbook)))  # it records the planned actions


def execute(ws: Workspace, incident_id: str, playbook: Optional[str], actor: str, approved: bool,
            action_ids: Optional[list[str]] = None) -> list[dict]:
    """Run the plan's automatic actions, or with `approved` exactly the actions `action_ids` names: an
    approval always says which actions it approves, so one click never runs a whole playbook."""
    if approved and not action_ids:
        raise ServiceError("an approval names the actions it approves: pick them (action_ids) from the dry run")
    full = _full_id(ws, incident_id)
    return _respond(lambda engine: write(lambda: engine.execute(ws, full, playbook=playbook, actor=actor,
                                                                approved=approved, action_ids=action_ids)))


def rollback(ws: Workspace, action_id: str, actor: str) -> dict:
    return _respond(lambda engine: write(lambda: engine.rollback(ws, action_id, actor=actor)))


def actions(ws: Workspace, incident_id: Optional[str] = None) -> list[dict]:
    full = _full_id(ws, incident_id) if incident_id else None
    return _respond(lambda engine: engine.actions(ws, incident_id=full))


def feedback(ws: Workspace, incident_id: str, verdict: str, actor: str, note: str = "",
             alert_id: Optional[str] = None) -> dict:
    """Record a verdict (on the incident or one of its alerts); a false positive is suppressed by the next `detect`."""
    module = sources.optional_module("storewatch.learn.feedback")
    if module is None:
        raise Unavailable("feedback (storewatch.learn.feedback) is not installed")
    full = _full_id(ws, incident_id)
    try:
        return sources.plain(write(lambda: module.record_feedback(ws, full, verdict, actor=actor, note=note,
                                                                  alert_id=alert_id)))
    except ValueError as exc:  # FeedbackError: unknown verdict or incident
        raise ServiceError(str(exc)) from None


def audit_log(ws: Workspace, limit: int = 100) -> dict[str, Any]:
    """The latest audit entries, newest first, and whether the hash chain is intact."""
    entries = list(audit.entries(ws))
    return {"entries": entries[::-1][:limit], "total": len(entries), "problems": audit.verify(ws)}


def _exception(incident_id: str, form: dict, actor: str):
    from datetime import timezone

    from storewatch.learn import exceptions

    now = datetime.now(timezone.utc)
    try:
        return exceptions.make({"id": f"exc-{incident_id.lower()}-{now:%Y%m%d%H%M%S}", "condition": form["condition"],
                                "scope": form["scope"], "owner": actor, "created": now,
                                "reason": f"{form['reason']} (from {incident_id})",
                                "expires": exceptions.default_expiry(form["expires_days"], now)})
    except exceptions.ExceptionError as exc:
        raise ServiceError(str(exc)) from None


def exception_preview(ws: Workspace, incident_id: str, form: dict, actor: str) -> dict:
    """What an exception made from this incident would have closed in the stored history; saves nothing."""
    from storewatch.learn import exceptions

    full = _full_id(ws, incident_id)
    with reader.opened(ws) as con:
        return sources.plain(exceptions.preview(con, _exception(full, form, actor), form["days"]))


def add_exception(ws: Workspace, incident_id: str, form: dict, actor: str) -> dict:
    """Save the exception (a YAML file in the workspace) with its preview; audited."""
    from storewatch.learn import exceptions

    full = _full_id(ws, incident_id)
    ex = _exception(full, form, actor)
    with reader.opened(ws) as con:
        impact = exceptions.preview(con, ex, form["days"])
    try:
        path = exceptions.add(ws, ex, actor=actor)
    except exceptions.ExceptionError as exc:
        raise ServiceError(str(exc)) from None
    return sources.plain({**impact, "saved": path.name})


def detections(ws: Workspace) -> dict:
    """Every detection with its source, state, thresholds, last firing and scorecard, and load errors."""
    from storewatch.learn.overview import detections_overview

    return sources.plain(detections_overview(ws))
