"""People-counter exports (CSV): entries and exits per store, door or sensor per period.

Vendors and their export tools differ in everything but the content: the separator (`,`, `;` in
European locales, tabs), the column names (AXIS People Counter "Pedestrians coming in", Xovis
forward/backward `fw`/`bw`, SenSource/Vea "Ins"/"Outs", Hella APS "<line>_SUM_IN", plain "in"/"out"),
one row per period with both directions or one row per direction ("direction,count"), a timestamp or a
date and an hour column, ISO or epoch time. The header line is read once (`specialize`) and the
mapping is written for it: column names are compared lower-cased with non-letters removed, against the
synonyms below. Times without an offset are the file's local time (`--tz`), like every other source.
A row whose count or time cannot be read is quarantined with the reason.
"""

from __future__ import annotations

import re
from dataclasses import replace

from storewatch.ingest.formats.base import Format

SYNONYMS = {
    "store": ("storeid", "store", "storename", "storenumber", "site", "siteid", "sitename", "location", "locationid",
              "locationname", "shop", "shopid", "branch"),
    "time": ("periodstart", "timestamp", "time", "datetime", "start", "starttime", "period", "intervalstart",
             "startdatetime", "utctime", "from", "begin", "date"),
    "hour": ("hour", "timeofday", "starthour"),
    "entries": ("entries", "in", "ins", "enters", "entered", "enter", "entry", "countin", "visitorsin", "incount",
                "pedestrianscomingin", "comingin", "fw", "forward", "sumin", "totalin"),
    "exits": ("exits", "out", "outs", "exited", "exit", "countout", "visitorsout", "outcount", "pedestriansgoingout",
              "goingout", "bw", "backward", "sumout", "totalout"),
    "device": ("sensor", "sensorid", "sensorname", "device", "deviceid", "devicename", "counter", "counterid",
               "countername", "door", "entrance", "camera", "cameraname", "serial", "serialnumber", "line", "countline",
               "linename", "rulename", "zone", "name"),
    "direction": ("direction", "dir"),
    "count": ("count", "value", "visitors", "total"),
}
_IN_DIRECTIONS = "('in', 'ins', 'entry', 'entries', 'enter', 'forward', 'fw', 'inbound')"
_OUT_DIRECTIONS = "('out', 'outs', 'exit', 'exits', 'backward', 'bw', 'outbound')"
_SEPARATORS = (";", "\t", ",")
_ROW = re.compile(r"^[^,;\t]+[,;\t]\s*\"?\d{4}-\d\d-\d\d[T ][^,;\t]*[,;\t]\s*\d+\s*[,;\t]\s*\d+")


def _norm(name: str) -> str:
    return re.sub(r"[^a-z]", "", name.lower())


def _separator(line: str) -> str:
    return max(_SEPARATORS, key=line.count)


def _columns(line: str) -> list[str]:
    return [_norm(c.strip().strip('"')) for c in line.split(_separator(line))]


def _find(cols: list[str]) -> dict[str, list[int]]:
    """1-based positions of each role's columns; entries/exits may be several (one per counting line)."""
    found: dict[str, list[int]] = {}
    for role, names in SYNONYMS.items():
        for name in names:  # synonyms in order of preference: the first present wins
            if name in cols and role not in found:
                found[role] = [cols.index(name) + 1]
    clock = found["time"][0] if "time" in found else None
    if clock and "date" in cols and "hour" not in found and cols[clock - 1] in ("time", "starttime", "start", "from", "begin"):
        found["time"], found["hour"] = [cols.index("date") + 1], [clock]  # "Date" + "Time" of day columns
    for role, suffix in (("entries", "in"), ("exits", "out")):  # Hella APS: "<line>_SUM_IN", per line and class
        if role not in found:
            lines = [i + 1 for i, c in enumerate(cols) if c.endswith("sum" + suffix)]
            if lines:
                found[role] = lines
    return found


def _looks_like(line: str) -> bool:
    found = _find(_columns(line))
    counts = "entries" in found or {"direction", "count"} <= set(found)
    if "time" in found and counts and ({"exits", "store", "device", "direction"} & set(found)):
        return True
    return bool(_ROW.match(line))


def _column_positions(head: str) -> tuple[dict[str, list[int]], str, str | None]:
    first = next((line for line in head.splitlines() if line.strip()), "")
    sep = _separator(first)
    found = _find(_columns(first))
    if "time" in found and ("entries" in found or {"direction", "count"} <= set(found)):
        return found, sep, "^" + re.escape(first.strip()) + r"\r?$"
    return {"store": [1], "time": [2], "entries": [3], "exits": [4]}, sep, None  # headerless: store,time,in,out


def specialize(head: str) -> Format:
    pos, sep, header = _column_positions(head)

    def col(i: int) -> str:
        return f"nullif(trim(f[{i}], ' \"'), '')"

    def one(role: str) -> str:
        return col(pos[role][0]) if role in pos else "NULL"

    def total(role: str) -> str:
        """The count of a direction: the sum of its columns, or the count of rows naming that direction."""
        if role in pos:
            return " + ".join(f"try_cast({col(i)} AS BIGINT)" for i in pos[role])
        if {"direction", "count"} <= set(pos):
            names = _IN_DIRECTIONS if role == "entries" else _OUT_DIRECTIONS
            return f"CASE WHEN lower({one('direction')}) IN {names} THEN try_cast({one('count')} AS BIGINT) ELSE 0 END"
        return "NULL"

    stamp = one("time")
    if "hour" in pos:  # a date column and an hour-of-day column ("14", "14:00", "2:00 PM")
        stamp = f"{stamp} || ' ' || CASE WHEN regexp_full_match({one('hour')}, '\\d{{1,2}}') THEN lpad({one('hour')}, 2, '0') || ':00' ELSE {one('hour')} END"
    columns = [i for idx in pos.values() for i in idx]
    sql = f"""
WITH s AS (SELECT line_no, string_split(line, '{sep}') AS f FROM batch),
v AS (
  SELECT line_no, f, {stamp} AS stamp, {total('entries')} AS entries, {total('exits')} AS exits FROM s
), t AS (
  SELECT *, CASE WHEN regexp_full_match(stamp, '\\d{{9,13}}(\\.\\d+)?') THEN sw_epoch(stamp)
                 WHEN regexp_full_match(stamp, '\\d{{14}}') THEN sw_time(try_strptime(stamp, '%Y%m%d%H%M%S')::VARCHAR)
                 ELSE sw_time(stamp) END AS ts FROM v
)
SELECT line_no,
  CASE WHEN len(f) < {max(columns)} THEN 'too few columns'
       WHEN entries IS NULL AND exits IS NULL THEN 'no count is a number'
       WHEN ts IS NULL THEN 'unreadable time' END AS _error,
  ts AS time,
  'People Count' AS class_name, 'count' AS activity, 'success' AS outcome,
  {one('store')} AS store_id, {one('device')} AS device,
  json_object('entries', entries, 'exits', exits) AS attributes
FROM t"""
    return replace(FORMAT, sql=sql, ignore=header)


FORMAT = Format(name="people_counter", channel="physical", sql="", looks_like=_looks_like, specialize=specialize,
                description="People-counter CSV")
