"""Pivoting: from an incident's entities to the events that name them, then to the entities those events name.

Everything happens in DuckDB, so an IP that touches a hundred thousand events costs a few joins, not a
Python loop. Events are found by joining each entity column of `events` (inside the time window) with the
entities sought; only the events brought in are unpivoted into their entities. Besides the schema's
entity columns, orders, process images and file hashes are keys too: forensics pivots through them
(IP → user → card → order; host → process → connection). Three temporary tables hold a run:

- `reach`: the entities reached, with the hop and the path that reached them (`ip 1.2.3.4 → user eve`);
- `hits`: the events brought in, each with the entity that brought it (`via`, its pivot) and whether it
  *reached* something: a failed attempt names what was tried, not what the actor holds, so it is shown
  but never pivoted through (a brute force names hundreds of accounts it never got into);
- `keys`: every entity each of those events names.

An entity that is common (the POS application on every till, an address shared by many accounts, a server)
is recorded as reached but not followed: through it everything would connect to everything.
"""

from __future__ import annotations

import uuid
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import datetime
from typing import Iterator, Mapping, Sequence

import duckdb

from storewatch.store import schema

# Columns holding something worth pivoting on, and the entity type each holds.
KEY_COLUMNS: dict[str, str] = {**schema.entity_columns(), "order_id": "order", "process_name": "process",
                               "file_hash": "hash"}

# Which entity types the events of an entity of one type lead on to. Stores (everyone in the shop), and hosts
# reached from an address or account (everything on the machine), are left out on purpose: they connect
# unrelated activity.
PIVOTS: dict[str, tuple[str, ...]] = {
    "ip": ("user", "email", "card"),          # who used this address, and with which card
    "user": ("email", "card", "ip"),          # the account's other addresses and payment means
    "email": ("user", "card", "order"),
    "card": ("order", "email", "user"),       # what else the card paid for
    "order": ("card", "email"),
    "host": ("process",),                     # host → process → connection
    "process": ("ip", "domain", "hash"),      # the addresses and names a process talked to, its image hash
    "hash": ("process",),                     # the same binary elsewhere
    "domain": ("ip",),
    "employee": ("device", "card"),           # employee → POS transactions → their registers and cards
    "device": ("employee",),
}

# Which entity an event is shown as brought in by, when it names several reached at the same hop.
SPECIFICITY = ("ip", "domain", "hash", "process", "user", "email", "card", "order", "employee", "device", "host", "store")

# A failed attempt, or a login that did not succeed (a pre-auth disconnect), names what was tried.
REACHED_SQL = "NOT coalesce(outcome = 'failure' OR (class_name = 'Authentication' AND outcome IS DISTINCT FROM 'success'), FALSE)"


@dataclass(frozen=True)
class Expansion:
    """The temporary tables of one pivot run and the window they cover."""

    reach: str
    hits: str
    keys: str
    start: datetime
    end: datetime

    @property
    def scratch(self) -> str:
        return self.keys + "_scratch"


def _values(rows: Sequence[tuple[str, ...]]) -> str:
    """A VALUES list of string literals from code constants (never from data)."""
    return ", ".join("(" + ", ".join(schema.sql_text(v) for v in row) + ")" for row in rows)


def _naming(entities: str, where: str = "TRUE") -> str:
    """SQL for (event_id, time, reached, entity_type, k): events in the window naming a row of `entities`."""
    return "\nUNION ALL\n".join(
        f"""SELECT e.event_id, e.time, {REACHED_SQL} AS reached, r.entity_type, r.k
            FROM events e JOIN {entities} r ON r.entity_type = '{etype}' AND r.k = lower(e.{col})
            WHERE e.time BETWEEN $start AND $end AND {where}"""
        for col, etype in KEY_COLUMNS.items())


def _entities_of(events: str) -> str:
    """SQL for (event_id, entity_type, value, k): every entity the events listed in `events` name."""
    cols = ", ".join(KEY_COLUMNS)
    return f"""
        WITH ev AS (SELECT e.event_id, {cols} FROM events e SEMI JOIN ({events}) s ON s.event_id = e.event_id
                    WHERE e.time BETWEEN $start AND $end),
             keyed AS (UNPIVOT ev ON {cols} INTO NAME col VALUE value)
        SELECT k.event_id, m.entity_type, k.value, lower(k.value) AS k
        FROM keyed k JOIN (VALUES {_values(list(KEY_COLUMNS.items()))}) m(col, entity_type) USING (col)
        WHERE k.value <> ''"""


@contextmanager
def expanded(con: duckdb.DuckDBPyConnection, seeds: Sequence[Mapping[str, str]], start: datetime, end: datetime,
             hops: int = 2, max_peers: int = 5, max_events: int = 5000) -> Iterator[Expansion]:
    """Pivot from `seeds` ({type, value}) for `hops` hops inside [start, end]; drop the tables afterwards."""
    tag = uuid.uuid4().hex[:8]
    exp = Expansion(f"fx_reach_{tag}", f"fx_hits_{tag}", f"fx_keys_{tag}", start, end)
    try:
        _create(con, exp, seeds)
        for hop in range(hops + 1):
            _collect(con, exp, hop)
            if hop < hops:
                _expand(con, exp, hop, max_peers, max_events)
        yield exp
    finally:
        for table in (exp.reach, exp.hits, exp.keys, exp.scratch):
            con.execute(f"DROP TABLE IF EXISTS {table}")


def _create(con: duckdb.DuckDBPyConnection, exp: Expansion, seeds: Sequence[Mapping[str, str]]) -> None:
    con.execute(f"""CREATE TEMP TABLE {exp.reach} (entity_type VARCHAR, k VARCHAR, value VARCHAR, hop INTEGER,
                    path VARCHAR, events BIGINT, peers BIGINT, followed BOOLEAN)""")
    con.execute(f"""CREATE TEMP TABLE {exp.hits} (event_id VARCHAR, time TIMESTAMPTZ, hop INTEGER,
                    via STRUCT(type VARCHAR, value VARCHAR, path VARCHAR), reached BOOLEAN)""")
    con.execute(f"CREATE TEMP TABLE {exp.keys} (event_id VARCHAR, entity_type VARCHAR, value VARCHAR, k VARCHAR)")
    unique = {(s["type"], str(s["value"]).lower()): str(s["value"]) for s in seeds}
    con.executemany(f"INSERT INTO {exp.reach} VALUES (?, ?, ?, 0, ?, 0, NULL, TRUE)",
                    [(t, k, v, f"{t} {v}") for (t, k), v in unique.items()])


def _collect(con: duckdb.DuckDBPyConnection, exp: Expansion, hop: int) -> None:
    """Events naming an entity reached at `hop` that no earlier hop brought in, and their entities.

    The pivot shown for an event named by several is the most specific (an address before the host or store
    it happened on)."""
    window = {"start": exp.start, "end": exp.end}
    con.execute(f"""
        INSERT INTO {exp.hits}
        WITH named AS ({_naming(exp.reach, f"r.hop = {hop} AND r.followed")})
        SELECT n.event_id, any_value(n.time), {hop},
               arg_min({{'type': r.entity_type, 'value': r.value, 'path': r.path}},
                       (list_position($order, r.entity_type), r.path)),
               any_value(n.reached)
        FROM named n JOIN {exp.reach} r USING (entity_type, k)
        WHERE NOT EXISTS (SELECT 1 FROM {exp.hits} h WHERE h.event_id = n.event_id)
        GROUP BY n.event_id""", {**window, "order": list(SPECIFICITY)})
    con.execute(f"INSERT INTO {exp.keys} {_entities_of(f'SELECT event_id FROM {exp.hits} WHERE hop = {hop}')}",
                window)
    if hop == 0:
        con.execute(f"""UPDATE {exp.reach} r SET events = c.n
                        FROM (SELECT entity_type, k, count(DISTINCT event_id) AS n FROM {exp.keys} GROUP BY ALL) c
                        WHERE r.entity_type = c.entity_type AND r.k = c.k AND r.hop = 0""")


def _expand(con: duckdb.DuckDBPyConnection, exp: Expansion, hop: int, max_peers: int, max_events: int) -> None:
    """Entities that the reaching events of `hop`'s entities name along a pivot edge become hop + 1.

    A candidate is followed unless it is common: named in the window together with more than `max_peers`
    distinct entities of the type it was reached from (a process on every till, an address shared by many
    accounts), or in more than `max_events` events of the window.
    """
    edges = [(src, dst) for src, dsts in PIVOTS.items() for dst in dsts]
    window = {"start": exp.start, "end": exp.end}
    con.execute(f"""
        CREATE OR REPLACE TEMP TABLE {exp.scratch} AS
        WITH src AS (
            SELECT s.event_id, h.time, r.entity_type AS src_type, r.path
            FROM {exp.reach} r JOIN {exp.keys} s ON s.entity_type = r.entity_type AND s.k = r.k
            JOIN {exp.hits} h ON h.event_id = s.event_id
            WHERE r.hop = {hop} AND r.followed AND h.reached
        ), found AS (
            SELECT w.entity_type, w.k,
                   arg_min({{'value': w.value, 'path': src.path, 'src_type': src.src_type}}, src.time) AS first
            FROM src JOIN {exp.keys} w ON w.event_id = src.event_id
            JOIN (VALUES {_values(edges)}) e(src, dst) ON e.src = src.src_type AND e.dst = w.entity_type
            WHERE NOT EXISTS (SELECT 1 FROM {exp.reach} r WHERE r.entity_type = w.entity_type AND r.k = w.k)
            GROUP BY w.entity_type, w.k
        )
        SELECT entity_type, k, first.value AS value, first.path AS path, first.src_type AS src_type FROM found""")
    con.execute(f"""
        INSERT INTO {exp.reach}
        WITH named AS MATERIALIZED ({_naming(exp.scratch)}),
             around AS MATERIALIZED ({_entities_of('SELECT event_id FROM named')}),
             sized AS (
                SELECT n.entity_type, n.k, count(DISTINCT n.event_id) AS events, count(DISTINCT p.k) AS peers
                FROM named n JOIN {exp.scratch} c USING (entity_type, k)
                LEFT JOIN around p ON p.event_id = n.event_id AND p.entity_type = c.src_type
                GROUP BY n.entity_type, n.k)
        SELECT c.entity_type, c.k, c.value, {hop + 1}, c.path || ' → ' || c.entity_type || ' ' || c.value,
               s.events, s.peers, s.peers <= $max_peers AND s.events <= $max_events
        FROM {exp.scratch} c JOIN sized s USING (entity_type, k)""",
                {**window, "max_peers": max_peers, "max_events": max_events})
