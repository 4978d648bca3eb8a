"""Single-event Sigma matches -> alerts: one per rule, per primary entity, per UTC day.

A scanner sends hundreds of matching requests; an analyst wants one alert saying so, with the counts,
distinct URLs and a few sample events, not hundreds of alerts. The primary entity comes from the
logsource (source IP for web, host for endpoint, user for sudo) unless the rule's `group_by` hint names one.
"""

from __future__ import annotations

from dataclasses import dataclass

from storewatch.detect.sigma.compiler import Compiled
from storewatch.detect.sigma.mapping import Mapping, Source
from storewatch.store.schema import entity_columns

MAX_SAMPLES = 5  # sample values per evidence field
MAX_ENTITY_VALUES = 10  # distinct values per entity column named in an alert
MAX_EVENT_IDS = 20


@dataclass(frozen=True)
class Grouping:
    group_by: tuple[str, ...]
    min_events: int
    # Columns that, with the entity, make a habit: an entity that matched on an earlier day with the same
    # values (an admin who opens root shells on this host) is doing what it always does and is not alerted.
    habit: tuple[str, ...] | None = None


def alert_query(
    source: Source, compiled: Compiled, grouping: Grouping, mapping: Mapping, title: str
) -> tuple[str, dict]:
    """SQL (and its named parameters) returning the alert columns for one compiled rule."""
    types = entity_columns()
    group_value = f"coalesce({', '.join(grouping.group_by)})::VARCHAR"
    group_type = "CASE " + " ".join(f"WHEN {c} IS NOT NULL THEN '{types[c]}'" for c in grouping.group_by) + " END"
    named = list(dict.fromkeys([*grouping.group_by, *source.entities]))
    entities = ", ".join(
        f"list_transform(list(DISTINCT {c}::VARCHAR) FILTER ({c}::VARCHAR NOT IN ('', '-'))[1:{MAX_ENTITY_VALUES}],"
        f" lambda v: {{'type': '{types[c]}', 'value': v}})"
        for c in named
    )
    evidence = [f"'{types[c]}', min({c})::VARCHAR" for c in grouping.group_by]
    for name, sigma_field in source.evidence:
        expr = mapping.expressions(sigma_field)[0]
        evidence += [f"'distinct_{name}', count(DISTINCT {expr})",
                     f"'sample_{name}', list(DISTINCT ({expr})::VARCHAR)[1:{MAX_SAMPLES}]"]
    params = dict(compiled.params, title=title, min_events=grouping.min_events)
    projection = f", {compiled.projection()}" if compiled.columns else ""
    habit = ("QUALIFY _sw_day = min(_sw_day) OVER (PARTITION BY _sw_entity, "
             f"{', '.join(grouping.habit)})") if grouping.habit else ""
    # The lowered fields are computed once per event in a materialized step: inlined, DuckDB would
    # recompute them for every pattern a rule lists. Matching events are then joined back by id.
    sql = f"""
        WITH src AS MATERIALIZED (SELECT event_id AS _sw_id{projection} FROM events WHERE {source.where}),
        hit AS (SELECT _sw_id FROM src WHERE {compiled.where}),
        matched AS (
          SELECT *, {group_value} AS _sw_entity, {group_type} AS _sw_type,
                 CAST(timezone('UTC', time) AS DATE) AS _sw_day
          FROM events SEMI JOIN hit ON events.event_id = hit._sw_id
          WHERE {source.where}
        ),
        fresh AS (SELECT * FROM matched {habit})
        SELECT _sw_type || ':' || _sw_entity || '|' || strftime(_sw_day, '%Y-%m-%d') AS key,
               min(time) AS first_seen, max(time) AS last_seen, count(*) AS event_count,
               list_concat({entities}) AS entities,
               json_object('rule', $title, 'entity_type', _sw_type, 'entity', _sw_entity, 'events', count(*),
                           {', '.join(evidence)}) AS evidence,
               list(event_id ORDER BY time, event_id)[1:{MAX_EVENT_IDS}] AS event_ids,
               mode(channel) AS channel, mode(store_id) AS store_id
        FROM fresh
        WHERE _sw_entity IS NOT NULL
        GROUP BY _sw_type, _sw_entity, _sw_day
        HAVING count(*) >= $min_events
        ORDER BY key
    """
    return sql, params
