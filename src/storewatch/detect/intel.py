"""Match every IP, domain, URL, file hash and e-mail in the events against the STIX intel table.

Matching is a set of hash joins, one per observable column, never a loop over indicators: addresses
(source, destination, DNS answers), domains (HTTP hosts, DNS queries, destination names; an indicator
for `evil.com` also covers `cdn.evil.com`), URLs (host + path, scheme and query ignored on both sides),
file hashes and e-mail addresses. An indicator only counts inside its validity window. One alert per
indicator, internal entity (the host, else the internal address, else the account) and day.
"""

from __future__ import annotations

import duckdb
import pyarrow as pa

from storewatch.detect.behaviour.common import ASSETS_CTE, entity, internal
from storewatch.detect.detection import Detection

# Columns holding each kind of observable; the intel table's ioc_type names the kind.
IP_COLUMNS = ("src_ip", "dst_ip")
DOMAIN_COLUMN = "url_host"
# The addresses a DNS record's answers name, as text: Sysmon's query_results, Zeek's answers (a JSON array).
DNS_ANSWERS = "coalesce(attributes->>'query_results', attributes->>'answers')"


def _ip_hits() -> str:
    direct = [
        f"SELECT e.event_id, i.indicator_id, '{col}' AS matched_on FROM events e JOIN live i "
        f"ON i.ioc_type = 'ip' AND i.value = e.{col} AND e.time BETWEEN i.valid_from AND i.valid_until"
        for col in IP_COLUMNS
    ]
    # DNS answers carry addresses too (Sysmon QueryResults "::ffff:1.2.3.4;...", Zeek's answers array),
    # only in the DNS records.
    answers = f"""
      SELECT e.event_id, i.indicator_id, 'dns_answer' AS matched_on
      FROM (SELECT event_id, time, unnest(regexp_extract_all({DNS_ANSWERS},
                   '((?:[0-9]{{1,3}}\\.){{3}}[0-9]{{1,3}})', 1)) AS ip
            FROM events WHERE class_name = 'DNS Activity' AND {DNS_ANSWERS} IS NOT NULL) e
      JOIN live i ON i.ioc_type = 'ip' AND i.value = e.ip AND e.time BETWEEN i.valid_from AND i.valid_until"""
    return "\nUNION ALL\n".join([*direct, answers])


SQL = f"""
WITH {ASSETS_CTE},
live AS (
  SELECT indicator_id, ioc_type, lower(value) AS value, name, labels, confidence,
         coalesce(valid_from, '-infinity'::TIMESTAMPTZ) AS valid_from,
         coalesce(valid_until, 'infinity'::TIMESTAMPTZ) AS valid_until,
         CASE WHEN ioc_type = 'url' THEN regexp_replace(lower(value), '^[a-z][a-z0-9+.-]*://|[?#].*$|/$', '', 'g') END
           AS url_key
  FROM intel WHERE value IS NOT NULL AND value <> ''
),
-- every distinct domain seen, expanded to its parent domains (a.b.evil.com -> b.evil.com -> evil.com)
domains AS (
  SELECT d, lower(d) AS full_name FROM (SELECT DISTINCT {DOMAIN_COLUMN} AS d FROM events WHERE {DOMAIN_COLUMN} IS NOT NULL)
),
suffixes AS (
  SELECT d, array_to_string(parts[k:], '.') AS suffix
  FROM (SELECT d, string_split(full_name, '.') AS parts FROM domains), range(1, 64) t(k)
  WHERE k < len(parts)
),
domain_hits AS (
  SELECT e.event_id, i.indicator_id, '{DOMAIN_COLUMN}' AS matched_on
  FROM suffixes s JOIN live i ON i.ioc_type = 'domain' AND i.value = s.suffix
  JOIN events e ON e.{DOMAIN_COLUMN} = s.d AND e.time BETWEEN i.valid_from AND i.valid_until
),
url_hits AS (
  SELECT e.event_id, i.indicator_id, 'url' AS matched_on
  FROM events e JOIN live i ON i.ioc_type = 'url'
   AND i.url_key = regexp_replace(lower(e.url_host) || coalesce(e.url_path, ''), '/$', '')
   AND e.time BETWEEN i.valid_from AND i.valid_until
  WHERE e.url_host IS NOT NULL
),
other_hits AS (
  SELECT e.event_id, i.indicator_id, 'file_hash' AS matched_on
  FROM events e JOIN live i ON i.ioc_type = 'hash' AND i.value = lower(e.file_hash)
   AND e.time BETWEEN i.valid_from AND i.valid_until
  UNION ALL
  SELECT e.event_id, i.indicator_id, 'email' AS matched_on
  FROM events e JOIN live i ON i.ioc_type = 'email' AND i.value = lower(e.email)
   AND e.time BETWEEN i.valid_from AND i.valid_until
),
hits AS (
  SELECT DISTINCT * FROM ({_ip_hits()} UNION ALL SELECT * FROM domain_hits UNION ALL SELECT * FROM url_hits
                          UNION ALL SELECT * FROM other_hits)
),
matched AS (
  SELECT m.*, coalesce(m.host, ah.host) AS host_name FROM (
    SELECT e.event_id, e.time, e.host, e.user_name, e.store_id, e.channel, h.matched_on, i.*,
           CASE WHEN {internal('e.src_ip')} AND lower(e.src_ip) <> i.value THEN e.src_ip
                WHEN {internal('e.dst_ip')} AND lower(e.dst_ip) <> i.value THEN e.dst_ip END AS inside_ip
    FROM hits h JOIN events e USING (event_id) JOIN live i USING (indicator_id)
  ) m LEFT JOIN assets ah ON ah.ip = m.inside_ip
),
alerts AS (
  SELECT indicator_id, ioc_type, value, coalesce(host_name, inside_ip, user_name, '') AS inside,
         date_trunc('day', time) AS day, any_value(name) AS name, any_value(labels) AS labels,
         any_value(confidence) AS confidence, min(time) AS first_seen, max(time) AS last_seen, count(*) AS events,
         list(DISTINCT matched_on) AS matched_on, list(DISTINCT channel) AS channels,
         any_value(host_name) AS host, any_value(inside_ip) AS inside_ip, any_value(user_name) AS user_name,
         any_value(store_id) AS store_id, list(event_id ORDER BY time)[1:20] AS event_ids
  FROM matched GROUP BY indicator_id, ioc_type, value, inside, day
)
SELECT a.value || '|' || a.inside || '|' || strftime(a.day, '%Y-%m-%d') AS key,
       a.first_seen, a.last_seen, a.events AS event_count,
       list_filter([{{'type': CASE a.ioc_type WHEN 'hash' THEN 'hash' WHEN 'url' THEN 'url' WHEN 'domain' THEN 'domain'
                                           WHEN 'email' THEN 'email' ELSE 'ip' END, 'value': a.value}},
                    {entity('host', 'a.host')}, {entity('ip', 'a.inside_ip')},
                    {entity('user', 'a.user_name')}, {entity('store', 'coalesce(a.store_id, hs.store_id)')}],
                   lambda e: e.value IS NOT NULL) AS entities,
       json_object('indicator', a.value, 'ioc_type', a.ioc_type, 'indicator_name', a.name, 'labels', a.labels,
                   'intel_confidence', a.confidence, 'matched_on', array_to_string(a.matched_on, ', '),
                   'inside', CASE WHEN a.inside = '' THEN 'the estate' ELSE a.inside END, 'events', a.events,
                   'intel_match', true) AS evidence,
       a.event_ids, a.channels[1] AS channel, coalesce(a.store_id, hs.store_id) AS store_id,
       CASE WHEN a.confidence IS NOT NULL THEN least(1.0, greatest(0.0, a.confidence / 100.0)) END AS confidence
FROM alerts a LEFT JOIN _host_store hs ON hs.host = a.host
"""


def query(con: duckdb.DuckDBPyConnection) -> pa.Table:
    return con.sql(SQL).to_arrow_table()


DETECTION = Detection(
    id="intel.match", title="Threat-intel indicator seen", kind="intel", scenario="intel_match", severity="high",
    query=query, attack=("T1071",),
    description="An IP, domain, URL, file hash or e-mail address listed in the threat-intel feed (and valid at the "
                "time) appears in the events.",
    summary="{ioc_type} {indicator} ({indicator_name}; {labels}) seen {events} times at {inside}, on {matched_on}.",
    source=__file__,
)


def detections() -> list[Detection]:
    return [DETECTION]
