"""Periods the models must not learn from ("don't learn from Black Friday"), kept as a YAML file in the
workspace (`models/exclusions.yml`) so the list reads in a diff; adding and removing one is audited."""

from __future__ import annotations

import hashlib
from datetime import datetime, timezone
from pathlib import Path

import yaml

from storewatch import audit
from storewatch.ingest.values import ValueScrubber
from storewatch.learn import registry
from storewatch.workspace import Workspace

FILE = "exclusions.yml"


def path(ws: Workspace) -> Path:
    return registry.root(ws) / FILE


def _time(value: str | datetime) -> datetime:
    ts = value if isinstance(value, datetime) else datetime.fromisoformat(str(value).replace("Z", "+00:00"))
    return ts if ts.tzinfo else ts.replace(tzinfo=timezone.utc)


def periods(ws: Workspace) -> list[dict]:
    """Every excluded period, with `from`/`to` as UTC datetimes."""
    if not path(ws).exists():
        return []
    doc = yaml.safe_load(path(ws).read_text(encoding="utf-8")) or []
    return [{**p, "from": _time(p["from"]), "to": _time(p["to"])} for p in doc]


def _save(ws: Workspace, rows: list[dict]) -> None:
    path(ws).parent.mkdir(parents=True, exist_ok=True)
    doc = [{**p, "from": p["from"].isoformat(), "to": p["to"].isoformat()} for p in rows]
    path(ws).write_text(yaml.safe_dump(doc, sort_keys=False, allow_unicode=True), encoding="utf-8")


def add(ws: Workspace, start: str, end: str, reason: str, actor: str | None = None) -> dict:
    """Exclude [start, end) from training; the reason is required (it is what a reviewer reads)."""
    begin, finish = _time(start), _time(end)
    if finish <= begin:
        raise ValueError(f"--to ({end}) must be after --from ({start})")
    if not reason.strip():
        raise ValueError("a reason is required")
    actor = actor or audit.default_actor()
    reason = ValueScrubber(ws.token_key()).text(reason.strip())[0]
    pid = hashlib.sha256(f"{begin.isoformat()}|{finish.isoformat()}|{reason}".encode()).hexdigest()[:12]
    row = {"id": pid, "from": begin, "to": finish, "reason": reason, "actor": actor, "created": registry.now_iso()}
    rows = [p for p in periods(ws) if p["id"] != pid] + [row]
    _save(ws, rows)
    audit.append(ws, "models.exclude", {"id": pid, "from": begin.isoformat(), "to": finish.isoformat()},
                 reason, "period excluded from training", actor=actor)
    return row


def remove(ws: Workspace, pid: str, actor: str | None = None) -> dict:
    rows = periods(ws)
    found = next((p for p in rows if p["id"] == pid), None)
    if found is None:
        raise ValueError(f"no excluded period {pid!r}")
    _save(ws, [p for p in rows if p["id"] != pid])
    audit.append(ws, "models.include", {"id": pid}, found["reason"], "period no longer excluded", actor=actor)
    return found
