"""Exceptions: reviewable "never alert on this again" objects, one YAML file each in `<workspace>/exceptions/`.

    id: exc-campaign-export
    condition: user = mkt_campaign and ip in 10.20.0.0/16     # learn/conditions.py
    scope: all                 # or detection:<detection id>, or group:<scenario or kind>
    owner: alice
    reason: the marketing team's campaign tool exports customers on demand
    created: 2026-12-08T01:00:00Z
    expires: 2027-01-07T01:00:00Z   # optional; an expired exception closes nothing

They apply after the detections have run: an alert an active exception matches is not correlated into an
incident but kept in `suppressed_alerts` with the id of the exception that closed it. Files that cannot be
read are reported with their reason, never fatal. The suppressions a false-positive verdict creates
(learn/feedback.py) are listed beside them as `fp-…` exceptions and can be removed the same way.
"""

from __future__ import annotations

import hashlib
import ipaddress
import re
from dataclasses import dataclass
from datetime import datetime, timedelta, timezone
from pathlib import Path
from typing import Any, Iterable, Mapping, Optional

import duckdb
import orjson
import pyarrow as pa
import yaml

from storewatch import audit
from storewatch.learn import conditions
from storewatch.learn.feedback import SUPPRESSION_PREFIX, remove_suppression
from storewatch.store import db, schema
from storewatch.workspace import Workspace

ID = re.compile(r"[a-z0-9][a-z0-9._-]{0,63}")
SEVERITY_RANK = {"low": 0, "medium": 1, "high": 2, "critical": 3}


class ExceptionError(ValueError):
    """An exception that cannot be made or read: the message says which field and why."""


@dataclass(frozen=True)
class AlertException:
    """One exception as its file (or a false positive's suppression) states it; the condition is kept as the
    text the reviewer reads, and parsed where it is applied."""

    id: str
    condition: str
    scope: str
    owner: str
    reason: str
    created: datetime
    expires: Optional[datetime] = None
    origin: str = "file"  # file | feedback (a false positive's suppression)

    def active(self, now: datetime) -> bool:
        return self.expires is None or self.expires > now

    def covers(self, alert: Mapping[str, Any]) -> bool:
        """Whether the alert's detection is in the exception's scope."""
        kind, _, name = self.scope.partition(":")
        if kind == "all":
            return True
        if kind == "detection":
            return alert.get("rule_id") == name
        return name in (alert.get("scenario"), alert.get("kind"))

    def as_dict(self) -> dict:
        return {"id": self.id, "condition": self.condition, "scope": self.scope, "owner": self.owner,
                "reason": self.reason, "created": _iso(self.created), "expires": _iso(self.expires),
                "origin": self.origin}


def _iso(t: Optional[datetime]) -> Optional[str]:
    return t.astimezone(timezone.utc).isoformat().replace("+00:00", "Z") if t else None


def _time(value: Any, field: str) -> Optional[datetime]:
    if value in (None, ""):
        return None
    if isinstance(value, datetime):
        return value if value.tzinfo else value.replace(tzinfo=timezone.utc)
    try:
        t = datetime.fromisoformat(str(value).replace("Z", "+00:00"))
    except ValueError:
        raise ExceptionError(f"{field} {value!r} is not a time (ISO 8601)") from None
    return t if t.tzinfo else t.replace(tzinfo=timezone.utc)


def check_scope(scope: str) -> str:
    """The scope if it is one of all, detection:<id>, group:<name>; else ExceptionError."""
    kind, _, name = scope.partition(":")
    if scope != "all" and (kind not in ("detection", "group") or not name):
        raise ExceptionError(f"scope {scope!r}: use all, detection:<detection id> or group:<scenario or kind>")
    return scope


def make(doc: Mapping[str, Any]) -> AlertException:
    """An exception from its fields (a YAML file's or a form's), checked: the condition must parse."""
    if not isinstance(doc, Mapping):
        raise ExceptionError("an exception file holds one mapping: id, condition, scope, owner, reason, expires")
    ex_id = str(doc.get("id") or "")
    if not ID.fullmatch(ex_id) or ex_id.startswith(SUPPRESSION_PREFIX):
        raise ExceptionError(f"id {ex_id!r}: lower-case letters, digits, '.', '_' and '-', not starting with "
                             f"{SUPPRESSION_PREFIX!r}")
    condition = str(doc.get("condition") or "")
    try:
        conditions.parse(condition)
    except conditions.ConditionError as exc:
        raise ExceptionError(f"condition: {exc}") from None
    reason = str(doc.get("reason") or "").strip()
    if not reason:
        raise ExceptionError("reason: say why this is expected, for whoever reviews it")
    return AlertException(id=ex_id, condition=condition, scope=check_scope(str(doc.get("scope") or "all")),
                      owner=str(doc.get("owner") or audit.default_actor()), reason=reason,
                      created=_time(doc.get("created"), "created") or datetime.now(timezone.utc),
                      expires=_time(doc.get("expires"), "expires"))


def folder(ws: Workspace) -> Path:
    """Where exception files live: in the workspace, beside rules/, so a review sees them in a diff."""
    return ws.home / "exceptions"


def load(ws: Workspace) -> tuple[list[AlertException], list[dict]]:
    """The workspace's exception files, and the errors of those that could not be read (file and reason)."""
    found, errors = [], []
    for path in sorted(folder(ws).glob("*.y*ml")) if folder(ws).is_dir() else []:
        try:
            found.append(make(yaml.safe_load(path.read_text(encoding="utf-8"))))
        except (ExceptionError, OSError, UnicodeDecodeError, yaml.YAMLError) as exc:
            errors.append({"file": str(path), "error": str(exc)})
    return found, errors


def file_changes(ws: Workspace, con: duckdb.DuckDBPyConnection) -> dict[str, list[str]]:
    """Exception files added, changed or removed since the last call (which the store remembers), by id;
    empty when nothing changed. Covers the files people drop into the folder or edit by hand."""
    now = {p.stem: hashlib.sha256(p.read_bytes()).hexdigest()
           for p in (sorted(folder(ws).glob("*.y*ml")) if folder(ws).is_dir() else [])}
    before = dict(con.execute("SELECT exception_id, sha256 FROM exception_files").fetchall())
    if now == before:
        return {}
    con.execute("DELETE FROM exception_files")
    if now:
        con.executemany("INSERT INTO exception_files VALUES (?, ?)", list(now.items()))
    return {"added": sorted(now.keys() - before.keys()), "removed": sorted(before.keys() - now.keys()),
            "changed": sorted(k for k in now.keys() & before.keys() if now[k] != before[k])}


def suppressions(con: duckdb.DuckDBPyConnection) -> list[AlertException]:
    """The false-positive verdicts' suppressions, as the exceptions they are."""
    rows = con.execute("SELECT suppression_id, rule_id, entity_type, value, incident_id, actor, reason, created_at "
                       "FROM suppressions ORDER BY created_at, suppression_id").fetchall()
    return [AlertException(id=SUPPRESSION_PREFIX + sid, condition=f"{etype} = {conditions.quoted(value)}", scope=f"detection:{rule}",
                       owner=actor or "", reason=reason or f"false positive {incident}", created=created,
                       origin=f"feedback on {incident}") for sid, rule, etype, value, incident, actor, reason, created in rows]


def add(ws: Workspace, ex: AlertException, actor: Optional[str] = None) -> Path:
    """Write the exception's file (refusing to overwrite another) and audit it."""
    path = folder(ws) / f"{ex.id}.yml"
    if path.exists():
        raise ExceptionError(f"an exception {ex.id!r} exists already ({path}): remove it or choose another id")
    folder(ws).mkdir(parents=True, exist_ok=True)
    doc = {k: v for k, v in ex.as_dict().items() if k != "origin" and v is not None}
    path.write_text(yaml.safe_dump(doc, sort_keys=False, allow_unicode=True), encoding="utf-8")
    audit.append(ws, "exception.add", doc, ex.reason, "saved", actor=actor)
    return path


def remove(ws: Workspace, ex_id: str, actor: Optional[str] = None) -> dict:
    """Delete an exception file or a false positive's suppression; audited. ExceptionError when there is none."""
    if ex_id.startswith(SUPPRESSION_PREFIX):
        with db.opened(ws) as con:
            gone = remove_suppression(con, ex_id)
    else:
        path = folder(ws) / f"{ex_id}.yml"
        gone = {"file": str(path)} if ID.fullmatch(ex_id) and path.is_file() else None
        if gone:
            path.unlink()
    if gone is None:
        raise ExceptionError(f"no exception {ex_id!r}")
    audit.append(ws, "exception.remove", {"id": ex_id, **gone}, "analyst removed the exception", "removed", actor=actor)
    return {"id": ex_id, **gone}


def _rows(table: pa.Table) -> list[dict]:
    rows = table.to_pylist()
    for r in rows:
        ev = r.get("evidence")
        r["evidence"] = orjson.loads(ev) if isinstance(ev, (str, bytes)) and ev else (ev or {})
    return rows


def with_event_values(con: duckdb.DuckDBPyConnection, rows: list[dict], exceptions: Iterable[AlertException]) -> list[dict]:
    """Add to each alert row (`events`) the values of the event columns the exceptions' conditions read and
    the alert does not carry (user_agent, url_path...), from the events it recorded. The column names come
    from the schema, never from the condition's text."""
    columns = sorted({c for ex in exceptions for c in conditions.event_fields(conditions.parse(ex.condition))})
    if not columns or not rows:
        return rows
    links = pa.table({"i": [i for i, r in enumerate(rows) for _ in r.get("event_ids") or ()],
                      "event_id": [e for r in rows for e in r.get("event_ids") or ()]})
    picked = ", ".join(f"list(e.{schema.COLUMNS[c].name}::VARCHAR) AS {c}" for c in columns)
    with db.registered(con, _alert_events=links):
        found = con.execute(f"SELECT l.i, {picked} FROM _alert_events l JOIN events e USING (event_id) GROUP BY l.i").fetchall()
    for i, *values in found:
        rows[i]["events"] = dict(zip(columns, values))
    return rows


def closing(exceptions: Iterable[AlertException], alert: Mapping[str, Any]) -> Optional[str]:
    """The id of the first exception that closes the alert, if any (the caller passes active ones only)."""
    for ex in exceptions:
        if ex.covers(alert) and conditions.matches(conditions.parse(ex.condition), alert):
            return ex.id
    return None


def apply(con: duckdb.DuckDBPyConnection, candidates: pa.Table, exceptions: list[AlertException],
          now: datetime) -> tuple[pa.Table, pa.Table | None]:
    """Split candidate alerts into those kept and those an active exception closes (with `exception_id`)."""
    active = [ex for ex in exceptions if ex.active(now)]
    if not active or candidates.num_rows == 0:
        return candidates, None
    closed_by = [closing(active, r) for r in with_event_values(con, _rows(candidates), active)]
    mask = pa.array([c is not None for c in closed_by])
    closed = candidates.filter(mask).append_column("exception_id", pa.array([c for c in closed_by if c], pa.string()))
    kept = candidates.filter(pa.compute.invert(mask))
    return kept, closed


def preview(con: duckdb.DuckDBPyConnection, ex: AlertException, days: int = 30) -> dict:
    """What the exception would have closed in the stored history: the alerts of the last `days` days (before
    the newest alert, so a replayed or paused estate is judged on its own time) it matches, and the incidents
    all of whose alerts it matches (closed) or some (touched), with the severities of those it closes."""
    cur = con.execute("""
        SELECT a.*, l.incident_id, i.severity AS incident_severity, i.title AS incident_title
        FROM alerts a LEFT JOIN incident_alerts l USING (alert_id) LEFT JOIN incidents i USING (incident_id)
        WHERE a.last_seen >= (SELECT max(last_seen) FROM alerts) - to_days(?)""", [days])
    names = [d[0] for d in cur.description]
    rows = [dict(zip(names, r)) for r in cur.fetchall()]
    for r in rows:
        r["evidence"] = orjson.loads(r["evidence"]) if r["evidence"] else {}
    flags = [closing([ex], r) is not None for r in with_event_values(con, rows, [ex])]
    hit = [r for r, f in zip(rows, flags) if f]
    by_incident: dict[str, list[bool]] = {}
    for r, f in zip(rows, flags):
        if r["incident_id"]:
            by_incident.setdefault(r["incident_id"], []).append(f)
    closed = {i for i, flags in by_incident.items() if all(flags)}
    touched = {i for i, flags in by_incident.items() if any(flags)}
    info = {r["incident_id"]: (r["incident_severity"], r["incident_title"]) for r in rows if r["incident_id"]}
    severities = {s: sum(1 for i in closed if info[i][0] == s) for s in SEVERITY_RANK}
    result = {
        "exception": ex.as_dict(), "days": days, "alerts": len(hit), "alerts_in_window": len(rows),
        "incidents_closed": len(closed), "incidents_touched": len(touched), "closed_by_severity": severities,
        "detections": sorted({r["rule_id"] for r in hit}),
        "incidents": [{"incident_id": i, "severity": info[i][0], "title": info[i][1], "closed": i in closed}
                      for i in sorted(touched, key=lambda i: (-SEVERITY_RANK.get(info[i][0], 0), i))][:50],
    }
    result["text"] = impact_text(result)
    return result


def impact_text(p: Mapping[str, Any]) -> str:
    """'would have closed 37 alerts in 12 incidents over the last 30 days, including 1 high'."""
    serious = [f"{n} {s}" for s in ("critical", "high") if (n := p["closed_by_severity"].get(s))]
    text = (f"would have closed {p['alerts']} alert{'s' * (p['alerts'] != 1)} in {p['incidents_closed']} "
            f"incident{'s' * (p['incidents_closed'] != 1)} over the last {p['days']} days")
    if serious:
        text += ", including " + " and ".join(serious)
    partly = p["incidents_touched"] - p["incidents_closed"]
    if partly:
        text += f" (and {partly} more incident{'s' * (partly != 1)} would lose some alerts)"
    return text


def suggested_condition(entities: Iterable[Mapping[str, str]]) -> str:
    """A starting point for "never alert on this again" from an incident's entities: its account and, when
    it names addresses, their /24 (the analyst edits it before the preview)."""
    ents = list(entities)
    users = [e["value"] for e in ents if e["type"] == "user"][:1]
    nets = []
    for e in ents:
        if e["type"] == "ip" and len(nets) < 1:
            try:
                nets.append(str(ipaddress.ip_network(f"{e['value']}/24", strict=False)))
            except ValueError:
                continue
    parts = [f"user = {conditions.quoted(u)}" for u in users] + [f"ip in {n}" for n in nets]
    if not parts:
        parts = [f"{e['type']} = {conditions.quoted(e['value'])}" for e in ents[:1]]
    return " and ".join(parts)


def default_expiry(days: Optional[int], now: Optional[datetime] = None) -> Optional[datetime]:
    return (now or datetime.now(timezone.utc)) + timedelta(days=days) if days else None
