"""People-counter exports (CSV): entries and exits per store per period, columns named by the header.

Vendors name the columns differently; the header is matched against common synonyms.
"""

from __future__ import annotations

import re
from dataclasses import replace

from storewatch.ingest.formats.base import Format

SYNONYMS = {
    "store": ("store_id", "store", "site", "site_id", "location", "location_id", "storeid"),
    "time": ("period_start", "timestamp", "time", "datetime", "start", "start_time", "period", "date_time"),
    "entries": ("entries", "in", "ins", "enters", "entered", "count_in", "visitors_in"),
    "exits": ("exits", "out", "outs", "exited", "count_out", "visitors_out"),
    "device": ("sensor", "sensor_id", "device", "device_id", "counter", "counter_id", "door"),
}
_ROW = re.compile(r"^[^,]+,\s*\"?\d{4}-\d\d-\d\d[T ][^,]*,\s*\d+\s*,\s*\d+")


def _looks_like(line: str) -> bool:
    cols = [c.strip().strip('"').lower() for c in line.split(",")]
    if any(c in SYNONYMS["entries"] for c in cols) and any(c in SYNONYMS["store"] for c in cols):
        return True
    return bool(_ROW.match(line))


def _column_positions(head: str) -> tuple[dict[str, int], str | None]:
    first = next((line for line in head.splitlines() if line.strip()), "")
    cols = [c.strip().strip('"').lower() for c in first.split(",")]
    found = {role: cols.index(name) + 1 for role, names in SYNONYMS.items() for name in names if name in cols}
    if {"store", "time", "entries"} <= set(found):
        return found, "^" + re.escape(first.strip()) + r"\r?$"
    return {"store": 1, "time": 2, "entries": 3, "exits": 4}, None


def specialize(head: str) -> Format:
    pos, header = _column_positions(head)

    def col(role: str) -> str:
        return f"nullif(trim(f[{pos[role]}], ' \"'), '')" if role in pos else "NULL"

    sql = f"""
WITH s AS (SELECT line_no, string_split(line, ',') AS f FROM batch)
SELECT line_no,
  CASE WHEN len(f) < {max(pos.values())} THEN 'too few columns'
       WHEN try_cast({col('entries')} AS BIGINT) IS NULL THEN 'entries is not a number' END AS _error,
  sw_time({col('time')}) AS time,
  'People Count' AS class_name, 'count' AS activity, 'success' AS outcome,
  {col('store')} AS store_id, {col('device')} AS device,
  json_object('entries', try_cast({col('entries')} AS BIGINT), 'exits', try_cast({col('exits')} AS BIGINT)) AS attributes
FROM s"""
    return replace(FORMAT, sql=sql, ignore=header)


FORMAT = Format(name="people_counter", channel="physical", sql="", looks_like=_looks_like, specialize=specialize,
                description="People-counter CSV")
