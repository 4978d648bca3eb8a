"""Each detection's scorecard over a rolling window: what it raised, what the analysts said of it, and
whether to keep, tune or retire it, with the numbers that say so.

An alert's verdict is the latest given on it, on its own (`--alert`) or with its incident (a verdict on an
incident covers the alerts the incident held then). Precision counts benign true positives as right (the
detection saw something real); the false-positive and benign ratios say what to tune. The window ends at the
newest alert, so a replayed estate is judged on its own time. Suggestions, once there are MIN_VERDICTS:
retire below RETIRE_PRECISION; tune when false positives or benign ones make TUNE_RATIO of the verdicts;
keep otherwise.
"""

from __future__ import annotations

from typing import Iterable

import duckdb

MIN_VERDICTS = 5
RETIRE_PRECISION = 0.2
TUNE_RATIO = 0.5
DEFAULT_DAYS = 30


def scorecard(con: duckdb.DuckDBPyConnection, detection_ids: Iterable[str], days: int = DEFAULT_DAYS) -> list[dict]:
    """One row per detection (those given, plus any that raised alerts in the window), by alerts then id."""
    rows = con.execute("""
        WITH raised AS (
          SELECT alert_id, rule_id, detected_at, last_seen, false AS closed FROM alerts
          UNION ALL SELECT alert_id, rule_id, detected_at, last_seen, true FROM suppressed_alerts),
        recent AS (SELECT * FROM raised WHERE last_seen >= (SELECT max(last_seen) FROM raised) - to_days(?)),
        said AS (SELECT unnest(coalesce(alert_ids, [alert_id])) AS alert_id, verdict, recorded_at FROM feedback),
        latest AS (SELECT alert_id, arg_max(verdict, recorded_at) AS verdict, max(recorded_at) AS at
                   FROM said GROUP BY alert_id)
        SELECT r.rule_id, count(*) AS alerts, count(*) FILTER (r.closed) AS closed,
               count(l.verdict) FILTER (l.verdict = 'true_positive') AS tp,
               count(l.verdict) FILTER (l.verdict = 'benign') AS benign,
               count(l.verdict) FILTER (l.verdict = 'false_positive') AS fp,
               avg(epoch(l.at - r.detected_at)) FILTER (l.verdict IS NOT NULL AND l.at >= r.detected_at) / 3600
                 AS hours_to_verdict,
               max(r.last_seen) AS last_fired
        FROM recent r LEFT JOIN latest l USING (alert_id) GROUP BY r.rule_id""", [days]).fetchall()
    by_id = {r[0]: r[1:] for r in rows}
    ids = list(dict.fromkeys([*detection_ids, *by_id]))
    cards = [_card(i, *by_id.get(i, (0, 0, 0, 0, 0, None, None)), days=days) for i in ids]
    return sorted(cards, key=lambda c: (-c["alerts"], c["id"]))


def _card(det_id: str, alerts: int, closed: int, tp: int, benign: int, fp: int, hours: float | None,
          last_fired, days: int) -> dict:
    verdicts = tp + benign + fp
    precision = round((tp + benign) / verdicts, 3) if verdicts else None
    card = {
        "id": det_id, "days": days, "alerts": alerts, "closed_by_exceptions": closed,
        "verdicts": {"true_positive": tp, "benign": benign, "false_positive": fp, "total": verdicts},
        "precision": precision, "false_positive_ratio": round(fp / verdicts, 3) if verdicts else None,
        "benign_ratio": round(benign / verdicts, 3) if verdicts else None,
        "mean_hours_to_verdict": round(hours, 2) if hours is not None else None,
        "last_fired": last_fired.isoformat().replace("+00:00", "Z") if last_fired else None,
    }
    card["suggestion"], card["evidence"] = suggest(tp, benign, fp)
    return card


def suggest(tp: int, benign: int, fp: int) -> tuple[str, str]:
    """keep / tune / retire and why, from the verdicts' counts."""
    n = tp + benign + fp
    counts = f"{tp} true, {benign} benign, {fp} false positive of {n} verdicts"
    if n < MIN_VERDICTS:
        return "keep", f"too few verdicts to judge ({n} of {MIN_VERDICTS} needed)"
    precision = (tp + benign) / n
    if precision < RETIRE_PRECISION:
        return "retire", f"precision {precision:.0%} below {RETIRE_PRECISION:.0%}: {counts}"
    if fp / n >= TUNE_RATIO:
        return "tune", f"false positives are {fp / n:.0%} of verdicts (raise its thresholds): {counts}"
    if benign / n >= TUNE_RATIO:
        return "tune", f"benign activity is {benign / n:.0%} of verdicts (add an exception for it): {counts}"
    return "keep", f"precision {precision:.0%}: {counts}"
