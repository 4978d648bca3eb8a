"""A parsed hunting query → one parameterized DuckDB statement over the `events` view.

Nothing the user typed is pasted into SQL: every value is a named parameter (`$p1`), field names come
only from the schema's column list (`storewatch.store.schema`), and `attributes.<key>` reads the JSON
with the key's path bound as a parameter too (the key itself is limited to letters, digits, `_` and `-`).
Semantics, as in Kibana: `field:value` is an exact match, a value with `*` or `?` a case-insensitive
wildcard match, `field:*` "has a value", a CIDR network on an address column a range of addresses, a bare
word a case-insensitive search of the free-text columns, and `NOT x` also keeps events where x's field is
empty.
"""

from __future__ import annotations

import difflib
import ipaddress
import re
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from storewatch.detect.intel import ip_number
from storewatch.hunt.parse import (Compare, Count, Junction, Match, Not, Query, QueryError, Range, Text, Top, Value,
                                   moment)
from storewatch.store.schema import COLUMN_NAMES, COLUMNS, entity_columns

# Bare words are looked for in these: what people write and what attackers put in requests and commands.
FREE_TEXT = ("message", "url_path", "url_query", "user_agent", "command_line", "process_name", "file_path",
             "query", "reason", "user_name")
NUMERIC = ("INTEGER", "BIGINT", "DOUBLE", "DECIMAL")
_KEY = re.compile(r"[A-Za-z0-9_\-]+")
_ATTR = "attributes."
_MAPPED_V4 = 0xFFFF_0000_0000
MAX_PAGE = 10_000


@dataclass(frozen=True)
class Field:
    name: str  # as the user wrote it (a column, or attributes.<key>)
    sql: str  # the expression reading it
    sql_type: str  # the schema's type; attributes are VARCHAR


@dataclass(frozen=True)
class Compiled:
    """A statement and its parameters; `columns` names what each row holds."""
    sql: str
    params: dict
    columns: tuple[str, ...]
    aggregate: bool
    count_sql: str | None = None  # events: how many match in all
    count_params: dict = field(default_factory=dict)


@dataclass
class _Builder:
    params: dict = field(default_factory=dict)

    def param(self, value: object) -> str:
        name = f"p{len(self.params) + 1}"
        self.params[name] = value
        return f"${name}"

    # --- fields -------------------------------------------------------------------------------------
    def field(self, name: str) -> Field:
        if name in COLUMNS:
            return Field(name, f'"{name}"', COLUMNS[name].sql_type)
        if name.startswith(_ATTR):
            key = name[len(_ATTR):]
            if not _KEY.fullmatch(key):
                raise QueryError(f"attributes.<key>: a key is letters, digits, '_' and '-', not {key!r}")
            path = self.param('$."' + key + '"')
            return Field(name, f"json_extract_string(attributes, {path})", "VARCHAR")
        close = difflib.get_close_matches(name, COLUMN_NAMES, n=3, cutoff=0.6)
        hint = f" Did you mean {', '.join(close)}?" if close else ""
        raise QueryError(f"unknown field {name!r}.{hint} Fields are the event columns (docs/schema.md) "
                         "and attributes.<key> for source-specific values.")

    # --- conditions ---------------------------------------------------------------------------------
    def where(self, node: object) -> str:
        if isinstance(node, Junction):
            return "(" + f" {node.op} ".join(self.where(i) for i in node.items) + ")"
        if isinstance(node, Not):
            return f"NOT coalesce({self.where(node.item)}, FALSE)"
        if isinstance(node, Text):
            pattern = self.param(_like(node.value, contains=True))
            return "(" + " OR ".join(f'"{c}" ILIKE {pattern} ESCAPE \'\\\'' for c in FREE_TEXT) + ")"
        if isinstance(node, Match):
            return self.match(self.field(node.field), node.value)
        if isinstance(node, Compare):
            f = self.field(node.field)
            return f"{self.ordered(f)} {node.op} {self.bound(f, node.value)}"
        if isinstance(node, Range):
            f = self.field(node.field)
            sides = [f"{self.ordered(f)} {op} {self.bound(f, v)}"
                     for v, op in ((node.low, ">=" if node.include_low else ">"),
                                   (node.high, "<=" if node.include_high else "<"))
                     if v.quoted or v.text != "*"]
            return "(" + " AND ".join(sides) + ")" if sides else f"{f.sql} IS NOT NULL"
        raise AssertionError(f"unknown node {node!r}")

    def match(self, f: Field, v: Value) -> str:
        if not v.quoted and v.text == "*":
            return f"({f.sql} IS NOT NULL" + (f" AND {f.sql} <> ''" if f.sql_type == "VARCHAR" else "") + ")"
        if f.name == "attributes":
            raise QueryError("attributes holds many values: search one as attributes.<key>:value, or attributes:*")
        if not v.quoted and "/" in v.text and entity_columns().get(f.name) == "ip":
            return self.network(f, v.text)
        if f.sql_type.startswith(NUMERIC) or f.sql_type == "TIMESTAMPTZ":
            if _wild(v):
                raise QueryError(f"{f.name} holds {'times' if f.sql_type == 'TIMESTAMPTZ' else 'numbers'}: "
                                 "no wildcards; use a range like [a TO b]")
            if f.sql_type == "TIMESTAMPTZ":  # a date is that whole day
                start = moment(v.text)
                return f"({f.sql} >= {self.param(start)} AND {f.sql} < {self.param(start + timedelta(days=1))})"
            return f"{f.sql} = {self.number(f, v)}"
        if _wild(v):
            return f"{f.sql} ILIKE {self.param(_like(v))} ESCAPE '\\'"
        return f"{f.sql} = {self.param(v.text)}"

    def network(self, f: Field, text: str) -> str:
        try:
            net = ipaddress.ip_network(text, strict=False)
        except ValueError:
            raise QueryError(f"{f.name}: {text!r} is not a network (10.0.0.0/8, 2001:db8::/32)") from None
        low, high = int(net.network_address), int(net.broadcast_address)
        if net.version == 4:
            low, high = low + _MAPPED_V4, high + _MAPPED_V4
        number = ip_number(f.sql)
        return (f"({number}) BETWEEN CAST({self.param(str(low))} AS UHUGEINT) "
                f"AND CAST({self.param(str(high))} AS UHUGEINT)")

    def ordered(self, f: Field) -> str:
        """The field as something `<` orders: numbers and times as they are, an attribute read as a number."""
        if f.sql_type.startswith(NUMERIC) or f.sql_type == "TIMESTAMPTZ":
            return f.sql
        if f.name.startswith(_ATTR):
            return f"TRY_CAST({f.sql} AS DOUBLE)"
        raise QueryError(f"{f.name} holds text: compare and range need a number or time field "
                         f"(e.g. http_status, bytes_out, time)")

    def bound(self, f: Field, v: Value) -> str:
        return self.param(moment(v.text)) if f.sql_type == "TIMESTAMPTZ" else self.number(f, v)

    def number(self, f: Field, v: Value) -> str:
        try:
            n = float(v.text)
        except ValueError:
            raise QueryError(f"{f.name} holds numbers: {v.text!r} is not one") from None
        return self.param(int(n) if n.is_integer() and "." not in v.text else n)

    # --- statements ---------------------------------------------------------------------------------
    def select(self, query: Query, since: datetime | None, until: datetime | None, limit: int, offset: int) -> Compiled:
        conds = [self.where(query.where)] if query.where is not None else []
        if since is not None:
            conds.append(f"time >= {self.param(since)}")
        if until is not None:
            conds.append(f"time < {self.param(until)}")
        where = " WHERE " + " AND ".join(conds) if conds else ""
        if not query.stages:
            count_sql, count_params = f"SELECT count(*) FROM events{where}", dict(self.params)
            page = f" LIMIT {self.param(limit)} OFFSET {self.param(offset)}"
            cols = ", ".join(f'"{c}"' for c in COLUMN_NAMES)
            return Compiled(f"SELECT {cols} FROM events{where} ORDER BY time DESC, event_id DESC{page}",
                            self.params, COLUMN_NAMES, aggregate=False, count_sql=count_sql,
                            count_params=count_params)
        stage = query.stages[0]
        if isinstance(stage, Top):
            f = self.field(stage.field)
            where += (" AND " if where else " WHERE ") + f"{f.sql} IS NOT NULL"
            sql = (f'SELECT {f.sql} AS "{f.name}", count(*) AS count FROM events{where} GROUP BY ALL '
                   f"ORDER BY count DESC, 1 LIMIT {self.param(min(stage.n, limit))} OFFSET {self.param(offset)}")
            return Compiled(sql, self.params, (f.name, "count"), aggregate=True)
        assert isinstance(stage, Count)
        fields = [self.field(name) for name in stage.by]
        groups = [f'{f.sql} AS "{f.name}"' for f in fields]
        names = tuple(f.name for f in fields)
        order = "count DESC, " + ", ".join(str(i + 1) for i in range(len(groups))) if groups else "count DESC"
        if stage.bucket is not None:
            groups.insert(0, f"time_bucket(to_seconds({self.param(int(stage.bucket.total_seconds()))}), time) AS bucket")
            names = ("bucket", *names)
            order = "bucket, " + order
        select = ", ".join([*groups, "count(*) AS count"])
        sql = (f"SELECT {select} FROM events{where}" + (" GROUP BY ALL" if groups else "") +
               f" ORDER BY {order} LIMIT {self.param(limit)} OFFSET {self.param(offset)}")
        return Compiled(sql, self.params, (*names, "count"), aggregate=True)


def _wild(v: Value) -> bool:
    return not v.quoted and ("*" in v.text or "?" in v.text)


def _like(v: Value, contains: bool = False) -> str:
    """The value as an ILIKE pattern: its own % _ \\ escaped, and (unquoted) * ? as wildcards."""
    out = []
    for ch in v.text:
        if ch in "%_\\":
            out.append("\\" + ch)
        elif not v.quoted and ch in "*?":
            out.append("%" if ch == "*" else "_")
        else:
            out.append(ch)
    pattern = "".join(out)
    return f"%{pattern}%" if contains else pattern


def compile_query(query: Query, since: datetime | None = None, until: datetime | None = None,
                  limit: int = 50, offset: int = 0) -> Compiled:
    """The statement for `query`'s page (`limit` rows from `offset`, newest first; aggregates by count)."""
    if not 0 < limit <= MAX_PAGE:
        raise QueryError(f"limit is 1 to {MAX_PAGE}")
    if offset < 0:
        raise QueryError("offset cannot be negative")
    return _Builder().select(query, since, until, limit, offset)


def compile_condition(query: Query, group_by: str | None = None) -> tuple[str, dict, Field | None]:
    """`query`'s filter alone (TRUE for none) and its parameters, plus the `group_by` field resolved, for
    statements built around a search (a promoted detection)."""
    builder = _Builder()
    where = builder.where(query.where) if query.where is not None else "TRUE"
    return where, builder.params, builder.field(group_by) if group_by else None
