"""Internal port scan: one internal host touches far more host:port pairs than the estate's normal
fan-out, and most of those pairs fail (rejected or never answered). The share is of the pairs, not of
the connections: a busy back-office PC's day of ordinary traffic to its few usual servers must not water
down the sweep it also ran (at four times the scale, a 1,659-pair sweep was 48% of one PC's connections).

Unit of judgement: one internal source in one UTC day. Floor: a suspect source-day failed on at least 50
host:port pairs, and on most of the pairs it touched. The estate's normal fan-out is learned from the source-days
below that floor (median + MAD of their daily distinct host:port counts on a log scale, and their 90th
percentile), so a busy estate and a quiet one each get their own bar and scanners never set it, however
many of them there are; with no such source-day (a one-host estate) the floor alone decides.
"""

from __future__ import annotations

import duckdb
import pyarrow as pa

from storewatch.detect.behaviour import outliers
from storewatch.detect.behaviour.common import ASSETS_CTE, entity, internal
from storewatch.detect.detection import Detection

# Zeek's states for a connection attempt that was refused or never answered (plus their RST variants).
FAILED_STATES = ("REJ", "S0", "RSTOS0", "RSTRH", "SH", "SHR", "OTH")
# Far above normal: this many robust deviations (log scale) above the median daily fan-out...
Z_MIN = 4.0
# ...and several times the busiest normal source (90th percentile, robust to the scanner itself): a scan is not a busy client.
P90_FACTOR = 5.0
# The floor: fewer failed targets than this is a misconfigured client retrying, not a sweep...
MIN_TARGETS = 50
MAX_FAILED_SHARE = 0.5  # ...and most of the host:port pairs it touched failed

SQL = f"""
WITH {ASSETS_CTE},
conns AS (
  SELECT src_ip, date_trunc('day', time) AS day, time, event_id, dst_ip || ':' || dst_port AS target, dst_ip,
         reason IN {FAILED_STATES} OR (outcome = 'failure' AND reason IS NULL) AS failed
  FROM events
  WHERE class_name = 'Network Activity' AND channel = 'network' AND dst_ip IS NOT NULL AND dst_port IS NOT NULL
    AND {internal('src_ip')}
),
per_day AS (
  SELECT src_ip, day, count(DISTINCT target) AS targets, count(DISTINCT target) FILTER (failed) AS failed_targets,
         count(DISTINCT dst_ip) AS hosts, count(DISTINCT dst_ip) FILTER (failed) AS failed_hosts,
         count(*) AS attempts, count(*) FILTER (failed) AS failures,
         min(time) FILTER (failed) AS first_seen, max(time) FILTER (failed) AS last_seen,
         list(event_id ORDER BY time) FILTER (failed) AS ids
  FROM conns GROUP BY ALL
),
suspect AS (
  SELECT *, failed_targets >= {MIN_TARGETS} AND failed_targets >= {MAX_FAILED_SHARE} * targets AS at_floor FROM per_day
),
-- the normal fan-out, from the source-days below the floor only: a sweep never sets its own bar
norm AS (
  SELECT median(log10(targets)) AS med, greatest(1.4826 * mad(log10(targets)), 0.1) AS scale,
         quantile_cont(targets, 0.9) AS p90, count(*) AS n
  FROM suspect WHERE NOT at_floor
)
SELECT p.src_ip || '|' || strftime(p.day, '%Y-%m-%d') AS key, p.first_seen, p.last_seen, p.failures AS event_count,
       list_filter([{entity('ip', 'p.src_ip')}, {entity('host', 'a.host')}, {entity('store', 'a.store_id')}],
                   lambda e: e.value IS NOT NULL) AS entities,
       json_object('ip', p.src_ip, 'host', coalesce(a.host, p.src_ip), 'targets', p.targets,
                   'failed_targets', p.failed_targets, 'hosts', p.hosts, 'failed_share', round(p.failed_targets / p.targets, 2),
                   'minutes', round(epoch(p.last_seen - p.first_seen) / 60)::INT,
                   'typical_targets', round(power(10, n.med))::INT, 'p90_targets', round(n.p90)::INT,
                   'baseline_days', n.n,
                   'normal', CASE WHEN n.n > 0 THEN 'a busy normal host reaches ' || round(n.p90)::INT
                                  ELSE 'no normal host to compare with' END) AS evidence,
       p.ids[1:20] AS event_ids, 'network' AS channel, a.store_id, p.src_ip AS ml_entity,
       coalesce((log10(p.targets) - n.med) / n.scale, {Z_MIN}) / (2 * {Z_MIN}) AS certainty
FROM suspect p CROSS JOIN norm n LEFT JOIN assets a ON a.ip = p.src_ip
WHERE p.at_floor
  AND coalesce((log10(p.targets) - n.med) / n.scale >= {Z_MIN}, true)
  AND coalesce(p.targets >= {P90_FACTOR} * n.p90, true)
"""


def query(con: duckdb.DuckDBPyConnection) -> pa.Table:
    """Alerts graded by the host-day model (rule certainty: the fan-out z over twice its threshold)."""
    return outliers.annotate(con, con.sql(SQL).to_arrow_table(), "host")


DETECTION = Detection(
    id="behaviour.internal_port_scan", title="Internal port scan", kind="behaviour", scenario="internal_port_scan",
    severity="medium", query=query, attack=("T1046",),
    description="An internal host probed far more host:port pairs in a day than the estate's normal fan-out, "
                "most of them refused or unanswered. Floor: 50 failed host:port pairs, most of the pairs touched failed. "
                "Baseline, from the source-days below the floor: robust z 4 on the log fan-out and five times "
                "its 90th percentile; with none, the floor alone.",
    summary="{host} probed {targets} host:port pairs on {hosts} hosts in {minutes} minutes "
            "({failed_share:.0%} failed; {normal}).",
    source=__file__,
)
