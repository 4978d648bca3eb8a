"""The reconstructed attack: every event touching an incident's entities, pivoted, ordered, explained.

`build_timeline(con, incident_id)` is the one call the CLI, the report and the dashboard use. The window is
the incident's span widened by a margin (more after than before: what an attacker did with the access
matters more than the reconnaissance). An IP can touch tens of thousands of events, so the list is capped;
the cap never drops silently: the result says how many events there are, how many are shown, and the
selection keeps every kind of event at least once (the first of each kind, then the second, ...), so a
single success is never crowded out by thousands of failures, and what merely happened in the same shop
comes last. Root cause, blast radius and gaps are
computed over all events, not just the shown ones.
"""

from __future__ import annotations

from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from pathlib import Path
from typing import Iterator, Optional

import duckdb

from storewatch.correlate.queries import get_incident
from storewatch.forensics import findings, pivot
from storewatch.forensics.describe import COLUMNS, describe
from storewatch.store import schema

DEFAULT_LIMIT = 500

# Events of one kind: same hop, source, class, activity, outcome and target (URL, process, domain or code).
KIND_SQL = ("h.hop, e.source_format, e.class_name, e.activity, e.outcome, "
            "coalesce(e.url_path, e.process_name, e.url_host, e.event_code, '')")
# Entities whose events are context rather than the attack (everything that happened in the shop): listed
# after the events of every other entity when the list is capped.
BROAD = ("store",)
COPY_OPTIONS = {"PARQUET": "FORMAT PARQUET", "JSON": "FORMAT JSON, TIMESTAMPFORMAT '%Y-%m-%dT%H:%M:%S.%fZ'"}
INCIDENT_FIELDS = ("id", "title", "scenario", "severity", "risk_score", "status", "first_seen", "last_seen",
                   "entities", "summary", "alerts")


class UnknownIncident(LookupError):
    """No incident, or more than one, matches the id or prefix given."""

    def __init__(self, incident_id: str) -> None:
        super().__init__(f"no single incident matches {incident_id!r}; see `storewatch incidents`")
        self.incident_id = incident_id


@dataclass(frozen=True)
class TraceOptions:
    before: timedelta = timedelta(hours=2)
    after: timedelta = timedelta(hours=6)
    hops: int = 2
    max_peers: int = 5
    max_events: int = 5000
    min_gap: timedelta = timedelta(minutes=15)


def _parse(ts: str) -> datetime:
    return datetime.fromisoformat(ts.replace("Z", "+00:00"))


@dataclass
class Trace:
    """An incident pivoted into temporary tables: read it as a timeline or copy its events out."""

    con: duckdb.DuckDBPyConnection
    incident: dict
    exp: pivot.Expansion
    options: TraceOptions
    alert_events: set[str] = field(default_factory=set)

    @property
    def span(self) -> tuple[datetime, datetime]:
        return _parse(self.incident["first_seen"]), _parse(self.incident["last_seen"])

    def events(self, limit: Optional[int] = None, ids: Optional[list[str]] = None) -> list[dict]:
        """Events in time order: the given ids, or the first `limit` by kind (all when None)."""
        if ids is not None:
            picked = f"SELECT * FROM {self.exp.hits} WHERE list_contains($ids, event_id)"
            params: dict = {"ids": ids}
        else:
            picked = f"""SELECT h.* FROM {self.exp.hits} h JOIN events e USING (event_id)
                         ORDER BY list_contains($broad, h.via.type),
                                  row_number() OVER (PARTITION BY {KIND_SQL} ORDER BY h.time, h.event_id),
                                  h.hop, h.time, h.event_id""" + ("" if limit is None else " LIMIT $limit")
            params = {"broad": list(BROAD)} | ({} if limit is None else {"limit": limit})
        cols = ", ".join(f"e.{c}" for c in COLUMNS)
        cur = self.con.execute(f"""
            WITH picked AS ({picked})
            SELECT p.event_id, p.time, p.hop, p.via, p.reached, e.source_format, e.channel, {cols},
                   (SELECT list({{'type': w.entity_type, 'value': w.value}} ORDER BY w.entity_type, w.value)
                    FROM {self.exp.keys} w WHERE w.event_id = p.event_id) AS entities
            FROM picked p JOIN events e USING (event_id) ORDER BY p.time, p.event_id""", params)
        names = [d[0] for d in cur.description]
        return [self._public(dict(zip(names, row))) for row in cur.fetchall()]

    def _public(self, row: dict) -> dict:
        via = row["via"]
        return {
            "time": findings.iso(row["time"], precise=True),
            "event_id": row["event_id"],
            "class_name": row["class_name"],
            "source_format": row["source_format"],
            "channel": row["channel"],
            "outcome": row["outcome"],
            "summary": describe(row),
            "entities": row["entities"] or [],
            "pivot": {"hop": row["hop"], "type": via["type"], "value": via["value"], "path": via["path"]},
            "reached": row["reached"],
            "in_alert": row["event_id"] in self.alert_events,
        }

    def by_hop(self) -> list[dict]:
        rows = self.con.execute(f"SELECT hop, count(*) FROM {self.exp.hits} GROUP BY hop ORDER BY hop").fetchall()
        return [{"hop": hop, "events": n} for hop, n in rows]

    def pivots(self) -> list[dict]:
        rows = self.con.execute(f"""SELECT entity_type, value, hop, path, events, peers, followed FROM {self.exp.reach}
                                    ORDER BY hop, NOT followed, entity_type, value""").fetchall()
        return [dict(zip(("type", "value", "hop", "path", "events", "peers", "followed"), r)) for r in rows]

    def timeline(self, limit: Optional[int] = DEFAULT_LIMIT) -> dict:
        events = self.events(limit)
        hops = self.by_hop()
        total = sum(h["events"] for h in hops)
        for h in hops:
            h["shown"] = sum(1 for e in events if e["pivot"]["hop"] == h["hop"])
        start, end = self.span
        cause = findings.root_cause(self.con, self.exp, self.incident["entities"], start, sorted(self.alert_events))
        linked = self.events(ids=[i for i in (cause["event_id"], cause["foothold_event_id"]) if i])
        by_id = {e["event_id"]: e for e in linked}
        cause["event"] = by_id.get(cause["event_id"])
        cause["foothold"] = by_id.get(cause["foothold_event_id"])
        o = self.options
        return {
            "incident": {k: self.incident[k] for k in INCIDENT_FIELDS},
            "window": {"start": findings.iso(self.exp.start), "end": findings.iso(self.exp.end),
                       "before_minutes": o.before.total_seconds() / 60, "after_minutes": o.after.total_seconds() / 60,
                       "hops": o.hops, "max_peers": o.max_peers, "max_events": o.max_events,
                       "min_gap_minutes": o.min_gap.total_seconds() / 60},
            "events": events,
            "total_events": total,
            "shown": len(events),
            "omitted": total - len(events),
            "limit": limit,
            "by_hop": hops,
            "pivots": self.pivots(),
            "root_cause": cause,
            "blast_radius": findings.blast_radius(self.con, self.exp),
            "gaps": findings.gaps(self.con, self.exp, start, end, o.min_gap),
        }

    def copy_events(self, path: Path, fmt: str) -> int:
        """Every event of the trace, all columns, in time order, to a file DuckDB writes: fmt PARQUET, or JSON
        (one object per line, ISO 8601 UTC times). Returns the number of events."""
        options = COPY_OPTIONS[fmt]
        self.con.execute(f"""COPY (SELECT e.* FROM events e SEMI JOIN {self.exp.hits} h ON h.event_id = e.event_id
                                   ORDER BY e.time, e.event_id) TO {schema.sql_text(str(path))} ({options})""")
        return self.con.execute(f"SELECT count(*) FROM {self.exp.hits}").fetchone()[0]


@contextmanager
def trace(con: duckdb.DuckDBPyConnection, incident_id: str, options: Optional[TraceOptions] = None) -> Iterator[Trace]:
    """Pivot an incident (id or unique prefix); raises UnknownIncident when none or several match."""
    incident = get_incident(con, incident_id)
    if incident is None:
        raise UnknownIncident(incident_id)
    o = options or TraceOptions()
    start, end = _parse(incident["first_seen"]), _parse(incident["last_seen"])
    alert_events = {i for a in incident["alert_details"] for i in (a["event_ids"] or [])}
    with pivot.expanded(con, incident["entities"], start - o.before, end + o.after, o.hops, o.max_peers,
                        o.max_events) as exp:
        yield Trace(con, incident, exp, o, alert_events)


def build_timeline(con: duckdb.DuckDBPyConnection, incident_id: str, limit: Optional[int] = DEFAULT_LIMIT,
                   options: Optional[TraceOptions] = None) -> dict:
    """The incident's timeline with root cause, blast radius and gaps (see the module docstring)."""
    with trace(con, incident_id, options) as t:
        return t.timeline(limit)
