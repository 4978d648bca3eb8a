"""The write-ahead spool: pushed events on disk, scrubbed, before anyone is told they were received.

Each source appends to `<home>/inbox/<source>/<source>.log` (syslog lines) or `.jsonl` (JSON objects, one per
line): one write, flush and fsync per batch, then the caller acknowledges. At `rotate_bytes` the file is renamed
to `<source>-<UTC time>.<ext>` and a new one started, so `watch` (which follows renames) and `ingest` (which
reads the folder) both see every line. Card numbers are replaced before the bytes reach the disk, by the same
two passes as ingest (raw bytes, then decoded values), so nothing at rest holds a PAN.

Frames and bodies that are not events go to `<home>/receive/quarantine/<source>.jsonl` with their reason,
outside the inbox: they are kept for a person to look at, not fed to the readers.
"""

from __future__ import annotations

import logging
import os
import shutil
from dataclasses import dataclass
from datetime import datetime, timezone
from pathlib import Path
from typing import BinaryIO

import orjson
import pyarrow as pa

from storewatch.ingest.privacy import make_scrubber
from storewatch.ingest.values import ValueScrubber
from storewatch.receive.status import Counters, receive_dir
from storewatch.workspace import Workspace

log = logging.getLogger("storewatch.receive")

QUARANTINE_MAX = 64 << 20  # bytes per source: a flood of garbage is counted, not kept without end


@dataclass(frozen=True)
class Limits:
    rotate_bytes: int = 64 << 20
    max_bytes: int = 4 << 30  # the inbox's size at which senders are held back
    min_free_bytes: int = 512 << 20  # free disk space below which senders are held back


def inbox(ws: Workspace) -> Path:
    return ws.home / "inbox"


class Spool:
    """Appends scrubbed lines per source and keeps malformed input aside; says when it is too full."""

    def __init__(self, ws: Workspace, limits: Limits, counters: Counters) -> None:
        self.root = inbox(ws)
        self.quarantine_dir = receive_dir(ws) / "quarantine"
        for folder in (self.root, self.quarantine_dir):
            folder.mkdir(parents=True, exist_ok=True, mode=0o700)
        self.limits = limits
        self.counters = counters
        key = ws.token_key()
        self._raw, self._values = make_scrubber(key), ValueScrubber(key)
        self._files: dict[str, BinaryIO] = {}
        self.size = self.measure()

    def append(self, source: str, lines: list[str]) -> None:
        """Write one batch of lines (none holds a newline) durably; return only once it is on disk."""
        if not lines:
            return
        data = self._scrubbed(lines)
        fh = self._file(source)
        fh.write(data)
        fh.flush()
        os.fsync(fh.fileno())
        self.size += len(data)
        self.counters.spooled_bytes += len(data)
        self.counters.accepted[source] += len(lines)
        if fh.tell() >= self.limits.rotate_bytes:
            self._rotate(source)

    def quarantine(self, source: str, reason: str, sample: bytes | str, peer: str) -> None:
        """Count, log and keep (scrubbed) what is not an event, with why."""
        self.counters.malformed[f"{source}: {reason}"] += 1
        log.warning("malformed source=%s peer=%s reason=%r", source, peer, reason)
        path = self.quarantine_dir / f"{source}.jsonl"
        if path.exists() and path.stat().st_size >= QUARANTINE_MAX:
            self.counters.dropped[f"{source}: quarantine full"] += 1
            return
        text = sample.decode("utf-8", "backslashreplace") if isinstance(sample, bytes) else sample
        record = {"received": datetime.now(timezone.utc).isoformat(), "source": source, "peer": peer,
                  "reason": reason, "sample": text}
        data = self._scrubbed([orjson.dumps(record).decode()])
        fd = os.open(path, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o600)
        try:
            os.write(fd, data)
            os.fsync(fd)
        finally:
            os.close(fd)

    def too_full(self) -> str | None:
        """Why senders must wait (the inbox over its limit, the disk nearly full), or None."""
        if self.size >= self.limits.max_bytes:
            return f"spool holds {self.size:,} bytes, the limit is {self.limits.max_bytes:,}"
        free = shutil.disk_usage(self.root).free
        if free < self.limits.min_free_bytes:
            return f"{free:,} bytes free on the spool's disk, below {self.limits.min_free_bytes:,}"
        return None

    def measure(self) -> int:
        """Bytes in the inbox now (files read and removed by an operator no longer count)."""
        total = 0
        for folder, _, files in os.walk(self.root):
            for name in files:
                try:
                    total += os.stat(os.path.join(folder, name)).st_size
                except OSError:
                    continue  # removed while counted
        self.size = total
        return total

    def close(self) -> None:
        for fh in self._files.values():
            fh.close()
        self._files.clear()

    def _scrubbed(self, lines: list[str]) -> bytes:
        raw, found = self._raw("\n".join(lines).encode("utf-8", "surrogateescape"))
        column = pa.table({"line": raw.decode("utf-8", "replace").split("\n")})
        clean, counts = self._values.table(column)
        self.counters.pans_scrubbed += found + (int(counts.sum()) if counts is not None else 0)
        return ("\n".join(clean.column("line").to_pylist()) + "\n").encode()

    def _active(self, source: str) -> Path:
        return self.root / source / (f"{source}.log" if source == "syslog" else f"{source}.jsonl")

    def _file(self, source: str) -> BinaryIO:
        fh = self._files.get(source)
        if fh is None:
            path = self._active(source)
            path.parent.mkdir(exist_ok=True, mode=0o700)
            fh = self._files[source] = os.fdopen(os.open(path, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o600), "ab")
            if fh.tell() and not _ends_with_newline(path):
                fh.write(b"\n")  # a line cut by a crash stays a line of its own, not the start of the next
                self.size += 1
        return fh

    def _rotate(self, source: str) -> None:
        self._files.pop(source).close()
        active = self._active(source)
        stamp = datetime.now(timezone.utc).strftime("%Y%m%dT%H%M%S%f")
        os.rename(active, active.with_name(f"{source}-{stamp}{active.suffix}"))
        dir_fd = os.open(active.parent, os.O_RDONLY)
        try:
            os.fsync(dir_fd)  # the rename itself survives a crash
        finally:
            os.close(dir_fd)


def _ends_with_newline(path: Path) -> bool:
    with path.open("rb") as fh:
        fh.seek(-1, os.SEEK_END)
        return fh.read(1) == b"\n"
