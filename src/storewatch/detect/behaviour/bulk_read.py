"""Bulk data read: a database user pulls whole tables from a client that is not an established host,
outside any recurring schedule.

A statement is bulk by its row count where the audit log has one (pgaudit with log_rows:
`attributes.rows`): far above the statements of the estate's other database users (robust z on a log
scale and ten times their 95th percentile; with no other user to compare with, from 10,000 rows), so a
user never sets their own bar. A statement is also bulk by its shape: a whole table out (`COPY ... TO`, or
a `SELECT` with no WHERE, LIMIT or aggregate) of a table whose name marks customer or payment data. Most
installations log no row count (pgaudit's default), and where they do, a small shop's whole customer table
is a few hundred rows, no more than its app's busier lookups: the shape holds whatever the count. The client address comes from the
session's connection record, joined on the backend pid as of the statement's time. A user's bulk reads
are a scheduled job (nightly ETL) when the same user also bulk-read on another day at about the same
time of day. With a single day of history a schedule cannot be seen, so the read must also come from an
unusual client: one present in far fewer hours of telemetry than the median of the estate's *other*
database clients (an ETL or app server talks all day; a laptop plugged in for a dump does not), or one the user never used on
the days it was seen before.
"""

from __future__ import annotations

import duckdb
import pyarrow as pa

from storewatch.detect.behaviour import outliers
from storewatch.detect.behaviour.common import ASSETS_CTE, entity
from storewatch.detect.detection import Detection

Z_MIN = 6.0  # robust deviations above the median statement size (log10 rows)
P95_FACTOR = 10.0  # and ten times what the busiest ordinary statements return
SCHEDULE_HOURS = 2.0  # same user, another day, within this many hours of the same time of day
RARE_SOURCE_SHARE = 0.5  # client present in under half the hours a typical database client is
# Table names that mark customer or payment data (as in the store's PII catalog: people, contact, cards).
SENSITIVE_TABLES = ("customer|client|member|user|account|payment|card|billing|address|order|email|phone|"
                    "loyalty|person|people|profile|subscriber|contact|pii")

SQL = f"""
WITH {ASSETS_CTE},
db AS (
  SELECT *, try_cast(attributes->>'pid' AS BIGINT) AS pid FROM events WHERE channel = 'database'
),
conns AS (SELECT pid, time, src_ip FROM db WHERE src_ip IS NOT NULL AND pid IS NOT NULL),
reads AS (
  SELECT d.event_id, d.time, d.user_name, d.query, d.pid, try_cast(d.attributes->>'rows' AS BIGINT) AS rows,
         date_trunc('day', d.time) AS day,
         -- a whole table out: COPY ... TO, or a SELECT that neither filters, limits nor aggregates ...
         regexp_matches(lower(d.query), '^\\s*copy\\b.*\\bto\\b')
           OR (regexp_matches(lower(d.query), '^\\s*select\\b')
               AND NOT regexp_matches(lower(d.query), '\\b(where|limit|fetch|offset|group\\s+by|having)\\b|\\b(count|sum|avg|min|max)\\s*\\('))
           AS unbounded,
         -- ... of a table named for customer or payment data
         regexp_matches(lower(d.query), '\\b(from|join|copy)\\s+[a-z0-9_."]*({SENSITIVE_TABLES})') AS sensitive
  FROM db d
  WHERE d.class_name = 'Datastore Activity' AND d.user_name IS NOT NULL AND d.outcome <> 'failure'
    AND (d.reason = 'READ' OR d.activity IN ('select', 'copy')) AND d.query IS NOT NULL
),
-- Statement sizes of every other database user: a user never sets their own bar.
norm AS (
  SELECT u.user_name, median(log10(r.rows + 1)) AS med, greatest(1.4826 * mad(log10(r.rows + 1)), 0.1) AS scale,
         quantile_cont(r.rows, 0.95) AS p95
  FROM (SELECT DISTINCT user_name FROM reads) u LEFT JOIN reads r ON r.user_name <> u.user_name AND r.rows IS NOT NULL
  GROUP BY u.user_name
),
scored AS (
  SELECT r.*, (log10(r.rows + 1) - coalesce(n.med, 0)) / coalesce(n.scale, 0.5) AS z, coalesce(n.p95, 1000) AS p95
  FROM reads r JOIN norm n USING (user_name)
),
bulk AS (
  SELECT r.*, c.src_ip
  FROM scored r ASOF LEFT JOIN conns c ON r.pid = c.pid AND r.time >= c.time
  WHERE (r.rows IS NOT NULL AND r.z >= {Z_MIN} AND r.rows >= {P95_FACTOR} * greatest(r.p95, 1))
     OR (r.unbounded AND r.sensitive)
),
sessions AS (
  SELECT user_name, src_ip, day, min(time) AS first_seen, max(time) AS last_seen, count(*) AS statements,
         sum(rows) AS rows, max(rows) AS max_rows, greatest(coalesce(max(z), {Z_MIN}), {Z_MIN}) AS z, list(event_id ORDER BY time) AS ids,
         list_distinct(flatten(list(regexp_extract_all(lower(query), '\\b(?:from|join|copy)\\s+([a-z_][a-z0-9_."]*)', 1))))
           AS tables
  FROM bulk GROUP BY ALL
),
scheduled AS (
  SELECT DISTINCT a.user_name, a.day
  FROM sessions a JOIN bulk b ON a.user_name = b.user_name AND a.day <> b.day
  WHERE least(abs(epoch(a.first_seen - a.day) - epoch(b.time - b.day)),
              86400 - abs(epoch(a.first_seen - a.day) - epoch(b.time - b.day))) <= {SCHEDULE_HOURS} * 3600
),
-- how established each database client is: distinct hours it shows up in any telemetry
presence AS (
  SELECT ip, count(DISTINCT date_trunc('hour', time)) AS hours
  FROM (SELECT src_ip AS ip, time FROM events WHERE src_ip IN (SELECT src_ip FROM conns)
        UNION ALL SELECT dst_ip, time FROM events WHERE dst_ip IN (SELECT src_ip FROM conns))
  GROUP BY ip
),
user_sources AS (SELECT DISTINCT r.user_name, r.day, c.src_ip FROM reads r ASOF JOIN conns c ON r.pid = c.pid AND r.time >= c.time),
history AS (SELECT count(DISTINCT date_trunc('day', time)) > 1 AS multi_day FROM db),
judged AS (
  SELECT s.*, p.hours AS source_hours, t.hours AS typical_hours,
         coalesce(p.hours, 0) < {RARE_SOURCE_SHARE} * t.hours AS rare_source,
         EXISTS (SELECT 1 FROM user_sources u WHERE u.user_name = s.user_name AND u.day <> s.day)
           AND NOT EXISTS (SELECT 1 FROM user_sources u WHERE u.user_name = s.user_name AND u.day <> s.day
                           AND u.src_ip = s.src_ip) AS new_source
  FROM sessions s LEFT JOIN presence p ON p.ip = s.src_ip
  -- the typical client is that of the *other* clients: the suspect's own does not set the bar
  CROSS JOIN LATERAL (SELECT median(o.hours) AS hours FROM presence o WHERE o.ip IS DISTINCT FROM s.src_ip) t
  WHERE NOT EXISTS (SELECT 1 FROM scheduled x WHERE x.user_name = s.user_name AND x.day = s.day)
)
SELECT j.user_name || '|' || coalesce(j.src_ip, '?') || '|' || strftime(j.day, '%Y-%m-%d') AS key,
       j.first_seen, j.last_seen, j.statements AS event_count,
       list_filter([{entity('user', 'j.user_name')}, {entity('ip', 'j.src_ip')}, {entity('host', 'a.host')}],
                   lambda e: e.value IS NOT NULL) AS entities,
       json_object('user', j.user_name, 'ip', coalesce(j.src_ip, 'an unknown client'),
                   'rows', j.rows, 'rows_read', coalesce(format('{{:,}}', j.rows), 'an unlogged number of'),
                   'max_rows', j.max_rows, 'statements', j.statements, 'tables', array_to_string(j.tables, ', '),
                   'hour_utc', hour(j.first_seen), 'source_hours', j.source_hours,
                   'typical_source_hours', j.typical_hours, 'rare_source', j.rare_source, 'new_source', j.new_source,
                   'data_moved', true) AS evidence,
       j.ids[1:20] AS event_ids, 'database' AS channel, j.user_name AS ml_entity, j.z / (2 * {Z_MIN}) AS certainty
FROM judged j LEFT JOIN assets a ON a.ip = j.src_ip
WHERE j.rare_source OR j.new_source OR (SELECT multi_day FROM history)
"""


def query(con: duckdb.DuckDBPyConnection) -> pa.Table:
    """Alerts graded by the database-user-day model (rule certainty: the largest statement's z over twice
    its threshold)."""
    return outliers.annotate(con, con.sql(SQL).to_arrow_table(), "db_user")


DETECTION = Detection(
    id="behaviour.bulk_data_read", title="Bulk read of database tables", kind="behaviour", scenario="bulk_data_read",
    severity="high", query=query, attack=("T1213", "T1005"),
    description="A database user read whole tables (row counts far above other users' statements, or whole-table "
                "statements on customer or payment tables, whatever their row count) outside any recurring "
                "schedule, from an unusual client.",
    summary="Database user {user} read {rows_read} rows ({tables}) in {statements} statements from {ip}.",
    source=__file__,
)
