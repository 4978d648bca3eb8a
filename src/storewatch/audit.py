"""The append-only audit log: who did what, when, why and with what result, for every action that changes
something outside the store (response actions, rollbacks) or the store's judgement (feedback, suppressions).

Entries are JSON lines in `<workspace>/audit.jsonl`, each carrying the SHA-256 of the previous line, so
removing or editing an entry breaks the chain and `verify` says where. Secrets never belong in an entry:
callers pass descriptions, and `append` masks values of keys that look like credentials.
"""

from __future__ import annotations

import getpass
import hashlib
import os
from datetime import datetime, timezone
from pathlib import Path
from typing import Any, Iterator, Mapping

import orjson

from storewatch.workspace import Workspace

GENESIS = "0" * 64
_SECRET_KEYS = ("token", "secret", "password", "authorization", "api_key", "apikey", "credential")


def log_path(ws: Workspace) -> Path:
    return ws.home / "audit.jsonl"


def default_actor() -> str:
    """The person acting: STOREWATCH_ACTOR when set (the dashboard sets it per request), else the OS user."""
    try:
        return os.environ.get("STOREWATCH_ACTOR") or getpass.getuser()
    except (KeyError, OSError):
        return "unknown"


def _mask(value: Any) -> Any:
    if isinstance(value, Mapping):
        return {k: ("***" if any(s in str(k).lower() for s in _SECRET_KEYS) else _mask(v)) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [_mask(v) for v in value]
    return value


def _last_hash(path: Path) -> str:
    if not path.exists() or path.stat().st_size == 0:
        return GENESIS
    with path.open("rb") as fh:
        fh.seek(max(0, path.stat().st_size - 65536))
        last = fh.read().splitlines()[-1]
    return hashlib.sha256(last).hexdigest()


def append(ws: Workspace, action: str, what: Mapping[str, Any], why: str, result: str,
           actor: str | None = None) -> dict:
    """Write one entry and flush it to disk before returning; returns the entry as written."""
    path = log_path(ws)
    entry = {
        "at": datetime.now(timezone.utc).isoformat(timespec="milliseconds").replace("+00:00", "Z"),
        "actor": actor or default_actor(),
        "action": action,
        "what": _mask(dict(what)),
        "why": why,
        "result": result,
        "prev": _last_hash(path),
    }
    line = orjson.dumps(entry) + b"\n"
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_APPEND, 0o600)
    try:
        os.write(fd, line)
        os.fsync(fd)
    finally:
        os.close(fd)
    return entry


def entries(ws: Workspace) -> Iterator[dict]:
    path = log_path(ws)
    if path.exists():
        with path.open("rb") as fh:
            for line in fh:
                if line.strip():
                    yield orjson.loads(line)


def verify(ws: Workspace) -> list[str]:
    """Problems in the chain (empty when intact): each names the line that does not follow its predecessor."""
    path = log_path(ws)
    if not path.exists():
        return []
    problems, prev = [], GENESIS
    with path.open("rb") as fh:
        for n, line in enumerate(fh, 1):
            raw = line.rstrip(b"\n")
            try:
                entry = orjson.loads(raw)
            except orjson.JSONDecodeError:
                problems.append(f"line {n}: not JSON")
                prev = hashlib.sha256(raw).hexdigest()
                continue
            if entry.get("prev") != prev:
                problems.append(f"line {n}: chain broken (an entry before it was changed or removed)")
            prev = hashlib.sha256(raw).hexdigest()
    return problems
