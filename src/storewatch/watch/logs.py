"""What a long-running `watch` says: a structured log (JSON lines) and a status line on a terminal.

Every event is one JSON object (`ts`, `event`, then its fields), written to stderr with `--log-json` and
appended to `--log-file`; a terminal without `--log-json` shows a one-line status (Rich) and the events
that matter (problems, stops) as text. Values from logs (file names) are printed through
`storewatch.terminal`, so a hostile name cannot drive the terminal.
"""

from __future__ import annotations

import sys
import threading
from contextlib import nullcontext
from datetime import datetime, timezone
from pathlib import Path
from typing import IO

import orjson
from rich.console import Console
from rich.live import Live
from rich.text import Text

from storewatch.terminal import visible

_QUIET_EVENTS = {"pass"}  # shown in the status line on a terminal, not as lines of text


class Log:
    def __init__(self, json_stream: bool = False, path: Path | None = None):
        self._json = json_stream
        self._file: IO[bytes] | None = open(path, "ab") if path is not None else None
        self._console = Console(stderr=True, emoji=False, highlight=False)
        self._lock = threading.Lock()

    def __call__(self, event: str, **fields: object) -> None:
        record = {"ts": datetime.now(timezone.utc).isoformat(timespec="milliseconds"), "event": event, **fields}
        line = orjson.dumps(record, default=str, option=orjson.OPT_NON_STR_KEYS) + b"\n"
        with self._lock:
            if self._file is not None:
                self._file.write(line)
                self._file.flush()
            if self._json:
                sys.stderr.write(line.decode())
                sys.stderr.flush()
            elif event not in _QUIET_EVENTS:
                text = " ".join(f"{k}={v}" for k, v in fields.items())
                self._console.print(Text(visible(f"{record['ts']} {event} {text}")))

    def close(self) -> None:
        if self._file is not None:
            self._file.close()


class StatusLine:
    """One line, refreshed after every pass, on a terminal; nothing elsewhere."""

    def __init__(self) -> None:
        self._console = Console(stderr=True, emoji=False, highlight=False)
        self._live = Live(Text("watching…"), console=self._console, transient=False, auto_refresh=False) \
            if self._console.is_terminal else None

    def __enter__(self) -> "StatusLine":
        if self._live is not None:
            self._live.__enter__()
        return self

    def __exit__(self, *exc) -> None:
        if self._live is not None:
            self._live.__exit__(*exc)

    def update(self, totals) -> None:
        if self._live is None:
            return
        t = totals.as_dict()
        line = (f"{t['files']} files · {t.get('stored', 0):,} stored · {t.get('quarantined', 0):,} quarantined · "
                f"{t.get('duplicates', 0):,} duplicates · {t['alerts']} alerts · {t['incidents']} incidents "
                f"({t.get('new_incidents', 0)} new) · {sum(t['problems'].values())} file problems · "
                f"pass {t['last_pass_seconds']:.1f}s")
        self._live.update(Text(line), refresh=True)


def nothing():
    return nullcontext()
