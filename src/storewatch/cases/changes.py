"""Every change an analyst makes to a case, each one written to the case's history and the audit log.

Writers open the store (`db.opened`); what they change is published to readers when the block ends. A
merge or split pins the alerts it moves (`alert_pins`) and re-runs correlation, so the incidents' fields
(entities, score, summary) are recomputed from their new alerts and a later `detect` keeps the move.
"""

from __future__ import annotations

import hashlib
import secrets
import time
from datetime import datetime, timezone
from pathlib import Path
from typing import Any, Iterable, Optional

import duckdb
import orjson

from storewatch import accounts, audit
from storewatch.cases.lifecycle import SEVERITIES, VERDICTS, CaseError, status_change
from storewatch.correlate import incidents as correlation
from storewatch.ingest.values import ValueScrubber
from storewatch.store import db
from storewatch.workspace import Workspace

MAX_COMMENT = 10_000
MAX_ATTACHMENT = 50 << 20  # bytes: screenshots, exported mails, small captures; evidence bundles go elsewhere


def attachments_folder(ws: Workspace) -> Path:
    return ws.home / "attachments"


def resolve_id(con: duckdb.DuckDBPyConnection, incident_id: str) -> str:
    """The full id of the one incident `incident_id` names (a unique prefix is enough)."""
    found = [r[0] for r in con.execute("SELECT incident_id FROM incidents WHERE incident_id ILIKE ? || '%'",
                                       [incident_id]).fetchall()]
    if len(found) != 1:
        raise CaseError(f"no single incident matches {incident_id!r}")
    return found[0]


def _case(con: duckdb.DuckDBPyConnection, incident_id: str) -> dict:
    cur = con.execute("SELECT * FROM incidents WHERE incident_id = ?", [incident_id])
    return dict(zip([d[0] for d in cur.description], cur.fetchone()))


def _history(con: duckdb.DuckDBPyConnection, incident_id: str, actor: str, change: str, detail: dict,
             now: datetime) -> None:
    con.execute("INSERT INTO case_history VALUES (?, ?, ?, ?, ?)",
                [incident_id, now, actor, change, orjson.dumps(detail, default=str).decode()])


def _change(ws: Workspace, incident_id: str, actor: Optional[str], change: str,
            apply: Any) -> dict:
    """Open the store, resolve the id, let `apply(con, full_id, case, now)` make the change and return its
    detail, then write it to the history and, once committed, to the audit log."""
    actor = actor or audit.default_actor()
    now = datetime.now(timezone.utc)
    with db.opened(ws) as con:
        full = resolve_id(con, incident_id)
        detail = apply(con, full, _case(con, full), now)
        _history(con, full, actor, change, detail, now)
    audit.append(ws, f"case.{change}", {"incident_id": full, **detail}, "analyst changed a case", "recorded", actor=actor)
    return {"incident_id": full, "change": change, "actor": actor, **detail}


def _set(con: duckdb.DuckDBPyConnection, incident_id: str, now: datetime, **columns: Any) -> None:
    sets = ", ".join(f"{c} = ?" for c in columns)
    con.execute(f"UPDATE incidents SET {sets}, updated_at = ? WHERE incident_id = ?",
                [*columns.values(), now, incident_id])


def assign(ws: Workspace, incident_id: str, user: Optional[str], actor: Optional[str] = None) -> dict:
    """Give the case to `user` (None or '' takes it back). With accounts set up, only a known name."""
    user = (user or "").strip().lower() or None
    known = accounts.load(ws)
    if user and known and user not in known:
        raise CaseError(f"no user {user!r}: see `storewatch users list`")

    def apply(con, full, case, now):
        _set(con, full, now, assignee=user)
        return {"assignee": user, "was": case["assignee"]}
    return _change(ws, incident_id, actor, "assign", apply)


def comment(ws: Workspace, incident_id: str, text: str, actor: Optional[str] = None) -> dict:
    """Add to the case's thread; the text is scrubbed of card numbers before it is stored or audited."""
    text = ValueScrubber(ws.token_key()).text(text.strip())[0]
    if not text or len(text) > MAX_COMMENT:
        raise CaseError(f"a comment has 1 to {MAX_COMMENT} characters")

    def apply(con, full, case, now):
        comment_id = secrets.token_hex(8)
        con.execute("INSERT INTO case_comments VALUES (?, ?, ?, ?, ?)",
                    [comment_id, full, actor or audit.default_actor(), text, now])
        return {"comment_id": comment_id, "text": text}
    return _change(ws, incident_id, actor, "comment", apply)


def set_status(ws: Workspace, incident_id: str, status: str, resolution: Optional[str] = None,
               duplicate_of: Optional[str] = None, actor: Optional[str] = None, note: str = "") -> dict:
    """Move the case along its lifecycle. A resolution that is a verdict (true positive, benign, false
    positive) is recorded as feedback too, which for a false positive suppresses the pattern."""
    actor = actor or audit.default_actor()

    def apply(con, full, case, now):
        target = resolve_id(con, duplicate_of) if duplicate_of else None
        if target == full:
            raise CaseError("an incident cannot duplicate itself")
        columns = status_change(case, status, resolution, target, now)
        _set(con, full, now, **columns)
        return {"status": columns["status"], "resolution": columns["resolution"], "duplicate_of": target,
                "was": case["status"]}
    result = _change(ws, incident_id, actor, "status", apply)
    if result["resolution"] in VERDICTS:
        from storewatch.learn.feedback import record_feedback

        result["feedback"] = record_feedback(ws, result["incident_id"], result["resolution"], actor=actor, note=note)
    return result


def tag(ws: Workspace, incident_id: str, add: Iterable[str] = (), remove: Iterable[str] = (),
        actor: Optional[str] = None) -> dict:
    add_set = {t.strip().lower() for t in add if t.strip()}
    remove_set = {t.strip().lower() for t in remove if t.strip()}

    def apply(con, full, case, now):
        tags = sorted((set(case["tags"] or []) | add_set) - remove_set)
        _set(con, full, now, tags=tags or None)
        return {"tags": tags, "added": sorted(add_set), "removed": sorted(remove_set)}
    return _change(ws, incident_id, actor, "tag", apply)


def set_severity(ws: Workspace, incident_id: str, severity: Optional[str], actor: Optional[str] = None) -> dict:
    """Override the severity shown and ranked by (None: back to the computed one); the risk score stays."""
    if severity and severity not in SEVERITIES:
        raise CaseError(f"severity must be one of {', '.join(SEVERITIES)}")

    def apply(con, full, case, now):
        _set(con, full, now, severity_override=severity or None)
        return {"severity": severity or None, "computed": case["severity"], "was": case["severity_override"]}
    return _change(ws, incident_id, actor, "severity", apply)


def attach(ws: Workspace, incident_id: str, source: Path, actor: Optional[str] = None,
           name: Optional[str] = None) -> dict:
    """Keep a copy of a file with the case, named by its SHA-256 (so `verify_attachments` can check it)."""
    source = Path(source)
    if not source.is_file():
        raise CaseError(f"{source} is not a file")
    if source.stat().st_size > MAX_ATTACHMENT:
        raise CaseError(f"{source} is over {MAX_ATTACHMENT >> 20} MiB")
    folder = attachments_folder(ws)
    folder.mkdir(parents=True, exist_ok=True)
    tmp = folder / f".{secrets.token_hex(8)}.tmp"
    digest = hashlib.sha256()
    with source.open("rb") as src, tmp.open("wb") as dst:
        for chunk in iter(lambda: src.read(1 << 20), b""):
            digest.update(chunk)
            dst.write(chunk)
    sha = digest.hexdigest()
    stored = folder / sha
    tmp.replace(stored)
    shown_name = ValueScrubber(ws.token_key()).text(name or source.name)[0]

    def apply(con, full, case, now):
        attachment_id = secrets.token_hex(8)
        con.execute("INSERT INTO case_attachments VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
                    [attachment_id, full, shown_name, sha, stored.stat().st_size, stored.name,
                     actor or audit.default_actor(), now])
        return {"attachment_id": attachment_id, "name": shown_name, "sha256": sha, "size": stored.stat().st_size}
    return _change(ws, incident_id, actor, "attach", apply)


def _alerts_of(con: duckdb.DuckDBPyConnection, incident_id: str) -> list[str]:
    return [a for (a,) in con.execute("SELECT alert_id FROM incident_alerts WHERE incident_id = ? ORDER BY 1",
                                      [incident_id]).fetchall()]


def _pin(con: duckdb.DuckDBPyConnection, alert_ids: list[str], incident_id: str, actor: str, now: datetime) -> None:
    for alert_id in alert_ids:
        con.execute("INSERT OR REPLACE INTO alert_pins VALUES (?, ?, ?, ?)", [alert_id, incident_id, actor, now])


def merge(ws: Workspace, target_id: str, other_ids: list[str], actor: Optional[str] = None) -> dict:
    """Move the alerts of `other_ids` into `target_id`; each other incident is resolved as its duplicate."""
    actor = actor or audit.default_actor()

    def apply(con, full, case, now):
        others = sorted({resolve_id(con, o) for o in other_ids} - {full})
        if not others:
            raise CaseError("merge needs at least one other incident")
        moved = {o: _alerts_of(con, o) for o in others}
        _pin(con, _alerts_of(con, full) + [a for ids in moved.values() for a in ids], full, actor, now)
        for other in others:
            was = _case(con, other)
            columns = status_change(was, "resolved", "duplicate", full, now)
            _set(con, other, now, **columns, alert_count=0)
            con.execute("DELETE FROM incident_alerts WHERE incident_id = ?", [other])
            _history(con, other, actor, "merged", {"into": full, "alerts": moved[other], "was": was["status"]}, now)
        correlation.correlate(con, time.time())
        return {"merged": others, "alerts": sorted(a for ids in moved.values() for a in ids)}
    return _change(ws, target_id, actor, "merge", apply)


def split(ws: Workspace, incident_id: str, alert_ids: list[str], actor: Optional[str] = None) -> dict:
    """Move the chosen alerts of an incident into a new incident of their own (status new)."""
    actor = actor or audit.default_actor()

    def apply(con, full, case, now):
        current = _alerts_of(con, full)
        chosen = sorted({a for a in current if any(a == c or a.startswith(c) for c in alert_ids if c)})
        if len(chosen) != len(set(alert_ids)) or not chosen:
            raise CaseError(f"each alert must be one of {full}'s: {', '.join(current)}")
        if len(chosen) == len(current):
            raise CaseError("a split leaves at least one alert behind")
        new_id = correlation.new_id([full, *chosen])
        _pin(con, [a for a in current if a not in chosen], full, actor, now)
        _pin(con, chosen, new_id, actor, now)
        correlation.correlate(con, time.time())
        _history(con, new_id, actor, "split", {"from": full, "alerts": chosen}, now)
        return {"new_incident": new_id, "alerts": chosen}
    return _change(ws, incident_id, actor, "split", apply)


def verify_attachments(ws: Workspace, con: duckdb.DuckDBPyConnection, incident_id: str) -> list[dict]:
    """The case's attachments, each with whether its stored copy still has the SHA-256 it was added with."""
    cur = con.execute("SELECT attachment_id, name, sha256, size, path, actor, added_at FROM case_attachments "
                      "WHERE incident_id = ? ORDER BY added_at", [incident_id])
    rows = [dict(zip([d[0] for d in cur.description], r)) for r in cur.fetchall()]
    for row in rows:
        stored = attachments_folder(ws) / Path(row.pop("path")).name
        row["intact"] = stored.is_file() and hashlib.sha256(stored.read_bytes()).hexdigest() == row["sha256"]
    return rows

