"""Single-event Sigma matches -> alerts: one per rule, per primary entity, per UTC day.

A scanner sends hundreds of matching requests; an analyst wants one alert saying so, with the counts,
distinct URLs and a few sample events, not hundreds of alerts. The primary entity comes from the
logsource (source IP for web, host for endpoint, user for sudo) unless the rule's `group_by` hint names one.

The rules of one scope (every Windows event log, say) run together: the scope's events are read from the
store once, and rules that read the same log source and group their alerts alike run as one query (a
thousand SigmaHQ rules are a few dozen log sources): the fields the rules name are lowered once, each event
gets the list of the rules it matches, and one aggregation makes the alerts of every rule. A rule run alone
is the same query with one rule in it.
"""

from __future__ import annotations

import re
import warnings
from collections import defaultdict
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Iterator

import duckdb
import pyarrow as pa

from storewatch.detect.sigma.compiler import Compiled, projection
from storewatch.detect.sigma.mapping import Mapping, Source
from storewatch.store.schema import entity_columns

MAX_SAMPLES = 5  # sample values per evidence field
MAX_ENTITY_VALUES = 10  # distinct values per entity column named in an alert
MAX_EVENT_IDS = 20
CHUNK = 250  # rules per query: bounds its size, and what a failing query runs again one rule at a time
JSON_FIELD = re.compile(r"attributes ->> '([^']*)'")  # a field of an event's JSON attributes, in a log source's where


@dataclass(frozen=True)
class Grouping:
    group_by: tuple[str, ...]
    min_events: int
    # Columns that, with the entity, make a habit: an entity that matched on an earlier day with the same
    # values (an admin who opens root shells on this host) is doing what it always does and is not alerted.
    habit: tuple[str, ...] | None = None


@dataclass(frozen=True)
class Fields:
    """A table of the fields the rules of one log source read, one row per event (`_sw_id` its id), and
    the alias of each (projected SQL -> alias)."""

    table: str
    columns: dict[str, str]


@dataclass(frozen=True)
class Match:
    """A compiled single-event rule and how its matches become alerts."""

    title: str
    source: Source
    compiled: Compiled
    grouping: Grouping
    evidence: tuple[tuple[str, str], ...]  # (name, SQL over events) summarised per alert

    @classmethod
    def of(cls, title: str, source: Source, compiled: Compiled, grouping: Grouping, mapping: Mapping) -> "Match":
        evidence = tuple((name, mapping.expressions(field)[0]) for name, field in source.evidence)
        return cls(title, source, compiled, grouping, evidence)

    @property
    def query_key(self) -> tuple:
        """Rules with equal keys read the same events and make alerts alike: one query serves them all."""
        return (self.source.where, self.grouping.group_by, self.grouping.habit, self.source.entities, self.evidence)


def run_match(con: duckdb.DuckDBPyConnection, match: Match) -> pa.Table:
    """One rule's alert columns, the rule run alone."""
    return _query(con, [match], "events", match.source.where)[0]


def run_matches(con: duckdb.DuckDBPyConnection, matches: list[Match]) -> list[pa.Table | Exception]:
    """The alert columns of each rule of one scope, in order, or the error a rule failed with: one query per
    log source and alert shape (CHUNK rules at most), over the scope's events read from the store once, and
    the fields the rules of a log source read projected once for all its queries."""
    groups: dict[tuple, list[int]] = defaultdict(list)
    for i, m in enumerate(matches):
        groups[m.query_key].append(i)
    chunks = [g[n:n + CHUNK] for g in groups.values() for n in range(0, len(g), CHUNK)]
    by_source: dict[str, list[list[int]]] = defaultdict(list)
    for chunk in chunks:
        by_source[matches[chunk[0]].source.where].append(chunk)
    results: dict[int, pa.Table | Exception] = {}
    with _events(con, matches, shared=len(chunks) > 1) as (table, tests):
        for where, source_chunks in by_source.items():
            rules = [matches[i] for chunk in source_chunks for i in chunk]
            with _projected(con, rules, table, tests[where], shared=len(source_chunks) > 1) as fields:
                for chunk in source_chunks:
                    results.update(zip(chunk, _evaluate(con, [matches[i] for i in chunk], table, tests[where], fields)))
    return [results[i] for i in range(len(matches))]


@contextmanager
def _events(con: duckdb.DuckDBPyConnection, matches: list[Match], shared: bool) -> Iterator[tuple[str, dict]]:
    """The table the rules' queries read, and per log source (its `where`) the test that selects its events
    there: `events` and the `where` itself, or when several queries read one scope, the events of their log
    sources copied once into a temporary table with a column per log source saying whether an event is of it."""
    wheres = list(dict.fromkeys(m.source.where for m in matches))
    if not shared:
        yield "events", {w: w for w in wheres}
        return
    # A Windows log is selected by fields of each record's JSON attributes: they are read in one extraction
    # per event (materialized, or DuckDB would parse the JSON again for each log source that tests one).
    paths = {p: n + 1 for n, p in enumerate(dict.fromkeys(JSON_FIELD.findall(" ".join(wheres))))}
    listed = ", ".join(f"'{p}'" for p in paths)
    extract = f", json_extract_string(attributes, [{listed}]) AS _sw_log" if paths else ""
    tests = {w: f"_sw_in{i}" for i, w in enumerate(wheres)}
    flags = ", ".join(f"coalesce({JSON_FIELD.sub(lambda f: f'_sw_log[{paths[f[1]]}]', w)}, false) AS {tests[w]}"
                      for w in wheres)
    con.execute(f"""
        CREATE OR REPLACE TEMP TABLE _sw_scope AS
        WITH scope AS MATERIALIZED (SELECT *{extract} FROM events WHERE {matches[0].source.scope})
        SELECT * FROM (SELECT *, {flags} FROM scope) WHERE {' OR '.join(tests.values())}""")
    try:
        yield "_sw_scope", tests
    finally:
        con.execute("DROP TABLE IF EXISTS _sw_scope")


@contextmanager
def _projected(con: duckdb.DuckDBPyConnection, matches: list[Match], table: str, test: str,
               shared: bool) -> Iterator[Fields | None]:
    """The fields the rules read, projected once into a temporary table when several queries read them
    (the rules of a log source are several chunks); else None, and each query projects its own."""
    if not shared:
        yield None
        return
    columns: dict[str, str] = {}
    for m in matches:
        m.compiled.project(columns)
    con.execute(f"CREATE OR REPLACE TEMP TABLE _sw_fields AS {projection(columns, table, test)}")
    try:
        yield Fields("_sw_fields", columns)
    finally:
        con.execute("DROP TABLE IF EXISTS _sw_fields")


def _evaluate(con: duckdb.DuckDBPyConnection, matches: list[Match], table: str, test: str,
              fields: Fields | None = None) -> list[pa.Table | Exception]:
    """The rules' alerts from one query; when it fails, from one query per rule, so that only a rule at
    fault fails."""
    try:
        return _query(con, matches, table, test, fields)
    except duckdb.Error as exc:
        if len(matches) == 1:
            return [exc]
        return [result for m in matches for result in _evaluate(con, [m], table, test, fields)]


def _query(con: duckdb.DuckDBPyConnection, matches: list[Match], table: str, test: str,
           fields: Fields | None = None) -> list[pa.Table]:
    sql, params = alerts_query(matches, table, test, fields)
    # Run as a DB-API statement: con.sql would describe the statement first, tokenizing and binding a query
    # of hundreds of rules twice (a third of the time at scale 1); the copy DuckDB warns of is of the few
    # alert rows it returns.
    with warnings.catch_warnings():
        warnings.filterwarnings("ignore", "Arrow output on a DB-API result", UserWarning)
        found = con.execute(sql, params).to_arrow_table()
    rows: dict[int, list[int]] = defaultdict(list)
    for row, rule in enumerate(found.column("_sw_rule").to_pylist()):
        rows[rule].append(row)
    found = found.drop_columns(["_sw_rule"])
    return [found.take(pa.array(rows[i], pa.int64())) for i in range(len(matches))]


def alerts_query(matches: list[Match], events: str, test: str, fields: Fields | None = None) -> tuple[str, dict]:
    """SQL (and its named parameters) returning the alert columns of every rule, each row with `_sw_rule`,
    the index of its rule in `matches`; the rules share a query key and read the rows of `events` (a table
    or view) that `test` selects, those of their log source, and their fields from `fields` if given."""
    first = matches[0]
    source, group_by = first.source, first.grouping.group_by
    columns: dict[str, str] = dict(fields.columns) if fields else {}  # every rule's projected fields, once each
    params: dict[str, object] = {"titles": [m.title for m in matches],
                                 "min_events": [m.grouping.min_events for m in matches]}
    tests = []
    for i, m in enumerate(matches):
        where, own = m.compiled.shared(f"r{i}", columns)
        params |= own
        tests.append(f"CASE WHEN {where} THEN {i} END")
    types = entity_columns()
    group_value = f"coalesce({', '.join(group_by)})::VARCHAR"
    group_type = "CASE " + " ".join(f"WHEN {c} IS NOT NULL THEN '{types[c]}'" for c in group_by) + " END"
    named = list(dict.fromkeys([*group_by, *source.entities]))
    entities = ", ".join(
        f"list_transform(list(DISTINCT {c}::VARCHAR) FILTER ({c}::VARCHAR NOT IN ('', '-'))[1:{MAX_ENTITY_VALUES}],"
        f" lambda v: {{'type': '{types[c]}', 'value': v}})"
        for c in named
    )
    evidence = [f"'{types[c]}', min({c})::VARCHAR" for c in group_by]
    for name, expr in first.evidence:
        evidence += [f"'distinct_{name}', count(DISTINCT {expr})",
                     f"'sample_{name}', list(DISTINCT ({expr})::VARCHAR)[1:{MAX_SAMPLES}]"]
    src = f"SELECT * FROM {fields.table}" if fields else projection(columns, events, test)
    habit = first.grouping.habit
    habit_filter = ("QUALIFY _sw_day = min(_sw_day) OVER (PARTITION BY _sw_rule, _sw_entity, "
                    f"{', '.join(habit)})") if habit else ""
    # The lowered fields are computed once per event in a materialized step: inlined, DuckDB would
    # recompute them for every pattern a rule lists. Matching events are then joined back by id.
    sql = f"""
        WITH src AS MATERIALIZED ({src}),
        hit AS (SELECT DISTINCT _sw_id, _sw_rule FROM (
          SELECT _sw_id, unnest(list_filter([{', '.join(tests)}], lambda r: r IS NOT NULL)) AS _sw_rule FROM src)),
        matched AS (
          SELECT e.*, hit._sw_rule, {group_value} AS _sw_entity, {group_type} AS _sw_type,
                 CAST(timezone('UTC', time) AS DATE) AS _sw_day
          FROM {events} e JOIN hit ON e.event_id = hit._sw_id
          WHERE {test}
        ),
        fresh AS (SELECT * FROM matched {habit_filter})
        SELECT _sw_rule, _sw_type || ':' || _sw_entity || '|' || strftime(_sw_day, '%Y-%m-%d') AS key,
               min(time) AS first_seen, max(time) AS last_seen, count(*) AS event_count,
               list_concat({entities}) AS entities,
               json_object('rule', $titles[_sw_rule + 1], 'entity_type', _sw_type, 'entity', _sw_entity,
                           'events', count(*), {', '.join(evidence)}) AS evidence,
               list(event_id ORDER BY time, event_id)[1:{MAX_EVENT_IDS}] AS event_ids,
               mode(channel) AS channel, mode(store_id) AS store_id
        FROM fresh
        WHERE _sw_entity IS NOT NULL
        GROUP BY _sw_rule, _sw_type, _sw_entity, _sw_day
        HAVING count(*) >= $min_events[_sw_rule + 1]
        ORDER BY _sw_rule, key
    """
    return sql, params
