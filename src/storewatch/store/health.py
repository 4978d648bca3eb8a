"""Ingest health per source: when it was last heard, how much it sent against its usual, how much was refused.

A source that goes quiet is the failure an analyst does not see in the incident list (no logs, no alerts),
so each source is judged against its own days: the last day's volume beside the median of the days before.
"The last day" ends at the estate's present, the median of the sources' newest events (capped at the
wall clock): a store of last month's logs is judged on its own days, and one source running ahead (payment
disputes filed days later) does not make every other source look silent.
"""

from __future__ import annotations

from datetime import datetime, timedelta, timezone
from statistics import median
from typing import Optional

import duckdb

DAYS = 8  # the last day and up to seven before it, for the median
SILENT_AFTER = timedelta(hours=6)  # no event for this long before the present: silent
LOW_SHARE = 0.25  # the last day under this share of the usual: low


def _present(last_seen: list[datetime], now: datetime) -> Optional[datetime]:
    if not last_seen:
        return None
    ordered = sorted(last_seen)
    return min(ordered[(len(ordered) - 1) // 2], now)


def judge(last: datetime, today: int, previous: list[int], present: datetime) -> tuple[str, Optional[float]]:
    """('silent' | 'low' | 'ok' | 'new', today / usual): pure, so the thresholds are tested without a store."""
    usual = median(previous) if previous else None
    ratio = today / usual if usual else None
    if present - last > SILENT_AFTER or (today == 0 and usual):
        return "silent", ratio
    if usual is None:
        return "new", None
    if ratio is not None and ratio < LOW_SHARE:
        return "low", ratio
    return "ok", ratio


def source_health(con: duckdb.DuckDBPyConnection, now: Optional[datetime] = None) -> dict:
    """Per source format: last event, events in the last day and the median of the days before, quarantine
    rate, and a state (silent, refused: every record quarantined, low, new, ok). The troubled come first."""
    now = now or datetime.now(timezone.utc)
    last_seen = dict(con.execute("SELECT source_format, max(time) FROM events GROUP BY 1").fetchall())
    present = _present(list(last_seen.values()), now)
    if present is None:
        return {"present": None, "sources": []}
    daily: dict[str, dict[int, int]] = {}
    for source, day, n in con.execute(
            "SELECT source_format, CAST(floor(epoch(?::TIMESTAMPTZ - time) / 86400) AS INTEGER) AS day, count(*) "
            "FROM events WHERE time > ?::TIMESTAMPTZ - to_days(?) GROUP BY ALL", [present, present, DAYS]).fetchall():
        if day >= 0:  # events after the present (a source running ahead) count for none of the days
            daily.setdefault(source, {})[day] = n
    # Files read by one parser in two shapes ("shopify+document") count for that parser.
    refused = con.execute("SELECT split_part(source_format, '+', 1), sum(stored), sum(quarantined) "
                          "FROM ingest_files GROUP BY 1").fetchall()
    quarantine = {s: (int(q or 0), int(st or 0)) for s, st, q in refused}
    first_day = dict(con.execute("SELECT source_format, min(time) FROM events GROUP BY 1").fetchall())
    rows = []
    for source, last in last_seen.items():
        days = daily.get(source, {})
        # Only the days the source existed for (nine tenths of one will do) count as its usual.
        lived = min(DAYS - 1, int((present - first_day[source]).total_seconds() / 86400 + 0.1) - 1)
        previous = [days.get(d, 0) for d in range(1, lived + 1)]
        state, ratio = judge(last, days.get(0, 0), previous, present)
        q, stored = quarantine.get(source, (0, 0))
        rows.append({"source": source, "last_seen": last, "today": days.get(0, 0),
                     "usual": median(previous) if previous else None, "ratio": ratio, "state": state,
                     "quarantined": q, "quarantine_rate": q / (q + stored) if q + stored else 0.0})
    for source, (q, stored) in quarantine.items():
        if source not in last_seen and q and not stored:  # every record refused: nothing stored, still a source
            rows.append({"source": source, "last_seen": None, "today": 0, "usual": None, "ratio": None,
                         "state": "refused", "quarantined": q, "quarantine_rate": 1.0})
    order = {"silent": 0, "refused": 1, "low": 2, "new": 3, "ok": 4}
    rows.sort(key=lambda r: (order[r["state"]], r["source"]))
    return {"present": present, "behind": now - present, "sources": rows}
