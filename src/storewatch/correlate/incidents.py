"""Alerts → incidents: alerts that share an entity close in time are one incident, scored and summarized.

Linking keys are the alert's entities (ip, user, email, card, host, employee, device, domain...), the /24
of every IPv4 address, and the store. Two alerts on the same key are linked when their time spans lie
within that key's window of each other; incidents are the connected groups. Ids are stable: a group
keeps the id its alerts already had, so re-running detection neither duplicates nor renames incidents.
"""

from __future__ import annotations

import hashlib
import ipaddress
from collections import defaultdict
from datetime import datetime, timedelta, timezone
from typing import Iterable, Mapping, Sequence

import duckdb
import orjson
import pyarrow as pa

from storewatch.cases.lifecycle import CASE_COLUMNS, merged_case
from storewatch.correlate import scoring
from storewatch.correlate.summary import incident_summary
from storewatch.store import db

# How far apart two alerts on the same key may be and still belong together.
WINDOWS = {"default": timedelta(hours=12), "net24": timedelta(hours=6), "store": timedelta(hours=2)}
SEVERITY_RANK = {"low": 0, "medium": 1, "high": 2, "critical": 3}


def link_keys(entities: Iterable[Mapping]) -> set[tuple[str, str]]:
    """(window kind, key) pairs an alert can be linked by."""
    keys: set[tuple[str, str]] = set()
    for e in entities:
        etype, value = e["type"], str(e["value"]).lower()
        if etype == "store":
            keys.add(("store", f"store:{value}"))
            continue
        keys.add(("default", f"{etype}:{value}"))
        if etype == "ip":
            try:
                net = ipaddress.ip_network(f"{value}/24", strict=False) if ":" not in value else None
            except ValueError:
                net = None
            if net is not None:
                keys.add(("net24", f"net24:{net}"))
    return keys


class _UnionFind:
    def __init__(self, n: int) -> None:
        self.parent = list(range(n))

    def find(self, i: int) -> int:
        while self.parent[i] != i:
            self.parent[i] = self.parent[self.parent[i]]
            i = self.parent[i]
        return i

    def union(self, a: int, b: int) -> None:
        ra, rb = self.find(a), self.find(b)
        if ra != rb:
            self.parent[max(ra, rb)] = min(ra, rb)


def group_alerts(alerts: Sequence[Mapping]) -> list[list[int]]:
    """Connected groups of alert indices: same key and time spans within the key's window (interval sweep)."""
    by_key: dict[tuple[str, str], list[int]] = defaultdict(list)
    for i, a in enumerate(alerts):
        for key in link_keys(a["entities"]):
            by_key[key].append(i)
    uf = _UnionFind(len(alerts))
    for (kind, _), members in by_key.items():
        window = WINDOWS[kind]
        members.sort(key=lambda i: alerts[i]["first_seen"])
        reach, anchor = None, None
        for i in members:
            if reach is not None and alerts[i]["first_seen"] <= reach + window:
                uf.union(anchor, i)
            else:
                anchor = i
            reach = max(reach, alerts[i]["last_seen"]) if reach is not None else alerts[i]["last_seen"]
    groups: dict[int, list[int]] = defaultdict(list)
    for i in range(len(alerts)):
        groups[uf.find(i)].append(i)
    return list(groups.values())


# How a title names more entities of one type: "POS-0192-04 and 8 more devices".
_NOUNS = {"ip": ("IP", "IPs"), "url": ("URL", "URLs"), "hash": ("hash", "hashes"), "email": ("e-mail", "e-mails")}


def _title_entities(lead: Sequence[Mapping], entities: Sequence[Mapping]) -> str:
    """': <the lead alert's first entity> and N more <of its type>', counting only entities of that type, so
    an incident about one device with eight users is not 'a device and 8 more'."""
    if not lead:
        return ""
    main = lead[0]
    others = sum(1 for e in entities if e["type"] == main["type"] and e["value"] != main["value"])
    if not others:
        return f": {main['value']}"
    one, many = _NOUNS.get(main["type"], (main["type"], main["type"] + "s"))
    return f": {main['value']} and {others} more {one if others == 1 else many}"


def build_incident(alerts: Sequence[Mapping]) -> dict:
    """An incident's fields from its alerts (everything but the id and bookkeeping)."""
    lead = max(alerts, key=lambda a: (SEVERITY_RANK[a["severity"]], a["confidence"], a["event_count"]))
    entities = list({(e["type"], e["value"]): e for a in alerts for e in a["entities"]}.values())
    risk, factors = scoring.score(alerts)
    title = lead["title"] + _title_entities(lead["entities"], entities)
    incident = {
        "title": title,
        "scenario": lead["scenario"],
        "severity": scoring.severity_for(risk),
        "risk_score": risk,
        "factors": factors,
        "first_seen": min(a["first_seen"] for a in alerts),
        "last_seen": max(a["last_seen"] for a in alerts),
        "entities": entities,
        "alert_count": len(alerts),
        "attack": sorted({t for a in alerts for t in a["attack"]}),
        "stores": sorted({a["store_id"] for a in alerts if a["store_id"]}
                         | {e["value"] for e in entities if e["type"] == "store"}),
        "channels": sorted({a["channel"] for a in alerts if a["channel"]}),
    }
    incident["summary"] = incident_summary(incident, alerts)
    return incident


def _load_alerts(con: duckdb.DuckDBPyConnection) -> list[dict]:
    cur = con.execute("""
        SELECT alert_id, rule_id, kind, title, scenario, severity, confidence, first_seen, last_seen, event_count,
               entities, evidence, attack, store_id, channel, summary
        FROM alerts ORDER BY first_seen, alert_id""")
    names = [d[0] for d in cur.description]
    rows = [dict(zip(names, r)) for r in cur.fetchall()]
    for r in rows:
        r["evidence"] = orjson.loads(r["evidence"]) if r["evidence"] else {}
    return rows


def new_id(alert_ids: Sequence[str]) -> str:
    return "INC-" + hashlib.sha256(min(alert_ids).encode()).hexdigest()[:10].upper()


def correlate(con: duckdb.DuckDBPyConnection, now: float) -> tuple[int, int]:
    """Rebuild incidents from all alerts, keeping ids, creation times and case state. Returns (all, new).

    Alerts an analyst moved (`alert_pins`: merge, split) stay in their incident; incidents merged away
    (resolved as duplicates) are kept as they are. When correlation itself joins incidents, the oldest
    keeps its id and case, and the others' comments, attachments and history follow it."""
    alerts = _load_alerts(con)
    previous = dict(con.execute("SELECT alert_id, incident_id FROM incident_alerts").fetchall())
    pins = dict(con.execute("SELECT alert_id, incident_id FROM alert_pins").fetchall())
    cur = con.execute(f"SELECT incident_id, created_at, {', '.join(CASE_COLUMNS)} FROM incidents")
    names = [d[0] for d in cur.description]
    kept = {r[0]: dict(zip(names, r)) for r in cur.fetchall()}
    linked = set(previous.values()) | set(pins.values())
    frozen = {i for i, c in kept.items() if c["resolution"] == "duplicate" and i not in linked}  # merged away
    stamp = datetime.fromtimestamp(now, tz=timezone.utc)
    pinned: dict[str, list[int]] = defaultdict(list)
    for i, a in enumerate(alerts):
        if a["alert_id"] in pins:
            pinned[pins[a["alert_id"]]].append(i)
    free = [i for i, a in enumerate(alerts) if a["alert_id"] not in pins]
    groups = [(inc, members) for inc, members in sorted(pinned.items())]
    groups += [(None, [free[i] for i in g]) for g in sorted(group_alerts([alerts[i] for i in free]), key=len, reverse=True)]
    rows, links, claimed, absorbed = [], [], set(pinned) | frozen, {}
    for fixed, members in groups:
        group = [alerts[i] for i in members]
        ids = [a["alert_id"] for a in group]
        incident_id = fixed
        if incident_id is None:
            candidates = sorted({previous[i] for i in ids if i in previous and previous[i] not in claimed},
                                key=lambda inc: (kept[inc]["created_at"] if inc in kept else stamp, inc))
            incident_id = candidates[0] if candidates else new_id(ids)
            if incident_id in claimed:  # a split group whose fallback id collides: derive from its own alerts
                incident_id = new_id([incident_id, *ids])
            absorbed.update({other: incident_id for other in candidates[1:]})
        claimed.add(incident_id)
        case = kept.get(incident_id, {"created_at": stamp, "status": "new"})
        case = {**case, **merged_case(case, [kept[o] for o, into in absorbed.items() if into == incident_id and o in kept])}
        inc = build_incident(group)
        rows.append({**{c: None for c in CASE_COLUMNS}, "incident_id": incident_id, **inc,
                     "factors": orjson.dumps(inc["factors"]).decode(), **case, "updated_at": stamp})
        links += [(incident_id, a) for a in ids]
    absorbed = {o: into for o, into in absorbed.items() if o not in claimed}  # an id can be taken back by a later group
    _write(con, rows, links, frozen, absorbed, stamp)
    return len(rows), len([r for r in rows if r["incident_id"] not in kept])


def _write(con: duckdb.DuckDBPyConnection, rows: list[dict], links: list[tuple[str, str]], frozen: set[str],
           absorbed: dict[str, str], stamp: datetime) -> None:
    con.execute("BEGIN")
    try:
        con.execute("DELETE FROM incidents WHERE NOT list_contains(?, incident_id)", [sorted(frozen)])
        con.execute("DELETE FROM incident_alerts")
        if rows:
            links_table = pa.table({"incident_id": [l[0] for l in links], "alert_id": [l[1] for l in links]})
            with db.registered(con, _incidents=pa.Table.from_pylist(rows), _links=links_table):
                con.execute("""INSERT INTO incidents BY NAME
                    SELECT * REPLACE (factors::JSON AS factors,
                        entities::STRUCT(type VARCHAR, value VARCHAR)[] AS entities, tags::VARCHAR[] AS tags,
                        assignee::VARCHAR AS assignee, resolution::VARCHAR AS resolution,
                        duplicate_of::VARCHAR AS duplicate_of, severity_override::VARCHAR AS severity_override,
                        acknowledged_at::TIMESTAMPTZ AS acknowledged_at, resolved_at::TIMESTAMPTZ AS resolved_at)
                    FROM _incidents""")
                con.execute("INSERT INTO incident_alerts SELECT incident_id, alert_id FROM _links")
        for old, into in sorted(absorbed.items()):
            for table in ("case_comments", "case_attachments", "case_history"):
                con.execute(f"UPDATE {table} SET incident_id = ? WHERE incident_id = ?", [into, old])
            con.execute("INSERT INTO case_history VALUES (?, ?, 'storewatch', 'merged', ?)",
                        [into, stamp, orjson.dumps({"from": old, "by": "correlation"}).decode()])
        con.execute("COMMIT")
    except Exception:
        con.execute("ROLLBACK")
        raise
