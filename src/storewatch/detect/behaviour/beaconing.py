"""Beaconing: an internal host calls one external address at a steady rhythm, and that address is rare in
the fleet or new to it.

Periodicity is judged per (log source, internal source, external destination) on the gaps between
successive connections: the median gap is the period and the MAD of the gaps over the period is the
jitter, both robust to a few missed or extra beats. Logs of different sources are kept apart so a
Sysmon record and the Zeek record of the same connection do not make a zero gap.

Rarity keeps benign pollers out: update checks, time sync and uptime services are contacted by many
hosts. But popularity is what an infection of most of the fleet also has, so a destination's popularity
only clears it once it is established: contacted in the first day (24 hours) of the estate's outbound
telemetry, before any later infection could have made it popular. A destination first contacted later is
`new`, however many hosts call it; what else must be true of a host before a new beacon convicts it is the
caller's judgement (POS malware wants a program new to the host started just before). An infection
already spread across the fleet on the first day the logs cover cannot be told from the fleet's own
software by rhythm and popularity: intel or a rare process has to say so.
The SQL defines a `beacons` relation that other detections (POS malware) build on.
"""

from __future__ import annotations

from storewatch.detect.behaviour.common import external, internal

MIN_GAPS = 12  # a rhythm needs a dozen intervals before it means anything
MAX_JITTER = 0.2  # MAD/median of the gaps; random (Poisson) traffic sits near 0.6-0.7
MIN_PERIOD_S = 10.0  # shorter "periods" are bursts of one session, not check-ins
# A destination is fleet-rare when at most this share of the internal hosts that reach the outside
# talk to it (never fewer than two hosts, so one infected pair is always rare).
RARE_SHARE = 0.02
HISTORY_HOURS = 24  # the estate's first day of outbound telemetry: what it contacted then is established

BEACONS_CTE = f"""
  _outbound AS (
    SELECT source_format, src_ip, dst_ip, time, event_id
    FROM events
    WHERE class_name = 'Network Activity' AND {internal('src_ip')} AND {external('dst_ip')}
  ),
  _fleet AS (SELECT count(DISTINCT src_ip) AS sources, min(time) + INTERVAL {HISTORY_HOURS} HOUR AS learned FROM _outbound),
  _odd_dst AS (
    SELECT * FROM (
      SELECT dst_ip, count(DISTINCT src_ip) AS talkers,
             count(DISTINCT src_ip) <= greatest(2, {RARE_SHARE} * any_value(f.sources)) AS rare,
             min(time) > any_value(f.learned) AS new
      FROM _outbound, _fleet f GROUP BY dst_ip)
    WHERE rare OR new
  ),
  _gaps AS (
    SELECT o.*, epoch(time) - lag(epoch(time)) OVER (PARTITION BY source_format, src_ip, dst_ip ORDER BY time) AS gap
    FROM _outbound o SEMI JOIN _odd_dst USING (dst_ip)
  ),
  _rhythm AS (
    SELECT source_format, src_ip, dst_ip, count(gap) AS gaps, median(gap) AS period, mad(gap) / median(gap) AS jitter,
           min(time) AS first_seen, max(time) AS last_seen, count(*) AS conns, list(event_id ORDER BY time)[1:20] AS ids
    FROM _gaps GROUP BY ALL
    HAVING count(gap) >= {MIN_GAPS} AND median(gap) >= {MIN_PERIOD_S}
  ),
  beacons AS (
    SELECT DISTINCT ON (src_ip, dst_ip) r.*, d.talkers, d.rare, d.new
    FROM _rhythm r JOIN _odd_dst d USING (dst_ip)
    WHERE r.jitter <= {MAX_JITTER}
    ORDER BY src_ip, dst_ip, r.jitter
  )"""
