"""Shared pieces of the behaviour detections: what is internal, which host and store an IP belongs to.

Everything here is learned from the store itself (no asset inventory is assumed): an IP's host is the
host name its own endpoint telemetry reports for it, and a host's store is the known store id its name
carries. Each helper returns SQL text so detections stay single vectorized DuckDB queries.
"""

from __future__ import annotations

# RFC 1918 / loopback / link-local / IPv6 ULA and link-local: the standard meaning of "internal".
_PRIVATE = r"^(10\.|192\.168\.|172\.(1[6-9]|2[0-9]|3[01])\.|127\.|169\.254\.|f[cd][0-9a-f]{2}:|fe80:)"


def internal(col: str) -> str:
    """SQL predicate: `col` holds an internal (private-range) address."""
    return f"coalesce(regexp_matches(lower({col}), '{_PRIVATE}'), false)"


def external(col: str) -> str:
    """SQL predicate: `col` holds a public address."""
    return f"({col} IS NOT NULL AND {col} <> '' AND NOT {internal(col)})"


# ip -> host: the host name a machine's own endpoint telemetry (Sysmon network events) gives for its
# source address; the most frequent pairing wins so an odd inbound record cannot rename a host.
# host -> store: the known store id (from POS, physical and counter records) that a host name carries as
# one of its tokens (POS-0125-02 -> 0125), the longest when several match.
ASSETS_CTE = f"""
  _ip_host AS (
    SELECT src_ip AS ip, mode(host) AS host
    FROM events
    WHERE class_name = 'Network Activity' AND host IS NOT NULL AND src_ip IS NOT NULL AND {internal('src_ip')}
    GROUP BY src_ip
  ),
  _stores AS (SELECT DISTINCT store_id FROM events WHERE store_id IS NOT NULL),
  _hosts AS (SELECT DISTINCT host FROM events WHERE host IS NOT NULL),
  _host_store AS (
    SELECT host, arg_max(store_id, length(store_id)) AS store_id
    FROM (SELECT host, unnest(regexp_split_to_array(host, '[^A-Za-z0-9]+')) AS token FROM _hosts) t
    JOIN _stores s ON s.store_id = t.token
    GROUP BY host
  ),
  assets AS (
    SELECT ih.ip, ih.host, hs.store_id FROM _ip_host ih LEFT JOIN _host_store hs USING (host)
  )"""


def entity(etype: str, value: str) -> str:
    """SQL struct for one alert entity."""
    return f"{{'type': '{etype}', 'value': ({value})::VARCHAR}}"
