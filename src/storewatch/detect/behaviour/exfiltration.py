"""Exfiltration: an internal host sends an external address far more than it, or any peer, ever does.

Unit of judgement: the bytes one internal source sent to one external destination in one UTC day.
Floor: a pair-day must move at least 100 MB (more than any mail attachment or photo upload) to be a
suspect. Volumes are compared on a log scale with robust z-scores (median / MAD) against two baselines
that never hold the suspect: the peers' (every other source's pair-days below the floor, so exfiltrating
hosts never set the bar, however many of them there are) and the host's own history (its pair-days on
other days, so a server that routinely ships gigabytes keeps its habit, while the day's other transfers,
perhaps to the attacker's other buckets, are no alibi). A baseline of five pair-days or fewer is none: with
neither (a single-server estate's first day, a quiet estate) the floor alone decides. A transfer that recurs on another
day to the same destination at about the same time of day is a scheduled job (backup, ETL push) and is
left alone.
"""

from __future__ import annotations

import duckdb
import pyarrow as pa

from storewatch.detect.behaviour import outliers
from storewatch.detect.behaviour.common import ASSETS_CTE, entity, external, internal
from storewatch.detect.detection import Detection

# Below this a day's transfer to one address is ordinary whatever the baseline (and never a suspect).
FLOOR_BYTES = 100_000_000
# A robust z of 8 on log10(bytes) is several orders of magnitude above the typical transfer: rare
# enough that ordinary uploads (mail attachments, sync clients) stay below it in any estate.
Z_MIN = 8.0
# ...and at least a thousand times the typical volume: with an estate whose transfers are all alike the
# MAD is tiny and z alone would flag a few-megabyte upload; "far above" means orders of magnitude.
MIN_DECADES = 3.0
# MAD of 0 happens when every flow has the same size; a tenth of a decade keeps z finite and strict.
MAD_FLOOR = 0.1
# A baseline needs more than this many pair-days to mean anything.
MIN_PAIRS = 5
# Same destination within this many hours of the same time of day on another day = a schedule.
SCHEDULE_HOURS = 2.0


def _baseline(name: str, join: str) -> str:
    """CTE `name`: median and floored MAD of the log volumes of the pair-days `o` joined to each suspect
    `c` by `join`, or NULLs when there are too few of them to be a baseline."""
    return f"""{name} AS (
  SELECT c.src_ip, c.dst_ip, c.day,
         CASE WHEN count(o.lv) > {MIN_PAIRS} THEN median(o.lv) END AS med,
         CASE WHEN count(o.lv) > {MIN_PAIRS} THEN greatest(1.4826 * mad(o.lv), {MAD_FLOOR}) END AS scale,
         count(o.lv) AS n
  FROM suspects c LEFT JOIN pairs o ON {join}
  GROUP BY ALL
)"""


SQL = f"""
WITH {ASSETS_CTE},
flows AS (
  SELECT src_ip, dst_ip, date_trunc('day', time) AS day, time, event_id, bytes_out, dst_port
  FROM events
  WHERE class_name = 'Network Activity' AND bytes_out > 0 AND {internal('src_ip')} AND {external('dst_ip')}
),
pairs AS (
  SELECT src_ip, dst_ip, day, sum(bytes_out) AS bytes, count(*) AS conns, min(time) AS first_seen,
         max(time) AS last_seen, mode(dst_port) AS port, list(event_id ORDER BY bytes_out DESC)[1:20] AS event_ids,
         log10(sum(bytes_out) + 1) AS lv
  FROM flows GROUP BY ALL
),
suspects AS (SELECT * FROM pairs WHERE bytes >= {FLOOR_BYTES}),
{_baseline("peer", f"o.src_ip <> c.src_ip AND o.bytes < {FLOOR_BYTES}")},
{_baseline("own", "o.src_ip = c.src_ip AND o.day <> c.day")},
scored AS (
  SELECT c.*, (c.lv - peer.med) / peer.scale AS z_peer, (c.lv - own.med) / own.scale AS z_host,
         c.lv - peer.med AS decades_peer, c.lv - own.med AS decades_host, peer.med AS peer_med,
         peer.n AS peer_pairs, own.n AS host_pairs
  FROM suspects c JOIN peer USING (src_ip, dst_ip, day) JOIN own USING (src_ip, dst_ip, day)
),
big AS (
  SELECT * FROM scored
  WHERE coalesce(z_peer >= {Z_MIN} AND decades_peer >= {MIN_DECADES}, true)
    AND coalesce(z_host >= {Z_MIN} AND decades_host >= {MIN_DECADES}, true)
),
-- the same pair on another day, starting at about the same time of day (the short way round the clock)
scheduled AS (
  SELECT DISTINCT a.src_ip, a.dst_ip, a.day
  FROM big a JOIN pairs b ON a.src_ip = b.src_ip AND a.dst_ip = b.dst_ip AND a.day <> b.day
  WHERE b.lv >= a.lv - 1
    AND least(abs(epoch(a.first_seen - a.day) - epoch(b.first_seen - b.day)),
              86400 - abs(epoch(a.first_seen - a.day) - epoch(b.first_seen - b.day))) <= {SCHEDULE_HOURS} * 3600
)
SELECT b.src_ip || '>' || b.dst_ip || '|' || strftime(b.day, '%Y-%m-%d') AS key,
       b.first_seen, b.last_seen, b.conns AS event_count,
       list_filter([{entity('ip', 'b.src_ip')}, {entity('ip', 'b.dst_ip')}, {entity('host', 'a.host')},
                    {entity('store', 'a.store_id')}], lambda e: e.value IS NOT NULL) AS entities,
       json_object('src_ip', b.src_ip, 'dst_ip', b.dst_ip, 'host', coalesce(a.host, b.src_ip), 'port', b.port,
                   'bytes', b.bytes, 'gigabytes', round(b.bytes / 1e9, 2), 'connections', b.conns,
                   'z_peer', round(b.z_peer, 1), 'z_host', round(b.z_host, 1),
                   'peer_pairs', b.peer_pairs, 'host_pairs', b.host_pairs,
                   'typical_bytes', round(power(10, b.peer_med)), 'floor_bytes', {FLOOR_BYTES},
                   'baseline', CASE WHEN b.z_peer IS NOT NULL THEN 'robust z ' || round(b.z_peer, 1) || ' vs peers'
                                    WHEN b.z_host IS NOT NULL THEN 'robust z ' || round(b.z_host, 1) || ' vs its own days'
                                    ELSE 'no baseline to compare with, above the ' || {FLOOR_BYTES // 1_000_000}
                                         || ' MB floor' END,
                   'data_moved', true) AS evidence,
       b.event_ids, 'network' AS channel, a.store_id, b.src_ip AS ml_entity,
       coalesce(b.z_peer, b.z_host, {Z_MIN}) / (2 * {Z_MIN}) AS certainty
FROM big b LEFT JOIN scheduled s USING (src_ip, dst_ip, day) LEFT JOIN assets a ON a.ip = b.src_ip
WHERE s.src_ip IS NULL
"""


def query(con: duckdb.DuckDBPyConnection) -> pa.Table:
    """Alerts graded by the host-day model (rule certainty: the peer z over twice its threshold)."""
    return outliers.annotate(con, con.sql(SQL).to_arrow_table(), "host")


DETECTION = Detection(
    id="behaviour.exfiltration", title="Outbound data volume far above baseline", kind="behaviour",
    scenario="exfiltration", severity="critical", query=query, attack=("T1048", "T1041"),
    description="An internal host sent one external address orders of magnitude more data in a day than its own "
                "and its peers' usual transfers; recurring same-time transfers (backups) are excluded. Floor: 100 MB "
                "to one address in a day. Baselines, never holding the suspect: every other host's pair-days below "
                "the floor, and the host's own pair-days on other days (robust z 8 and a thousand times their median); with "
                "five pair-days or fewer to compare, the floor alone.",
    summary="{host} sent {gigabytes} GB in {connections} connections to {dst_ip}:{port}, "
            "far above its baseline ({baseline}).",
    source=__file__,
)
