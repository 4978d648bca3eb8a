"""Sigma correlation rules (event_count, value_count, temporal, temporal_ordered) as one DuckDB query.

The rules a correlation refers to are compiled as usual (`compiler.compile_rule`); their matching events are
stacked with the correlation's group-by values, and a window per event (`RANGE BETWEEN CURRENT ROW AND
<timespan> FOLLOWING`) counts what the condition counts: events, distinct values of a field, or distinct
referenced rules. A group whose window meets the condition raises one alert per burst (windows that
start within one timespan of the previous trigger belong to the same burst), naming the group's values
and the events of its windows. `temporal_ordered` also requires the rules' first matches in the window to
come in the listed order.
"""

from __future__ import annotations

from dataclasses import dataclass

from sigma.correlations import SigmaCorrelationCondition, SigmaCorrelationConditionOperator as Op
from sigma.correlations import SigmaCorrelationRule, SigmaCorrelationType as Kind
from sigma.rule import SigmaRule

from storewatch.detect.sigma.compiler import Compiled, projection
from storewatch.detect.sigma.mapping import Mapping, Source, Unsupported
from storewatch.store.schema import entity_columns

OPERATORS = {Op.LT: "<", Op.LTE: "<=", Op.GT: ">", Op.GTE: ">=", Op.EQ: "=", Op.NEQ: "<>"}
MAX_EVENT_IDS = 20


@dataclass(frozen=True)
class Base:
    """A referenced rule, ready to be stacked: its compiled condition and where its events live."""

    rule: SigmaRule
    source: Source
    compiled: Compiled


def correlation_query(corr: SigmaCorrelationRule, bases: list[Base], mapping: Mapping) -> tuple[str, dict]:
    """SQL (and its named parameters) returning the alert columns for one correlation rule."""
    if corr.type not in (Kind.EVENT_COUNT, Kind.VALUE_COUNT, Kind.TEMPORAL, Kind.TEMPORAL_ORDERED):
        raise Unsupported(f"correlation type {corr.type.name.lower()}")
    condition = corr.condition
    if not isinstance(condition, SigmaCorrelationCondition) or condition.op not in OPERATORS:
        raise Unsupported("extended correlation conditions (boolean expressions over rules)")
    if corr.type == Kind.VALUE_COUNT and not condition.fieldref:
        raise Unsupported("value_count without a condition field")
    groups = corr.group_by or []
    params: dict[str, object] = {"title": corr.title, "threshold": condition.count}
    stacked = []
    for i, base in enumerate(bases):
        # No group-by: the whole estate is one group (a constant key).
        seen = mapping.for_logsource(base.rule.logsource)  # the fields as this rule's logsource names them
        group_exprs = [_group_expr(corr, base, field, seen) for field in groups] or ["'*'"]
        value = seen.expressions(condition.fieldref)[0] if corr.type == Kind.VALUE_COUNT else "NULL"
        columns: dict[str, str] = {}
        where, own = base.compiled.shared(f"r{i}", columns)
        params |= own
        groups_sql = "".join(f", ({e})::VARCHAR AS _g{j}" for j, e in enumerate(group_exprs))
        stacked.append(f"""
          SELECT e.event_id, e.time, {i} AS _rule, ({value})::VARCHAR AS _value, e.channel, e.store_id{groups_sql}
          FROM events e SEMI JOIN (SELECT _sw_id FROM ({projection(columns, "events", base.source.where)})
                                   WHERE {where}) hit ON e.event_id = hit._sw_id
          WHERE {base.source.where}""")
    g = [f"_g{j}" for j in range(max(len(groups), 1))]
    same = lambda a, b: " AND ".join(f"{a}.{c} IS NOT DISTINCT FROM {b}.{c}" for c in g)  # noqa: E731
    span = f"INTERVAL {int(corr.timespan.seconds)} SECOND"
    frame = f"OVER (PARTITION BY {', '.join(g)} ORDER BY time RANGE BETWEEN CURRENT ROW AND {span} FOLLOWING)"
    measure = {Kind.EVENT_COUNT: f"count(*) {frame}", Kind.VALUE_COUNT: f"count(DISTINCT _value) {frame}"}.get(
        corr.type, f"count(DISTINCT _rule) {frame}")
    ordered = _ordered_check(len(bases), span, same) if corr.type == Kind.TEMPORAL_ORDERED else "TRUE"
    types = entity_columns()
    named = [(f"_g{j}", field, _entity(field, mapping)) for j, field in enumerate(groups)]
    entity_items = [f"{{'type': '{types[col]}', 'value': any_value({c})}}" for c, _, col in named if col]
    entities = f"list_filter([{', '.join(entity_items)}], lambda x: x.value IS NOT NULL)" if entity_items else "[]"
    group_json = "".join(f", '{field}', any_value({c})" for c, field, _ in named)
    key = " || '|' || ".join(f"coalesce(any_value({c}), '-')" for c in g)
    sql = f"""
        WITH m AS ({' UNION ALL '.join(stacked)}),
        w AS (SELECT *, {measure} AS _n FROM m),
        trig AS (SELECT * FROM w WHERE _n {OPERATORS[condition.op]} $threshold AND {ordered}),
        -- Triggering windows of a group that start within one timespan of the previous one are one burst.
        burst AS (
          SELECT *, sum(_new::INT) OVER (PARTITION BY {', '.join(g)} ORDER BY time) AS _burst
          FROM (SELECT *, coalesce(time - lag(time) OVER (PARTITION BY {', '.join(g)} ORDER BY time) > {span}, TRUE) AS _new
                FROM trig)
        ),
        spans AS (SELECT {', '.join(g)}, _burst, min(time) AS _start, max(time) + {span} AS _end, max(_n) AS _n
                  FROM burst GROUP BY ALL),
        inside AS (
          SELECT m.*, s._burst, s._start, s._n FROM spans s JOIN m ON {same('m', 's')}
           AND m.time >= s._start AND m.time <= s._end
        )
        SELECT {key} || '|' || strftime(min(_start), '%Y-%m-%dT%H:%M:%S') AS key,
               min(time) AS first_seen, max(time) AS last_seen, count(*) AS event_count,
               {entities} AS entities,
               json_object('rule', $title, 'correlation', '{corr.type.name.lower()}', 'measured', max(_n),
                           'threshold', $threshold, 'timespan', '{corr.timespan.spec}'{group_json}) AS evidence,
               list(event_id ORDER BY time, event_id)[1:{MAX_EVENT_IDS}] AS event_ids,
               mode(channel) AS channel, mode(store_id) AS store_id
        FROM inside
        GROUP BY {', '.join(g)}, _burst
        ORDER BY key
    """
    return sql, params


def _group_expr(corr: SigmaCorrelationRule, base: Base, field: str, mapping: Mapping) -> str:
    """The SQL for a group-by field in one referenced rule, through the correlation's aliases if it has one."""
    alias = corr.aliases.aliases.get(field)
    if alias is not None:
        names = {getattr(ref, "reference", ref): f for ref, f in alias.mapping.items()}
        field = names.get(base.rule.name) or names.get(str(base.rule.id)) or field
    return mapping.expressions(field)[0]


def _entity(field: str, mapping: Mapping) -> str | None:
    """The entity column a group-by field names, if it names one (an alert is then about it)."""
    try:
        return mapping.entity_column(field)
    except Unsupported:
        return None


def _ordered_check(count: int, span: str, same) -> str:
    """For a window starting at a match of the first rule: each next rule matches no earlier, within the span."""
    previous = "w.time"
    for i in range(1, count):
        previous = (f"(SELECT min(x.time) FROM m x WHERE x._rule = {i} AND x.time >= {previous} "
                    f"AND x.time <= w.time + {span} AND {same('x', 'w')})")
    return f"_rule = 0 AND {previous} IS NOT NULL"
