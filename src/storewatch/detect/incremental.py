"""Detection while events arrive (`storewatch watch`): one pass after each batch that stored something.

A pass runs every detection over a sliding window of event time (the last `window` before the newest
event stored), replaces the alerts those events can raise (last seen within the window) and keeps the
older ones, then correlates all alerts into incidents as `storewatch detect` does. Incident ids are
stable across passes, so an incident that grows keeps its id and one that appears gets a new one.

On the same events, with a window that covers them, a pass gives exactly the alerts and incidents of the
full-pass `detect` (tested: tests/watch/test_watch.py). With a shorter window, detections that look
further back than the window (behaviour baselines learnt over weeks) see only the window: run the
full-pass `detect` now and then (a timer) for those.

Functions in `after_pass` are called with the workspace and the pass's report once the pass is
committed and published (the notifier of `storewatch.respond.notify` plugs in here).
"""

from __future__ import annotations

from contextlib import contextmanager
from datetime import datetime, timedelta
from typing import Callable, Iterator

import duckdb

from storewatch.detect.detection import Detection
from storewatch.detect.engine import DetectReport, detect_in
from storewatch.store import segments
from storewatch.workspace import Workspace

AfterPass = Callable[[Workspace, DetectReport], None]
after_pass: list[AfterPass] = []


def detect_pass(con: duckdb.DuckDBPyConnection, ws: Workspace, detections: list[Detection],
                window: timedelta) -> DetectReport | None:
    """Detect and correlate over the last `window` of event time; None when the store holds no events."""
    newest = con.execute("SELECT max(time) FROM events").fetchone()[0]
    if newest is None:
        return None
    since = newest - window
    with windowed(con, ws, since):
        return detect_in(con, ws, detections, since=since)


def run_after_pass(ws: Workspace, report: DetectReport, log: Callable[..., None]) -> None:
    """Call every `after_pass` hook; a failing hook is logged, and the others still run."""
    for hook in list(after_pass):
        try:
            hook(ws, report)
        except Exception as exc:  # a notifier that fails must not stop the watch
            log("after_pass_failed", hook=getattr(hook, "__qualname__", repr(hook)),
                error=f"{exc.__class__.__name__}: {exc}")


@contextmanager
def windowed(con: duckdb.DuckDBPyConnection, ws: Workspace, since: datetime) -> Iterator[None]:
    """The connection's `events` view limited to the events from `since` on, for the block."""
    con.execute(segments.view_sql(ws, since=since.isoformat()))
    try:
        yield
    finally:
        con.execute(segments.view_sql(ws))
