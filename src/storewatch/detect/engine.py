"""Run every detection over the store and keep the alerts they raise, then hand over to correlation.

Detection is a full pass over the store each run: alerts have deterministic ids (detection id + key), so
running it twice updates alerts in place and adds nothing; an alert keeps the time it was first raised.
One failing detection (a broken user rule) is reported and does not stop the others. Detections that
share a batch key (the Sigma rules of one product's events) are handed to their batch's run together.
"""

from __future__ import annotations

import time
from datetime import datetime, timezone
from dataclasses import dataclass, field
from pathlib import Path
from typing import Callable, Iterable, Optional

import duckdb
import orjson
import pyarrow as pa

from storewatch import audit
from storewatch.correlate.incidents import correlate
from storewatch.correlate.summary import render_alert_summaries
from storewatch.detect.detection import ALERT_COLUMNS, OPTIONAL_COLUMNS, Detection, DetectionError, check_output
from storewatch.detect.registry import load_detections
from storewatch.learn import anomaly, exceptions
from storewatch.learn.feedback import apply_suppressions
from storewatch.store import db
from storewatch.workspace import Workspace

Progress = Callable[[str, int, int], None]
# What a failing detection raises (a user rule's SQL, a wrong output shape...); it is reported, not fatal.
FAILURES = (duckdb.Error, DetectionError, ValueError, KeyError, TypeError, ArithmeticError)


@dataclass
class DetectReport:
    run_id: int
    detections: int = 0
    alerts: int = 0
    new_alerts: int = 0
    incidents: int = 0
    new_incidents: int = 0
    suppressed: int = 0
    closed_by: dict[str, int] = field(default_factory=dict)  # exception id -> alerts it closed
    seconds: float = 0.0
    per_detection: dict[str, int] = field(default_factory=dict)
    errors: list[dict] = field(default_factory=list)

    def as_dict(self) -> dict:
        return dict(self.__dict__)


def run_detections(
    con: duckdb.DuckDBPyConnection, detections: Iterable[Detection], progress: Optional[Progress] = None
) -> tuple[pa.Table | None, dict[str, int], list[dict]]:
    """Run detections; return all candidate alerts (with metadata filled in), counts and errors."""
    detections = list(detections)
    tables: dict[str, pa.Table] = {}
    errors: list[dict] = []
    done = 0
    for run in _runs(detections):
        if progress:
            progress(run[0].id, done, len(detections))
        for det, result in zip(run, _run(con, run)):
            if isinstance(result, Exception):
                errors.append({"detection": det.id, "source": det.source, "error": f"{type(result).__name__}: {result}"})
            else:
                tables[det.id] = result
        done += len(run)
    if progress:
        progress("", len(detections), len(detections))
    counts = {det.id: tables[det.id].num_rows for det in detections if det.id in tables}
    parts = [_with_metadata(con, det, tables[det.id]) for det in detections if counts.get(det.id)]
    if not parts:
        return None, counts, errors
    return pa.concat_tables(parts, promote_options="permissive"), counts, errors


def _runs(detections: list[Detection]) -> list[list[Detection]]:
    """The detections in the runs they take: alone, or with all the others of their batch key."""
    runs: dict[tuple, list[Detection]] = {}
    for n, det in enumerate(detections):
        runs.setdefault(("alone", n) if det.batch is None else ("batch", det.batch.key), []).append(det)
    return list(runs.values())


def _run(con: duckdb.DuckDBPyConnection, run: list[Detection]) -> list[pa.Table | Exception]:
    """Each detection's checked output, or what it failed with. A batch that fails as a whole runs again one
    detection at a time, so that only a detection at fault is reported and the others keep their alerts."""
    results: list[pa.Table | Exception] | None = None
    if len(run) > 1:
        try:
            results = run[0].batch.run(con, [det.batch.member for det in run])
        except FAILURES:
            pass
    if results is None:
        results = [_alone(con, det) for det in run]
    return [_checked(det, result) for det, result in zip(run, results)]


def _alone(con: duckdb.DuckDBPyConnection, det: Detection) -> pa.Table | Exception:
    try:
        return det.query(con)
    except FAILURES as exc:
        return exc


def _checked(det: Detection, result: pa.Table | Exception) -> pa.Table | Exception:
    if isinstance(result, Exception):
        return result
    try:
        check_output(det, result)
    except DetectionError as exc:
        return exc
    return result


def _with_metadata(con: duckdb.DuckDBPyConnection, det: Detection, table: pa.Table) -> pa.Table:
    """Cast a detection's output to the alert shape and stamp it with the detection's metadata."""
    optional = {
        name: (name if name in table.column_names else "NULL") for name in OPTIONAL_COLUMNS
    }
    with db.registered(con, _candidates=table):
        return con.sql(
            f"""
            SELECT md5(? || '|' || key) AS alert_id, ? AS rule_id, ? AS kind, ? AS title, ? AS scenario,
                   coalesce(lower({optional['severity']}::VARCHAR), ?) AS severity,
                   coalesce({optional['confidence']}::DOUBLE, 1.0) AS confidence,
                   first_seen::TIMESTAMPTZ AS first_seen, last_seen::TIMESTAMPTZ AS last_seen,
                   event_count::BIGINT AS event_count,
                   list_filter(entities::{ALERT_COLUMNS['entities']}, lambda e: e.value IS NOT NULL AND e.value <> '')
                       AS entities,
                   evidence::JSON AS evidence, event_ids::VARCHAR[] AS event_ids, ?::VARCHAR[] AS attack,
                   {optional['store_id']}::VARCHAR AS store_id, {optional['channel']}::VARCHAR AS channel,
                   ? AS summary_template
            FROM _candidates WHERE key IS NOT NULL
            """,
            params=[det.id, det.id, det.kind, det.title, det.scenario, det.severity, list(det.attack), det.summary],
        ).to_arrow_table()


def store_alerts(con: duckdb.DuckDBPyConnection, candidates: pa.Table | None, started: float,
                 since: datetime | None = None) -> tuple[int, int]:
    """Replace the alert set with this run's, keeping when each alert was first raised. Returns (all, new).
    With `since` (a run over the events from then on: `storewatch watch`), only the alerts that could
    come from those events (last seen since then) are replaced; earlier ones stay as they were."""
    con.execute("BEGIN")
    try:
        existing = dict(con.execute("SELECT alert_id, detected_at FROM alerts").fetchall())
        if since is None:
            con.execute("DELETE FROM alerts")
        else:
            con.execute("DELETE FROM alerts WHERE last_seen >= ?", [since])
        if candidates is None or candidates.num_rows == 0:
            total = con.execute("SELECT count(*) FROM alerts").fetchall()[0][0]
            con.execute("COMMIT")
            return total, 0
        rendered = render_alert_summaries(candidates)
        with db.registered(con, _alerts=rendered):
            if since is not None:  # an alert of both: the run's, which saw only the newer events
                con.execute("DELETE FROM alerts WHERE alert_id IN (SELECT alert_id FROM _alerts)")
            con.execute(
                """
                INSERT INTO alerts BY NAME
                SELECT a.* EXCLUDE (summary_template), coalesce(p.detected_at, to_timestamp(?)) AS detected_at
                FROM (SELECT DISTINCT ON (alert_id) * FROM _alerts ORDER BY alert_id, event_count DESC) a
                LEFT JOIN (SELECT unnest(?::VARCHAR[]) AS alert_id, unnest(?::TIMESTAMPTZ[]) AS detected_at) p
                  USING (alert_id)
                """,
                [started, list(existing), list(existing.values())],
            )
        total = con.execute("SELECT count(*) FROM alerts").fetchall()[0][0]
        con.execute("COMMIT")
    except Exception:
        con.execute("ROLLBACK")
        raise
    new = len(set(rendered.column("alert_id").to_pylist()) - existing.keys())
    return total, new


def set_variables(con: duckdb.DuckDBPyConnection, ws: Workspace) -> None:
    """The workspace settings, which rules read as getvariable('sw_brand_domains'), ..."""
    for key, values in ws.settings().items():
        con.execute(f"SET VARIABLE sw_{key.replace('.', '_')} = ?::VARCHAR[]", [values])


def detect(ws: Workspace, progress: Optional[Progress] = None, rules_dir: Optional[Path] = None) -> DetectReport:
    """Run every detection, store the alerts, correlate them into incidents; one call per `storewatch detect`."""
    with db.opened(ws) as con:
        detections, load_errors = load_detections(ws, rules_dir)
        report = detect_in(con, ws, detections, progress, load_errors=load_errors)
    if report.suppressed:
        audit.append(ws, "detect.suppressed", {"run_id": report.run_id, "alerts": report.suppressed,
                                               "by_exception": report.closed_by},
                     "analyst exceptions and false-positive verdicts", "alerts closed, kept in suppressed_alerts")
    return report


def detect_in(con: duckdb.DuckDBPyConnection, ws: Workspace, detections: list[Detection],
              progress: Optional[Progress] = None, since: datetime | None = None,
              load_errors: Iterable[dict] = ()) -> DetectReport:
    """Run `detections` over the store `con` writes, store the alerts, correlate them into incidents and
    record the run. With `since`, the caller has limited the `events` view to the events from then on
    (`storewatch.detect.incremental`) and only the alerts those events can raise are replaced."""
    started = time.time()
    run_id = con.execute("SELECT coalesce(max(run_id), 0) + 1 FROM detect_runs").fetchall()[0][0]
    report = DetectReport(run_id=run_id, detections=len(detections), errors=list(load_errors))
    set_variables(con, ws)
    anomaly.bind(con, ws)  # the current model versions the behaviour detections grade with
    candidates, report.per_detection, errors = run_detections(con, detections, progress)
    report.errors.extend(errors)
    candidates, closed = close_excepted(ws, con, candidates, report)
    report.alerts, report.new_alerts = store_alerts(con, candidates, started, since)
    store_closed(con, closed, started, since)
    report.incidents, report.new_incidents = correlate(con, now=started)
    report.seconds = round(time.time() - started, 2)
    con.execute(
        "INSERT INTO detect_runs VALUES (?, to_timestamp(?), to_timestamp(?), ?, ?, ?, ?, ?, ?)",
        [run_id, started, time.time(), report.detections, report.alerts, report.new_alerts,
         report.incidents, report.new_incidents, _json(report.errors)],
    )
    return report


def close_excepted(ws: Workspace, con: duckdb.DuckDBPyConnection, candidates: pa.Table | None,
                   report: DetectReport) -> tuple[pa.Table | None, list[pa.Table]]:
    """Take out the alerts a false positive's suppression or an active exception closes; exception files
    that cannot be read are reported as errors of this run."""
    found, load_errors = exceptions.load(ws)
    report.errors.extend({"detection": "exceptions", "source": e["file"], "error": e["error"]} for e in load_errors)
    changes = exceptions.file_changes(ws, con)
    if changes:
        audit.append(ws, "exception.files", {**changes, "loaded": [ex.id for ex in found]},
                     "exception files changed in the workspace folder", "applied from this detect run")
    if candidates is None:
        return None, []
    candidates, by_feedback = apply_suppressions(con, candidates)
    candidates, by_exception = exceptions.apply(con, candidates, found, datetime.now(timezone.utc))
    closed = [t for t in (by_feedback, by_exception) if t is not None and t.num_rows]
    for table in closed:
        for ex_id in table.column("exception_id").to_pylist():
            report.closed_by[ex_id] = report.closed_by.get(ex_id, 0) + 1
    report.suppressed = sum(t.num_rows for t in closed)
    return candidates, closed


def store_closed(con: duckdb.DuckDBPyConnection, closed: list[pa.Table], started: float,
                 since: datetime | None = None) -> None:
    """Replace the closed alerts with this run's: rendered like the others, stamped with this run's time
    (with `since`, only those a pass over the events from then on can close again)."""
    if since is None:
        con.execute("DELETE FROM suppressed_alerts")
    else:
        con.execute("DELETE FROM suppressed_alerts WHERE last_seen >= ?", [since])
    for table in closed:
        rendered = render_alert_summaries(table)
        with db.registered(con, _closed=rendered):
            con.execute("""INSERT INTO suppressed_alerts BY NAME
                SELECT DISTINCT ON (alert_id) * EXCLUDE (summary_template), to_timestamp(?) AS detected_at
                FROM _closed ORDER BY alert_id""", [started])


def _json(value: object) -> str:
    return orjson.dumps(value).decode()
