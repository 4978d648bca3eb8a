"""Exfiltration: an internal host sends an external address far more than it, or any peer, ever does.

Unit of judgement: the bytes one internal source sent to one external destination in one UTC day.
Volumes are compared on a log scale with robust z-scores (median / MAD), against every source's
per-destination-day volumes (the estate's peers) and against the source's own, so the threshold
follows the estate instead of a byte count. A transfer that recurs on another day to the same
destination at about the same time of day is a scheduled job (backup, ETL push) and is left alone.
"""

from __future__ import annotations

import duckdb
import pyarrow as pa

from storewatch.detect.behaviour import outliers
from storewatch.detect.behaviour.common import ASSETS_CTE, entity, external, internal
from storewatch.detect.detection import Detection

# A robust z of 8 on log10(bytes) is several orders of magnitude above the typical transfer: rare
# enough that ordinary uploads (mail attachments, sync clients) stay below it in any estate.
Z_MIN = 8.0
# ...and at least a thousand times the typical volume: with an estate whose transfers are all alike the
# MAD is tiny and z alone would flag a few-megabyte upload; "far above" means orders of magnitude.
MIN_DECADES = 3.0
# MAD of 0 happens when every flow has the same size; a tenth of a decade keeps z finite and strict.
MAD_FLOOR = 0.1
# Own-host baseline needs a few other destination-days to mean anything.
MIN_HOST_PAIRS = 5
# Same destination within this many hours of the same time of day on another day = a schedule.
SCHEDULE_HOURS = 2.0

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
peer AS (SELECT median(lv) AS med, greatest(1.4826 * mad(lv), {MAD_FLOOR}) AS scale FROM pairs),
own AS (
  SELECT src_ip, count(*) AS n, median(lv) AS med, greatest(1.4826 * mad(lv), {MAD_FLOOR}) AS scale
  FROM pairs GROUP BY src_ip
),
scored AS (
  SELECT p.*, (p.lv - peer.med) / peer.scale AS z_peer,
         CASE WHEN own.n > {MIN_HOST_PAIRS} THEN (p.lv - own.med) / own.scale END AS z_host,
         p.lv - peer.med AS decades_peer, CASE WHEN own.n > {MIN_HOST_PAIRS} THEN p.lv - own.med END AS decades_host,
         own.n AS host_pairs
  FROM pairs p JOIN own USING (src_ip), peer
),
big AS (
  SELECT * FROM scored
  WHERE z_peer >= {Z_MIN} AND decades_peer >= {MIN_DECADES}
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
                   'typical_bytes', round(power(10, (SELECT med FROM peer))), 'data_moved', true) AS evidence,
       b.event_ids, 'network' AS channel, a.store_id, b.src_ip AS ml_entity, b.z_peer / (2 * {Z_MIN}) AS certainty
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
                "and its peers' usual transfers; recurring same-time transfers (backups) are excluded.",
    summary="{host} sent {gigabytes} GB in {connections} connections to {dst_ip}:{port}, "
            "far above its baseline (robust z {z_peer} vs peers).",
    source=__file__,
)
