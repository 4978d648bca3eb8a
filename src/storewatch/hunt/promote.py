"""A saved search promoted to a detection: a windowed rule in the workspace's rules folder.

The rule is the ordinary windowed-SQL format (`storewatch.detect.windows.loader`), so `detect` loads and runs
it like the shipped ones: at least `threshold` matching events of one `group_by` value within `window`
(sliding: a burst across a bucket boundary still counts) is an alert; a burst with no gap longer than the
window is one alert. A rule file holds plain SQL, so the search's bound values are written as SQL literals
here, each quoted by `schema.sql_text` (strings) or rendered from a Python number or time, never as typed.
"""

from __future__ import annotations

import re
from datetime import datetime
from pathlib import Path

import yaml

from storewatch import audit
from storewatch.detect.detection import ENTITY_TYPES, SEVERITIES
from storewatch.hunt import saved
from storewatch.hunt.compile import compile_condition
from storewatch.hunt.parse import QueryError, duration, parse
from storewatch.store.schema import entity_columns, sql_text
from storewatch.workspace import Workspace

_PARAM = re.compile(r"\$(p\d+)\b")


def literal(value: object) -> str:
    """A bound value as SQL text: strings quoted, numbers and times from their Python values."""
    if isinstance(value, bool) or not isinstance(value, (str, int, float, datetime)):
        raise TypeError(f"no SQL literal for {type(value).__name__}")
    if isinstance(value, datetime):
        return f"CAST({sql_text(value.isoformat())} AS TIMESTAMPTZ)"
    if isinstance(value, str):
        return sql_text(value)
    return repr(value)


def inline(sql: str, params: dict) -> str:
    """`sql` with each `$pN` replaced by its value's literal (only placeholders carry `$p`: values are never in it)."""
    return _PARAM.sub(lambda m: literal(params[m[1]]), sql)


def rule_sql(query: str, group_by: str, threshold: int, window_seconds: int) -> str:
    where, params, field = compile_condition(parse(query), group_by)
    assert field is not None
    etype = entity_columns().get(field.name)
    entities = (f"[{{'type': {sql_text(etype)}, 'value': s.grp}}]" if etype in ENTITY_TYPES
                else "[]::STRUCT(type VARCHAR, value VARCHAR)[]")
    span = f"INTERVAL {int(window_seconds)} SECOND"
    return inline(f"""WITH hits AS (
  SELECT event_id, time, CAST({field.sql} AS VARCHAR) AS grp FROM events
  WHERE ({where}) AND {field.sql} IS NOT NULL
),
-- every matching event with the number of matches of its group in the window it opens
counted AS (
  SELECT grp, time, count(*) OVER (PARTITION BY grp ORDER BY time RANGE BETWEEN CURRENT ROW AND {span} FOLLOWING) AS n
  FROM hits
),
-- windows over the threshold; those closer than a window to the previous one are the same burst
starts AS (
  SELECT grp, time, sum(new_burst::INT) OVER (PARTITION BY grp ORDER BY time) AS burst
  FROM (SELECT grp, time, coalesce(time - lag(time) OVER (PARTITION BY grp ORDER BY time) > {span}, TRUE) AS new_burst
        FROM counted WHERE n >= {int(threshold)})
),
spans AS (SELECT grp, burst, min(time) AS opened, max(time) + {span} AS closed FROM starts GROUP BY ALL)
SELECT s.grp || '|' || strftime(s.opened, '%Y-%m-%dT%H:%M') AS key,
       min(h.time) AS first_seen, max(h.time) AS last_seen, count(*) AS event_count,
       {entities} AS entities,
       json_object('value', s.grp, 'field', {sql_text(field.name)}, 'events', count(*),
                   'threshold', {int(threshold)}, 'window_seconds', {int(window_seconds)},
                   'query', {sql_text(query)}) AS evidence,
       list(h.event_id ORDER BY h.time)[1:20] AS event_ids
FROM spans s JOIN hits h ON h.grp = s.grp AND h.time >= s.opened AND h.time < s.closed
GROUP BY s.grp, s.burst, s.opened""", params)


def promote(ws: Workspace, name: str, threshold: int, window: str, group_by: str,
            severity: str = "medium") -> Path:
    """Write `<workspace>/rules/search_<name>.yml` from the saved search `name`; returns its path."""
    if threshold < 1:
        raise QueryError("--threshold is at least 1")
    if severity not in SEVERITIES:
        raise QueryError(f"severity {severity!r}: use one of {', '.join(SEVERITIES)}")
    query = saved.get(ws, name)["query"]
    seconds = int(duration(window).total_seconds())
    doc = {
        "id": f"search.{name}",
        "title": f"Saved search {name}: {threshold}+ events per {group_by} in {window}",
        "scenario": f"hunt_{name}",
        "severity": severity,
        "attack": [],
        "description": f"Promoted from the saved search {name!r}: {query}. At least {threshold} matching "
                       f"events with one {group_by} within {window} (sliding window).",
        "summary": "{events} events matching the saved search from " + f"{group_by} " + "{value}" + f" within {window}.",
        "sql": rule_sql(query, group_by, threshold, seconds),
    }
    folder = ws.home / "rules"
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / f"search_{name}.yml"
    path.write_text(yaml.safe_dump(doc, sort_keys=False, allow_unicode=True, width=120), encoding="utf-8")
    audit.append(ws, "search.promote", {"name": name, "query": query, "threshold": threshold, "window": window,
                                        "group_by": group_by, "rule": str(path)}, "saved search promoted to a detection",
                 "written")
    return path
