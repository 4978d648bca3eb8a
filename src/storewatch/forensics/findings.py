"""What a pivoted incident shows: where the attack entered, what it reached, and where the record is silent.

All three read the pivot tables (`pivot.Expansion`) with SQL; they return event ids, which the timeline
turns into described events.
"""

from __future__ import annotations

import ipaddress
from datetime import datetime, timedelta
from typing import Callable, Mapping, Sequence

import duckdb

from storewatch.forensics.pivot import Expansion


def iso(ts: datetime, precise: bool = False) -> str:
    """ISO 8601 UTC with a Z; `precise` keeps milliseconds, which order events logged within one second."""
    return ts.isoformat(timespec="milliseconds").replace("+00:00", "Z") if precise else ts.strftime("%Y-%m-%dT%H:%M:%SZ")


def human(delta: timedelta) -> str:
    seconds = int(abs(delta.total_seconds()))
    if seconds < 120:
        return f"{seconds} s"
    if seconds < 7200:
        return f"{seconds // 60} min"
    return f"{seconds / 3600:.1f} h"


def is_external(value: str) -> bool:
    try:
        return ipaddress.ip_address(value).is_global
    except ValueError:
        return False


# The incident's entities most likely to be the attacker's, best first: an outside address or a malicious
# name beats an account, which beats an inside address, which beats the machine the attack happened on.
ATTACKER_TIERS: tuple[tuple[str, Callable[[str, str], bool]], ...] = (
    ("external address, domain or file hash", lambda t, v: t in ("domain", "hash", "url") or (t == "ip" and is_external(v))),
    ("account, e-mail, card or employee", lambda t, v: t in ("user", "email", "card", "employee")),
    ("internal address", lambda t, v: t == "ip"),
    ("host, device or process", lambda t, v: t in ("host", "device", "process")),
    ("entity", lambda t, v: True),
)


def attacker_side(entities: Sequence[Mapping[str, str]]) -> tuple[int, str, list[dict]]:
    """The best tier present among the incident's entities: its rank (0 = attacker-specific), label, entities."""
    for rank, (label, test) in enumerate(ATTACKER_TIERS):
        chosen = [{"type": e["type"], "value": str(e["value"])} for e in entities if test(e["type"], str(e["value"]))]
        if chosen:
            return rank, label, chosen
    return len(ATTACKER_TIERS), "entity", []


def root_cause(con: duckdb.DuckDBPyConnection, exp: Expansion, entities: Sequence[Mapping[str, str]],
               span_start: datetime, evidence: Sequence[str]) -> dict:
    """The entry point, and the first success after failed attempts (the foothold).

    The entry point is the earliest of: the first event of the attacker-side entities, and the first event
    a detection kept as evidence. An attacker-specific entity (an outside address, a malicious domain or
    hash) is looked at across the whole window, so reconnaissance before the first alert counts; an account,
    an inside address or a host also does ordinary things, so only its events inside the incident span do.
    """
    rank, tier, attackers = attacker_side(entities)
    where = "" if rank == 0 else " inside the incident span"
    params = {"keys": [f"{a['type']}:{a['value'].lower()}" for a in attackers], "since": span_start,
              "anywhere": rank == 0}
    att = f"""SELECT DISTINCT h.event_id, h.time, h.reached, w.entity_type, w.value FROM {exp.hits} h
              JOIN {exp.keys} w USING (event_id)
              WHERE h.hop = 0 AND list_contains($keys, w.entity_type || ':' || w.k)
                AND ($anywhere OR h.time >= $since)"""
    first = con.execute(f"""WITH att AS ({att})
        SELECT event_id, time, entity_type, value, (SELECT count(DISTINCT event_id) FROM att) FROM att
        ORDER BY time, event_id, entity_type LIMIT 1""", params).fetchone()
    flagged = con.execute(f"""SELECT event_id, time, via.type, via.value FROM {exp.hits}
                              WHERE list_contains($ids, event_id) ORDER BY time, event_id LIMIT 1""",
                          {"ids": list(evidence)}).fetchone()
    out: dict = {"attacker_side": tier, "attacker_entities": attackers, "event_id": None, "entity": None,
                 "reason": "no stored event names the incident's entities in the window", "foothold_event_id": None,
                 "foothold_reason": None}
    if first is not None and (flagged is None or first[1] <= flagged[1]):
        event_id, time, etype, value, count = first
        reason = f"earliest of {count} events naming the incident's {tier} ({etype} {value}){where}"
    elif flagged is not None:
        event_id, time, etype, value = flagged
        reason = "earliest event a detection kept as evidence" + (
            f", before any event of the incident's {tier}{where}" if first is not None else "")
    else:
        return out
    when = f"{human(span_start - time)} before the first alert" if time < span_start else "at the start of the first alert"
    out.update(event_id=event_id, entity={"type": etype, "value": value}, reason=f"{reason}, {when}")
    out.update(_foothold(con, att, params))
    return out


def _foothold(con: duckdb.DuckDBPyConnection, att: str, params: dict) -> dict:
    """The first attacker-side event that got somewhere after at least one that failed."""
    row = con.execute(f"""WITH att AS ({att})
        SELECT event_id, (SELECT count(DISTINCT f.event_id) FROM att f WHERE NOT f.reached AND f.time <= a.time)
        FROM att a WHERE reached AND time >= (SELECT min(time) FROM att WHERE NOT reached)
        ORDER BY time, event_id LIMIT 1""", params).fetchone()
    if row is None:
        return {}
    return {"foothold_event_id": row[0], "foothold_reason": f"first event that got somewhere after {row[1]} failed attempts"}


def blast_radius(con: duckdb.DuckDBPyConnection, exp: Expansion, values_max: int = 100) -> dict:
    """Entities the incident's events reached (by type), those only attempted, and money moved.

    An entity counts as reached when an event that succeeded names it; one named only by failed attempts
    (accounts a brute force guessed at, cards that were declined) counts as attempted. Money is summed per
    currency, channel and activity, never across channels: an order and its card charge are the same money.
    """
    rows = con.execute(f"""
        WITH named AS (
            SELECT w.entity_type, w.k, min(w.value) AS value, bool_or(h.reached) AS reached
            FROM {exp.hits} h JOIN {exp.keys} w USING (event_id) GROUP BY w.entity_type, w.k)
        SELECT entity_type, count(*) FILTER (WHERE reached), count(*) FILTER (WHERE NOT reached),
               coalesce(list(value ORDER BY value) FILTER (WHERE reached), [])[1:$n]
        FROM named GROUP BY entity_type ORDER BY entity_type""", {"n": values_max}).fetchall()
    money = con.execute(f"""
        SELECT e.currency, e.channel, e.activity, count(*), sum(e.amount)
        FROM {exp.hits} h JOIN events e USING (event_id)
        WHERE h.reached AND e.amount IS NOT NULL
        GROUP BY ALL ORDER BY e.currency, e.channel, e.activity""").fetchall()
    return {
        "reached": {t: {"count": n, "values": values} for t, n, _, values in rows if n},
        "attempted_only": {t: n for t, _, n, _ in rows if n},
        "money": [{"currency": c, "channel": ch, "activity": a, "events": n, "amount": str(total)}
                  for c, ch, a, n, total in money],
        "values_max": values_max,
    }


# A source's silence across the span is a gap when it is this many times its longest other pause nearby.
SILENT_SOURCE_FACTOR = 3
# Silences shorter than this share of the span are the rhythm of the activity, not gaps.
SILENCE_SHARE = 0.1


def gaps(con: duckdb.DuckDBPyConnection, exp: Expansion, start: datetime, end: datetime,
         min_gap: timedelta) -> list[dict]:
    """Where the record is silent inside the incident span [start, end]:

    - silences: stretches in which the timeline has no event, longer than `min_gap` and than a tenth of the
      span (a day-long fraud has hour-long pauses);
    - sources with nothing during the span whose silence across it is SILENT_SOURCE_FACTOR times longer
      than any other pause they make within the span's length (at least an hour) of it: a collector that
      stopped. The neighbourhood, not a daily average, sets the expectation (tills are quiet at night), and
      pauses, not rates, so a source that reports every 15 minutes is not missing between two reports;
    - hosts whose addresses no network sensor (Zeek) saw during the span, so their connections are unseen.
    """
    span = end - start
    threshold = max(min_gap, span * SILENCE_SHARE)
    found: list[dict] = []
    for a, b in con.execute(f"""
            WITH t AS (SELECT time FROM {exp.hits} WHERE time BETWEEN $a AND $b
                       UNION ALL SELECT $a::TIMESTAMPTZ UNION ALL SELECT $b::TIMESTAMPTZ),
                 d AS (SELECT lag(time) OVER (ORDER BY time) AS gap_start, time AS gap_end FROM t)
            SELECT gap_start, gap_end FROM d WHERE gap_end - gap_start > $gap ORDER BY gap_start""",
            {"a": start, "b": end, "gap": threshold}).fetchall():
        found.append({"kind": "silence", "start": iso(a), "end": iso(b), "minutes": round((b - a).total_seconds() / 60),
                      "detail": f"no event in the timeline for {human(b - a)}"})
    near = max(span, timedelta(hours=1))
    for fmt, channel, across, usual in con.execute("""
            WITH g AS (SELECT source_format, channel, time,
                              time - lag(time) OVER (PARTITION BY source_format ORDER BY time) AS pause
                       FROM events WHERE time BETWEEN $lo AND $hi),
                 per AS (SELECT source_format, any_value(channel) AS channel,
                                max(pause) FILTER (WHERE time > $b AND time - pause < $a) AS across,
                                max(pause) FILTER (WHERE NOT (time > $b AND time - pause < $a)) AS usual
                         FROM g GROUP BY source_format)
            SELECT source_format, channel, across, usual FROM per
            WHERE across IS NOT NULL AND usual IS NOT NULL AND across > usual * $factor
            ORDER BY source_format""",
            {"a": start, "b": end, "lo": start - near, "hi": end + near, "factor": SILENT_SOURCE_FACTOR}).fetchall():
        found.append({"kind": "source", "source": fmt, "channel": channel, "silent_minutes": round(across.total_seconds() / 60),
                      "detail": f"{fmt} logged nothing for {human(across)} across the span; its longest other pause "
                                f"within {human(near)} of it is {human(usual)}"})
    found += _unseen_hosts(con, exp, start, end)
    return found


def _unseen_hosts(con: duckdb.DuckDBPyConnection, exp: Expansion, start: datetime, end: datetime) -> list[dict]:
    """Hosts in the timeline with a known address that no network-channel event names during the span."""
    rows = con.execute(f"""
        WITH hosts AS (SELECT DISTINCT w.value AS host FROM {exp.hits} h JOIN {exp.keys} w USING (event_id)
                       WHERE w.entity_type = 'host'),
             addrs AS (SELECT e.host, e.src_ip AS ip FROM events e SEMI JOIN hosts ON e.host = hosts.host
                       WHERE e.time BETWEEN $lo AND $hi AND e.channel = 'endpoint'
                         AND e.class_name = 'Network Activity' AND e.src_ip IS NOT NULL GROUP BY ALL),
             sensed AS (SELECT src_ip AS ip FROM events WHERE channel = 'network' AND time BETWEEN $a AND $b
                        UNION SELECT dst_ip FROM events WHERE channel = 'network' AND time BETWEEN $a AND $b)
        SELECT a.host, list(DISTINCT a.ip ORDER BY a.ip), bool_or(s.ip IS NOT NULL),
               (SELECT count(*) FROM sensed) > 0
        FROM addrs a LEFT JOIN sensed s ON s.ip = a.ip GROUP BY a.host ORDER BY a.host""",
        {"lo": exp.start, "hi": exp.end, "a": start, "b": end}).fetchall()
    out = []
    for host, ips, seen, any_network in rows:
        if seen:
            continue
        why = ("no network sensor (Zeek) data at all during the span" if not any_network
               else f"no network sensor (Zeek) event names {', '.join(ips)} during the span")
        out.append({"kind": "host_network", "host": host, "addresses": ips, "detail": f"{host}: {why}"})
    return out

