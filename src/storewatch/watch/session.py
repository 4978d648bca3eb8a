"""`storewatch watch`: follow files, ingest what they gain, detect and correlate, until told to stop.

One loop, one writer: every `interval` seconds the follower plans the reads (`follow.Follower.look`); what
they gained goes through the ingest engine (same readers, accounting, quarantine, card-number scrubbing
and deduplication as `ingest`); the pass's accounting and the files' checkpoints commit in one
transaction; detection and correlation run over the recent window (`storewatch.detect.incremental`); a
read snapshot is published, so `incidents`, `status` and the dashboard see the pass at once; then the
`after_pass` hooks run.

A watch session is one ingest run (one `ingest_runs` row, one `ingest_files` row per file and format),
whose counts grow with every pass: read = stored + quarantined + duplicates holds at every commit.

SIGINT and SIGTERM end the loop after the pass under way (committed, published); the process exits 0.
"""

from __future__ import annotations

import signal
from collections import Counter
import threading
import time
from dataclasses import dataclass, field
from datetime import datetime, timedelta, timezone
from pathlib import Path
from typing import Callable

import duckdb
import pyarrow as pa

from storewatch.detect import incremental
from storewatch.detect.engine import DetectReport
from storewatch.detect.registry import load_detections
from storewatch.ingest import engine
from storewatch.ingest.privacy import make_scrubber
from storewatch.ingest.values import ValueScrubber
from storewatch.store import db, snapshot
from storewatch.watch import checkpoints
from storewatch.watch.follow import Follower
from storewatch.workspace import Workspace

Log = Callable[..., None]
CATCH_UP_SECONDS = 10.0  # a follower behind (more to read than a batch) stores this long before detecting


@dataclass
class Totals:
    """What the session did so far, for the status line and the log."""

    counts: Counter = field(default_factory=Counter)  # passes, read, stored, quarantined, duplicates, new_incidents
    detected: DetectReport | None = None  # the last detection pass
    files: int = 0
    problems: dict[str, int] = field(default_factory=dict)
    last_pass_seconds: float = 0.0

    def as_dict(self) -> dict:
        last = self.detected
        return {**self.counts, "alerts": last.alerts if last else 0, "incidents": last.incidents if last else 0,
                "files": self.files, "problems": self.problems, "last_pass_seconds": self.last_pass_seconds}


@dataclass
class Options:
    interval: float = 1.0  # seconds between looks when nothing was read
    window: timedelta = timedelta(hours=24)
    tz: str = "UTC"
    quiet: float = 2.0
    budget: int = 16 << 20
    rules: Path | None = None
    once: bool = False  # one look, one pass, then stop (tests, cron)
    detect: bool = True  # False: store only (detection runs elsewhere, e.g. a timed `storewatch detect`)


class Watch:
    def __init__(self, ws: Workspace, paths: list[Path], options: Options, log: Log,
                 status: Callable[[Totals], None] | None = None):
        self.ws, self.options, self.log, self.status = ws, options, log, status
        self.totals = Totals()
        self.stopping = threading.Event()
        self.follower = Follower(ws, [Path(p) for p in paths], log, quiet=options.quiet, budget=options.budget)

    def stop(self, *_: object) -> None:
        """Ask the loop to end after the pass under way (a signal handler)."""
        self.stopping.set()

    def run(self) -> Totals:
        con = db.connect(self.ws)
        try:
            self.follower.known = checkpoints.load(con)
            run_id = con.execute("SELECT coalesce(max(run_id), 0) + 1 FROM ingest_runs").fetchone()[0]
            detections, errors = load_detections(self.ws, self.options.rules) if self.options.detect else ([], [])
            for e in errors:
                self.log("rule_not_loaded", **e)
            scrub, values = make_scrubber(self.ws.token_key()), ValueScrubber(self.ws.token_key())
            started = datetime.now(timezone.utc)
            self.log("watch_started", run_id=run_id, paths=[str(p) for p in self.follower.paths],
                     files_known=len(self.follower.known), detections=len(detections))
            while not self.stopping.is_set():
                began = time.monotonic()
                stored = self._pass(con, run_id, started, scrub, values, detections)
                if self.status:
                    self.status(self.totals)
                if self.options.once:
                    break
                if not stored:
                    self.stopping.wait(max(self.options.interval - (time.monotonic() - began), 0.05))
            self.log("watch_stopped", **self.totals.as_dict())
            return self.totals
        finally:
            con.close()

    def _pass(self, con: duckdb.DuckDBPyConnection, run_id: int, started: datetime, scrub, values,
              detections: list) -> bool:
        """Batches until the files are caught up (each committed on its own: memory stays bounded by a
        batch), then one detection and one snapshot for them all; whether anything was read. Catching up
        first keeps a slow detection from holding back a backlog: it runs once per `CATCH_UP_SECONDS`
        at most while the follower is behind."""
        began = time.monotonic()
        t: Counter = Counter()
        while True:
            reads, gone = self.follower.look()
            self.totals.problems = dict(self.follower.problems)
            if not reads and not gone:
                break
            t.update(self._batch(con, run_id, started, reads, gone, scrub, values))
            t["files_read"] += len(reads)
            if not self.follower.behind or self.stopping.is_set() or time.monotonic() - began > CATCH_UP_SECONDS:
                break
        if not t:
            return False
        detected = None
        if t["stored"] and self.options.detect:
            detected = incremental.detect_pass(con, self.ws, detections, self.options.window)
        snapshot.publish(con, self.ws)
        self.totals.counts["passes"] += 1
        self.totals.files = len(self.follower.known)
        self.totals.last_pass_seconds = round(time.monotonic() - began, 3)
        fields = {"files_read": 0, "batches": 0, "read": 0, "stored": 0, "quarantined": 0, "duplicates": 0, **t,
                  "seconds": self.totals.last_pass_seconds}
        if detected is not None:
            self.totals.detected = detected
            self.totals.counts["new_incidents"] += detected.new_incidents
            fields |= {"alerts": detected.alerts, "incidents": detected.incidents,
                       "new_incidents": detected.new_incidents, "detect_seconds": detected.seconds}
            for e in detected.errors:
                self.log("detection_failed", **e)
        self.log("pass", **fields)
        if detected is not None:
            incremental.run_after_pass(self.ws, detected, self.log)
        return bool(t["files_read"])

    def _batch(self, con: duckdb.DuckDBPyConnection, run_id: int, started: datetime, reads: list, gone: list,
               scrub, values) -> Counter:
        """Store what the planned reads gained; commit the accounting and checkpoints in one transaction."""
        reports = engine.store_items(con, self.follower.items(reads, scrub, values), self.ws, self.options.tz, run_id)
        done = []
        for read in reads:
            if read.failed:
                if read.cp.seen is not None:
                    del read.cp.seen[read.numbered:]  # the numbering goes back with the checkpoint
                continue
            if read.cp.kind == "tail":
                checkpoints.extend_numbering(self.ws, read.cp, read.cp.seen[read.numbered:])
            self.follower.advance(read)
            done.append(read.cp)
        con.execute("BEGIN")
        try:
            _account(con, run_id, started, reports)
            checkpoints.save(con, done)
            checkpoints.drop(con, gone)
            con.execute("COMMIT")
        except BaseException:
            con.execute("ROLLBACK")
            raise
        for cp in gone:
            checkpoints.forget_numbering(self.ws, cp)
        t = Counter({k: sum(getattr(r, k) for r in reports) for k in ("read", "stored", "quarantined", "duplicates")})
        self.totals.counts.update(t)
        t["batches"] = 1
        return t


def _account(con: duckdb.DuckDBPyConnection, run_id: int, started: datetime, reports: list[engine.FileReport]) -> None:
    """Add a pass's counts to the session's run and its files (inside the caller's transaction)."""
    keys = ("read", "stored", "quarantined", "duplicates")
    t = {k: sum(getattr(r, k) for r in reports) for k in keys}
    con.execute("INSERT INTO ingest_runs SELECT ?, ?, now(), 0, 0, 0, 0, 0 "
                "WHERE NOT EXISTS (SELECT 1 FROM ingest_runs WHERE run_id = ?)", [run_id, started, run_id])
    if reports:
        files = pa.Table.from_pylist([r.as_dict() for r in reports]).select(
            ["source_file", "source_format", *keys, "pans_scrubbed", "notes"])
        with db.registered(con, _files=files):
            con.execute("""
                CREATE OR REPLACE TEMP TABLE _pass_files AS
                SELECT source_file, source_format, sum(read) AS read, sum(stored) AS stored,
                       sum(quarantined) AS quarantined, sum(duplicates) AS duplicates,
                       sum(pans_scrubbed) AS pans_scrubbed, string_agg(nullif(notes, ''), '; ') AS note
                FROM _files GROUP BY ALL""")
        con.execute("""
            UPDATE ingest_files f SET read = f.read + p.read, stored = f.stored + p.stored,
                   quarantined = f.quarantined + p.quarantined, duplicates = f.duplicates + p.duplicates,
                   pans_scrubbed = f.pans_scrubbed + p.pans_scrubbed, note = coalesce(p.note, f.note)
            FROM _pass_files p
            WHERE f.run_id = ? AND f.source_file = p.source_file AND f.source_format = p.source_format""", [run_id])
        con.execute("""
            INSERT INTO ingest_files
            SELECT ?, source_file, source_format, read, stored, quarantined, duplicates, pans_scrubbed, coalesce(note, '')
            FROM _pass_files p WHERE NOT EXISTS (SELECT 1 FROM ingest_files f WHERE f.run_id = ?
                AND f.source_file = p.source_file AND f.source_format = p.source_format)""", [run_id, run_id])
        con.execute("DROP TABLE _pass_files")
    con.execute("""
        UPDATE ingest_runs SET finished = now(), read = read + ?, stored = stored + ?, quarantined = quarantined + ?,
               duplicates = duplicates + ?, files = (SELECT count(DISTINCT source_file) FROM ingest_files WHERE run_id = ?)
        WHERE run_id = ?""", [t["read"], t["stored"], t["quarantined"], t["duplicates"], run_id, run_id])


def install_signals(watch: Watch) -> None:
    """SIGINT and SIGTERM end the watch cleanly after the pass under way."""
    signal.signal(signal.SIGINT, watch.stop)
    signal.signal(signal.SIGTERM, watch.stop)
