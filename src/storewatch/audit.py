"""The append-only audit log: who did what, when, why and with what result, for every action that changes
something outside the store (response actions, rollbacks) or the store's judgement (feedback, suppressions),
and every lockout of the dashboard's sign-in.

Entries are JSON lines in `<workspace>/audit.jsonl`. Three things make tampering show (`verify`):
- each entry carries the SHA-256 of the line before it (`prev`), so removing or reordering entries breaks
  the chain where it happened;
- each entry ends with an HMAC (`mac`) under a key derived from the workspace key, so an edit is found at its
  line even when the editor recomputes the chain;
- the seal `<workspace>/audit.head` holds the hash of the last entry, signed with the same key, so deleting
  the last entries or emptying the file is found too. `seal` gives that hash as text to keep elsewhere:
  with it, even deleting the log and its seal together shows.
Appends hold an exclusive lock on the log, so concurrent writers never interleave or fork the chain.
Secrets never belong in an entry: callers pass descriptions, and `append` masks values of keys that look
like credentials.
"""

from __future__ import annotations

import fcntl
import getpass
import hashlib
import hmac
import os
import re
from contextlib import contextmanager
from datetime import datetime, timezone
from pathlib import Path
from typing import Any, Iterator, Mapping

import orjson

from storewatch.workspace import Workspace

GENESIS = "0" * 64
_SECRET_KEYS = ("token", "secret", "password", "authorization", "api_key", "apikey", "credential")
_KEY_PURPOSE = b"storewatch audit log v1"  # the workspace key is also the card-number key: derive, never reuse
_MAC_TAIL = re.compile(rb',"mac":"([0-9a-f]{64})"}$')
_SEAL_TEXT = re.compile(r"^[0-9a-f]{64}$")


def log_path(ws: Workspace) -> Path:
    return ws.home / "audit.jsonl"


def head_path(ws: Workspace) -> Path:
    return ws.home / "audit.head"


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


def _key(ws: Workspace) -> bytes:
    return hmac.new(ws.token_key(), _KEY_PURPOSE, hashlib.sha256).digest()


def _mac(key: bytes, data: bytes) -> str:
    return hmac.new(key, data, hashlib.sha256).hexdigest()


def _digest(line: bytes) -> str:
    return hashlib.sha256(line).hexdigest()


def _write_head(ws: Workspace, key: bytes, last: str) -> None:
    """Replace the signed seal atomically: a crash leaves the old one, whose entry the log still holds."""
    body = {"last": last, "mac": _mac(key, last.encode())}
    tmp = head_path(ws).with_suffix(".tmp")
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    try:
        os.write(fd, orjson.dumps(body) + b"\n")
        os.fsync(fd)
    finally:
        os.close(fd)
    os.replace(tmp, head_path(ws))


def _read_head(ws: Workspace, key: bytes) -> tuple[str | None, str | None]:
    """The sealed last entry's hash, or a sentence saying why there is none to trust."""
    try:
        doc = orjson.loads(head_path(ws).read_bytes())
        last = str(doc["last"])
        signed = hmac.compare_digest(str(doc["mac"]), _mac(key, last.encode()))
    except FileNotFoundError:
        return None, None
    except (orjson.JSONDecodeError, KeyError, TypeError, ValueError):
        return None, "the seal (audit.head) is damaged"
    return (last, None) if signed else (None, "the seal (audit.head) is not signed with this workspace's key")


def _last_line(fd: int, size: int) -> bytes:
    """The file's last line without its newline, read backwards in blocks (an entry may be any length)."""
    end = size - 1 if size and os.pread(fd, 1, size - 1) == b"\n" else size
    chunks: list[bytes] = []
    pos = end
    while pos > 0:
        start = max(0, pos - 65536)
        block = os.pread(fd, pos - start, start)
        cut = block.rfind(b"\n")
        if cut >= 0:
            chunks.append(block[cut + 1:])
            break
        chunks.append(block)
        pos = start
    return b"".join(reversed(chunks))


@contextmanager
def _locked(path: Path, mode: int) -> Iterator[int]:
    """The log's descriptor under `mode` (LOCK_EX to append, LOCK_SH to read a whole, untorn log)."""
    flags = os.O_RDWR | os.O_CREAT | os.O_APPEND if mode == fcntl.LOCK_EX else os.O_RDONLY
    fd = os.open(path, flags, 0o600)
    try:
        fcntl.flock(fd, mode)
        yield fd
    finally:
        os.close(fd)  # releases the lock


def append(ws: Workspace, action: str, what: Mapping[str, Any], why: str, result: str,
           actor: str | None = None) -> dict:
    """Write one entry and flush it and the new seal to disk before returning; returns the entry as written."""
    key = _key(ws)
    with _locked(log_path(ws), fcntl.LOCK_EX) as fd:
        size = os.fstat(fd).st_size
        if size and os.pread(fd, 1, size - 1) != b"\n":  # a torn write: keep the fragment as its own line
            size += os.write(fd, b"\n")
        entry = {
            "at": datetime.now(timezone.utc).isoformat(timespec="milliseconds").replace("+00:00", "Z"),
            "actor": actor or default_actor(),
            "action": action,
            "what": _mask(dict(what)),
            "why": why,
            "result": result,
            "prev": _digest(_last_line(fd, size)) if size else GENESIS,
        }
        body = orjson.dumps(entry)
        entry["mac"] = _mac(key, body)
        line = orjson.dumps(entry)
        os.write(fd, line + b"\n")
        os.fsync(fd)
        _write_head(ws, key, _digest(line))
    return entry


def entries(ws: Workspace) -> Iterator[dict]:
    """The entries that can be read; damaged lines are left out here and named by `verify`."""
    path = log_path(ws)
    if path.exists():
        with path.open("rb") as fh:
            for line in fh:
                try:
                    entry = orjson.loads(line)
                except orjson.JSONDecodeError:
                    continue
                if isinstance(entry, dict):
                    yield entry


def _line_problem(raw: bytes, prev: str, key: bytes) -> str | None:
    try:
        entry = orjson.loads(raw)
    except orjson.JSONDecodeError:
        return "not JSON"
    if not isinstance(entry, dict):
        return "not an entry"
    m = _MAC_TAIL.search(raw)
    if m is None:
        return "not signed (forged, or written by a version that did not sign)"
    if not hmac.compare_digest(m[1].decode(), _mac(key, raw[:m.start()] + b"}")):
        return "signature does not match (the entry was edited)"
    if entry.get("prev") != prev:
        return "chain broken (an entry before it was changed or removed)"
    return None


def _lines(ws: Workspace) -> list[bytes]:
    """Each line of the log without its newline, read under a shared lock (never half an append)."""
    path = log_path(ws)
    if not path.exists():
        return []
    with _locked(path, fcntl.LOCK_SH) as fd, os.fdopen(os.dup(fd), "rb") as fh:
        return [line.rstrip(b"\n") for line in fh]


def seal(ws: Workspace) -> str:
    """The hash of the last entry, to keep outside the workspace and pass to `verify` later."""
    lines = _lines(ws)
    return _digest(lines[-1]) if lines else GENESIS


def verify(ws: Workspace, kept: str | None = None) -> list[str]:
    """What is wrong with the log (empty when intact): each problem names its line, or the seal it breaks.

    `kept` is a seal from `seal()` kept elsewhere: the entry it names must still be in the log."""
    if kept is not None and not _SEAL_TEXT.match(kept):
        raise ValueError(f"{kept!r} is not a seal (the SHA-256 that `storewatch audit seal` prints)")
    key = _key(ws)
    lines = _lines(ws)
    problems, prev = [], GENESIS
    for n, raw in enumerate(lines, 1):
        problem = _line_problem(raw, prev, key)
        if problem:
            problems.append(f"line {n}: {problem}")
        prev = _digest(raw)
    head, damaged = _read_head(ws, key)
    if damaged:
        problems.append(damaged)
    elif head is None and lines:
        problems.append("the seal (audit.head) is missing")
    present = {_digest(raw) for raw in lines} | {GENESIS}
    for name, last in (("the seal (audit.head)", head), ("the kept seal", kept)):
        if last is not None and last not in present:
            problems.append(f"{name} names an entry the log no longer holds "
                            "(the last entries were removed or changed, or the file emptied)")
    return problems
