"""What the receiver has taken, refused and dropped: counters kept in memory and written to a status file.

The file (`<home>/receive/status.json`) is replaced whole every second and at shutdown, so `storewatch
receive --status` (another process) reads a consistent copy without talking to the receiver.
"""

from __future__ import annotations

import json
import os
from collections import Counter
from dataclasses import dataclass, field
from datetime import datetime, timezone
from pathlib import Path

from storewatch.workspace import Workspace


def receive_dir(ws: Workspace) -> Path:
    """The receiver's own files (status, lock, quarantine): beside the inbox, never in it."""
    return ws.home / "receive"


def status_path(ws: Workspace) -> Path:
    return receive_dir(ws) / "status.json"


@dataclass
class Counters:
    accepted: Counter = field(default_factory=Counter)  # events spooled, per source
    refused: Counter = field(default_factory=Counter)  # requests refused, per "source: reason"
    malformed: Counter = field(default_factory=Counter)  # frames and bodies quarantined, per "source: reason"
    dropped: Counter = field(default_factory=Counter)  # what could not be kept, per "source: reason" (UDP)
    duplicate: Counter = field(default_factory=Counter)  # vendor retries of an event already spooled, per source
    paused: Counter = field(default_factory=Counter)  # times a TCP connection was not read while the spool was full
    spooled_bytes: int = 0
    pans_scrubbed: int = 0

    def as_dict(self) -> dict:
        return {"accepted": dict(self.accepted), "refused": dict(self.refused), "malformed": dict(self.malformed),
                "dropped": dict(self.dropped), "duplicate": dict(self.duplicate), "paused": dict(self.paused),
                "spooled_bytes": self.spooled_bytes, "pans_scrubbed": self.pans_scrubbed}


def write_status(ws: Workspace, counters: Counters, listening: dict[str, str], started: datetime,
                 spool: dict) -> None:
    path = status_path(ws)
    doc = {"pid": os.getpid(), "started": started.isoformat(), "updated": datetime.now(timezone.utc).isoformat(),
           "listening": listening, "spool": spool, **counters.as_dict()}
    _replace(path, doc)


def read_status(ws: Workspace) -> dict | None:
    """The last status written, with `running` telling whether its process is still alive; None if never run."""
    try:
        doc = json.loads(status_path(ws).read_text())
    except (OSError, ValueError):
        return None
    try:
        pid = int(doc.get("pid", 0))
        if pid > 0:
            os.kill(pid, 0)
        doc["running"] = pid > 0 and doc.get("stopped") is None
    except (OSError, ValueError):
        doc["running"] = False
    return doc


def mark_stopped(ws: Workspace) -> None:
    """Note in the status file that the receiver stopped cleanly."""
    path = status_path(ws)
    try:
        doc = json.loads(path.read_text())
    except (OSError, ValueError):
        return
    doc["stopped"] = datetime.now(timezone.utc).isoformat()
    _replace(path, doc)


def _replace(path: Path, doc: dict) -> None:
    tmp = path.with_name(f".{path.name}.{os.getpid()}")
    tmp.write_text(json.dumps(doc, indent=1, sort_keys=True))
    os.replace(tmp, path)
