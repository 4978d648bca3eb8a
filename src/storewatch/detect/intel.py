"""Match every IP, domain, URL, file hash and e-mail in the events against the STIX intel table.

Matching is a set of hash joins, one per observable column, never a loop over indicators: addresses
(source, destination, DNS answers; an indicator may be a CIDR network, IPv4 or IPv6, and covers every
address inside it), domains (HTTP hosts, DNS queries, destination names; an indicator for `evil.com`
also covers `cdn.evil.com`), URLs (host + path, scheme and query ignored on both sides), file hashes
(every hash an event carries: `file_hash` and the `md5` / `sha1` / `sha256` attributes the endpoint and
network sources keep, whatever algorithm the indicator names) and e-mail addresses. An indicator only
counts inside its validity window; one pulled from a feed (`storewatch intel pull`) from the start of its
retro-hunt window (`match_from`) instead of its valid_from, and a block list's host names only as written
(`exact`). One alert per indicator, internal entity (the host, else the internal address, else the account)
and day.
"""

from __future__ import annotations

import duckdb
import pyarrow as pa

from storewatch.detect.behaviour.common import ASSETS_CTE, entity, internal
from storewatch.detect.detection import Detection

# Columns holding each kind of observable; the intel table's ioc_type names the kind.
IP_COLUMNS = ("src_ip", "dst_ip")
DOMAIN_COLUMN = "url_host"
HASH_ATTRIBUTES = ("md5", "sha1", "sha256")  # the attribute keys sources keep a file's hashes under

# Addresses are compared as 128-bit numbers, IPv4 as IPv4-mapped IPv6 (::ffff:a.b.c.d), so that a network is
# a number range, `::ffff:1.2.3.4` (Sysmon's DNS answers) is the same address as `1.2.3.4`, and v4 networks
# are v6 networks 96 bits longer. Computed in SQL (no INET extension offline), once per distinct address.
_V4 = r"(?:\d{1,3}\.){3}\d{1,3}"
_V4_MAPPED = 0xFFFF_0000_0000


def _let(value: str, name: str, body: str) -> str:
    """`body` with `name` bound to `value`, evaluated once (a one-element list_transform)."""
    return f"list_transform([{value}], lambda {name}: {body})[1]"


def _v4_number(x: str) -> str:
    octets = f"list_transform(string_split({x}, '.'), lambda o: o::UHUGEINT)"
    return _let(octets, "o4", "CASE WHEN list_max(o4) <= 255 THEN o4[1] * 16777216 + o4[2] * 65536 + o4[3] * 256 + o4[4] END")


def _v6_number(x: str) -> str:
    tail = f"regexp_extract(s0, '{_V4}$')"  # ::ffff:1.2.3.4 ends in dotted IPv4: two hex groups
    dotted = _let(_v4_number(tail), "t4",
                  f"left(s0, len(s0) - len({tail})) || printf('%x:%x', (t4 // 65536)::BIGINT, (t4 % 65536)::BIGINT)")
    text = _let(f"regexp_replace(lower(trim({x}, '[] ')), '%.*$', '')", "s0",
                f"CASE WHEN {tail} = '' THEN s0 ELSE {dotted} END")
    side = "list_filter(string_split(split_part(s, '::', {}), ':'), lambda g: g <> '')"
    groups = _let(text, "s", f"""CASE WHEN len(string_split(s, '::')) > 2 THEN []::VARCHAR[]
        WHEN contains(s, '::') THEN {_let(side.format(1), 'l', _let(side.format(2), 'r',
             "l || list_transform(range(8 - len(l) - len(r)), lambda z: '0') || r"))}
        ELSE string_split(s, ':') END""")
    return _let(groups, "gs", "CASE WHEN len(gs) = 8 AND len(list_filter(gs, lambda g: regexp_full_match(g, '[0-9a-f]{1,4}'))) = 8 "
                              "THEN ('0x' || array_to_string(list_transform(gs, lambda g: lpad(g, 4, '0')), ''))::UHUGEINT END")


def ip_number(x: str) -> str:
    """SQL: the address in text column `x` as a UHUGEINT in the IPv6 space (IPv4 mapped), NULL if not an address."""
    return (f"CASE WHEN regexp_full_match({x}, '{_V4}') THEN {_v4_number(x)} + {_V4_MAPPED} "
            f"WHEN contains({x}, ':') THEN {_v6_number(x)} END")


def _ip_hits() -> str:
    direct = [f"SELECT event_id, time, {col} AS ip, '{col}' AS matched_on FROM events WHERE {col} IS NOT NULL AND {col} <> ''"
              for col in IP_COLUMNS]
    # DNS answers carry addresses too (Sysmon QueryResults "type:  5 cdn.example;::ffff:1.2.3.4;2001:db8::5;",
    # Zeek's answers array), only in the DNS records: every token made of address characters (ip_number drops
    # the rest).
    answers = """
      SELECT event_id, time, ip, 'dns_answer' AS matched_on FROM (
        SELECT event_id, time, trim(unnest(coalesce(string_split(attributes->>'query_results', ';'),
                                                     json_extract_string(attributes, '$.answers[*]')))) AS ip
        FROM events WHERE class_name = 'DNS Activity'
          AND (attributes->>'query_results' IS NOT NULL OR attributes->>'answers' IS NOT NULL))
      WHERE regexp_full_match(ip, '[0-9A-Fa-f:.]{2,45}')"""
    return f"""
event_ips AS ({' UNION ALL '.join([*direct, answers])}),
ip_numbers AS (SELECT ip, {ip_number('ip')} AS n FROM (SELECT DISTINCT ip FROM event_ips)),
-- exact addresses join on equality; networks (few) on their range
ip_hits AS (
  SELECT e.event_id, i.indicator_id, e.matched_on, e.ip AS matched_ip
  FROM event_ips e JOIN ip_numbers a USING (ip) JOIN live_ips i ON i.lo = a.n AND i.lo = i.hi
   AND e.time BETWEEN i.valid_from AND i.valid_until
  UNION ALL
  SELECT e.event_id, i.indicator_id, e.matched_on, e.ip AS matched_ip
  FROM event_ips e JOIN ip_numbers a USING (ip) JOIN live_ips i ON a.n BETWEEN i.lo AND i.hi AND i.lo < i.hi
   AND e.time BETWEEN i.valid_from AND i.valid_until
)"""


def _hash_values() -> str:
    keys = ", ".join(f"lower(attributes->>'{k}')" for k in HASH_ATTRIBUTES)
    # a substring test first: parsing every event's attributes three times would cost more than the join
    present = " OR ".join(f"contains(attributes::VARCHAR, '\"{k}\"')" for k in HASH_ATTRIBUTES)
    return f"""
event_hashes AS (
  SELECT event_id, time, h FROM (
    SELECT event_id, time, unnest(list_distinct(list_filter([lower(file_hash), {keys}], lambda v: v IS NOT NULL AND v <> ''))) AS h
    FROM events WHERE file_hash IS NOT NULL OR ({present})))"""


SQL = f"""
WITH {ASSETS_CTE},
live AS (
  SELECT indicator_id, ioc_type, lower(value) AS value, name, labels, confidence, coalesce(exact, false) AS exact,
         coalesce(match_from, valid_from, '-infinity'::TIMESTAMPTZ) AS valid_from,
         coalesce(valid_until, 'infinity'::TIMESTAMPTZ) AS valid_until,
         CASE WHEN ioc_type = 'url' THEN regexp_replace(lower(value), '^[a-z][a-z0-9+.-]*://|[?#].*$|/$', '', 'g') END
           AS url_key
  FROM intel WHERE value IS NOT NULL AND value <> ''
),
live_ips AS (
  SELECT *, n & ~host_mask AS lo, (n & ~host_mask) | host_mask AS hi FROM (
    SELECT *, CASE WHEN host_bits >= 128 THEN ~0::UHUGEINT WHEN host_bits > 0 THEN (1::UHUGEINT << host_bits::UHUGEINT) - 1
                   ELSE 0::UHUGEINT END AS host_mask
    FROM (SELECT *, {ip_number("split_part(value, '/', 1)")} AS n,
                 128 - CASE WHEN NOT contains(value, '/') THEN 128
                            ELSE try_cast(split_part(value, '/', 2) AS INTEGER)
                                 + CASE WHEN contains(split_part(value, '/', 1), ':') THEN 0 ELSE 96 END END AS host_bits
          FROM live WHERE ioc_type = 'ip'))
  WHERE n IS NOT NULL AND host_bits BETWEEN 0 AND 128
),{_ip_hits()},{_hash_values()},
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
  SELECT e.event_id, i.indicator_id, '{DOMAIN_COLUMN}' AS matched_on, NULL AS matched_ip
  FROM suffixes s JOIN live i ON i.ioc_type = 'domain' AND i.value = s.suffix AND (NOT i.exact OR s.suffix = lower(s.d))
  JOIN events e ON e.{DOMAIN_COLUMN} = s.d AND e.time BETWEEN i.valid_from AND i.valid_until
),
url_hits AS (
  SELECT e.event_id, i.indicator_id, 'url' AS matched_on, NULL AS matched_ip
  FROM events e JOIN live i ON i.ioc_type = 'url'
   AND i.url_key = regexp_replace(lower(e.url_host) || coalesce(e.url_path, ''), '/$', '')
   AND e.time BETWEEN i.valid_from AND i.valid_until
  WHERE e.url_host IS NOT NULL
),
other_hits AS (
  SELECT e.event_id, i.indicator_id, 'file_hash' AS matched_on, NULL AS matched_ip
  FROM event_hashes e JOIN live i ON i.ioc_type = 'hash' AND i.value = e.h
   AND e.time BETWEEN i.valid_from AND i.valid_until
  UNION ALL
  SELECT e.event_id, i.indicator_id, 'email' AS matched_on, NULL AS matched_ip
  FROM events e JOIN live i ON i.ioc_type = 'email' AND i.value = lower(e.email)
   AND e.time BETWEEN i.valid_from AND i.valid_until
),
hits AS (
  SELECT DISTINCT * FROM (SELECT * FROM ip_hits UNION ALL SELECT * FROM domain_hits UNION ALL SELECT * FROM url_hits
                          UNION ALL SELECT * FROM other_hits)
),
matched AS (
  SELECT m.*, coalesce(m.host, ah.host) AS host_name FROM (
    SELECT e.event_id, e.time, e.host, e.user_name, e.store_id, e.channel, h.matched_on, h.matched_ip, i.*,
           CASE WHEN {internal('e.src_ip')} AND e.src_ip IS DISTINCT FROM h.matched_ip THEN e.src_ip
                WHEN {internal('e.dst_ip')} AND e.dst_ip IS DISTINCT FROM h.matched_ip THEN e.dst_ip END AS inside_ip
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
