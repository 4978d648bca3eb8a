"""The small condition language of exceptions, evaluated in Python over alert rows (never pasted into SQL).

    user = etl_nightly and time between 01:00 and 03:00
    user_agent contains "HealthCheck/2" and src_ip in 10.20.0.0/16
    rule_id startswith window.web. or (store in (S001, S002) and day in (sat, sun))

A clause is `FIELD OP VALUE`; OP is `=`, `!=`, `in` (a CIDR or a parenthesised list), `contains`,
`startswith`, `between A and B` (time of day, `time` only). Clauses join with `and`/`or` (and binds tighter)
and parentheses. Comparisons ignore case. A field is an alert column (rule_id, severity, store_id, channel,
kind, scenario), an entity type the alert names (ip, user, host, email, ...; an event column such as src_ip or
db_user names its entity), a key of the alert's evidence, or another event column (user_agent, url_path,
http_status, command_line...), read from the events the alert recorded; a field with several values (an alert
naming two IPs) matches when any value does. `time` is the alert's first_seen (UTC, HH:MM), `day` its weekday (mon..sun).
"""

from __future__ import annotations

import ipaddress
import re
from dataclasses import dataclass
from functools import lru_cache
from datetime import datetime, time
from typing import Any, Mapping, Union

from storewatch.store import schema

DAYS = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")
ALERT_FIELDS = ("rule_id", "kind", "scenario", "severity", "store_id", "channel", "title")
OPS = ("=", "!=", "in", "contains", "startswith", "between")
# Event columns name the entity they hold (src_ip → ip); a few database words read the way analysts say them.
ALIASES = {**schema.entity_columns(), "db_user": "user", "ip_address": "ip", "hostname": "host", "store": "store"}
_TOKEN = re.compile(r'\s*(?:(?P<q>"(?:[^"\\]|\\.)*"|\'[^\']*\')|(?P<p>[(),])|(?P<op>!=|=)|(?P<w>[^\s(),=!"\']+))')


class ConditionError(ValueError):
    """A condition that cannot be parsed; the message says where and what was expected."""


@dataclass(frozen=True)
class Clause:
    field: str
    op: str
    values: tuple[str, ...]


@dataclass(frozen=True)
class Group:
    op: str  # "and" | "or"
    parts: tuple["Node", ...]


Node = Union[Clause, Group]


def quoted(value: str) -> str:
    """`value` as a condition's quoted string, whatever it holds."""
    return '"' + value.replace("\\", "\\\\").replace('"', '\\"') + '"'


def _tokens(text: str) -> list[str]:
    out, pos = [], 0
    text = text.strip()
    while pos < len(text):
        m = _TOKEN.match(text, pos)
        if not m or m.end() == pos:
            raise ConditionError(f"cannot read {text[pos:pos + 20]!r} at character {pos + 1}")
        q = m.group("q")
        out.append(("s", re.sub(r'\\(.)', r'\1', q[1:-1]) if q[0] == '"' else q[1:-1]) if q else ("t", m.group(0).strip()))
        pos = m.end()
    return out


class _Parser:
    def __init__(self, text: str) -> None:
        self.toks = _tokens(text)
        self.i = 0

    def peek(self) -> str | None:
        return self.toks[self.i][1].lower() if self.i < len(self.toks) and self.toks[self.i][0] == "t" else None

    def take(self, what: str = "a value") -> str:
        if self.i >= len(self.toks):
            raise ConditionError(f"the condition ends where {what} was expected")
        self.i += 1
        return self.toks[self.i - 1][1]

    def expect(self, word: str) -> None:
        got = self.take(repr(word))
        if got.lower() != word:
            raise ConditionError(f"expected {word!r}, found {got!r}")

    def parse(self) -> Node:
        node = self.expr()
        if self.i < len(self.toks):
            raise ConditionError(f"unexpected {self.toks[self.i][1]!r} after a complete condition")
        return node

    def expr(self) -> Node:
        parts = [self.term()]
        while self.peek() == "or":
            self.i += 1
            parts.append(self.term())
        return parts[0] if len(parts) == 1 else Group("or", tuple(parts))

    def term(self) -> Node:
        parts = [self.factor()]
        while self.peek() == "and":
            self.i += 1
            parts.append(self.factor())
        return parts[0] if len(parts) == 1 else Group("and", tuple(parts))

    def factor(self) -> Node:
        if self.peek() == "(":
            self.i += 1
            node = self.expr()
            self.expect(")")
            return node
        field = self.take("a field").lower()
        op = self.take(f"an operator after {field!r} ({', '.join(OPS)})").lower()
        if op not in OPS:
            raise ConditionError(f"unknown operator {op!r} after {field!r}: use one of {', '.join(OPS)}")
        if op == "between":
            low = self.take("a time (HH:MM)")
            self.expect("and")
            return _checked(Clause(field, op, (low, self.take("a time (HH:MM)"))))
        if op == "in" and self.peek() == "(":
            self.i += 1
            values = [self.take()]
            while self.peek() == ",":
                self.i += 1
                values.append(self.take())
            self.expect(")")
            return _checked(Clause(field, op, tuple(values)))
        return _checked(Clause(field, op, (self.take(f"a value after {field} {op}"),)))


def _checked(c: Clause) -> Clause:
    if c.op == "between":
        if c.field != "time":
            raise ConditionError(f"'between' compares the time of day: write 'time between HH:MM and HH:MM', not {c.field!r}")
        for v in c.values:
            _hhmm(v)
    if c.field == "day":
        bad = [v for v in c.values if v.lower()[:3] not in DAYS]
        if bad:
            raise ConditionError(f"day {bad[0]!r}: use mon, tue, wed, thu, fri, sat or sun")
    for v in c.values if c.op == "in" else ():
        try:
            ipaddress.ip_network(v, strict=False) if "/" in v else None
        except ValueError:
            raise ConditionError(f"{v!r} is not a network (CIDR such as 10.20.0.0/16)") from None
    return c


def _hhmm(v: str) -> time:
    try:
        return datetime.strptime(v, "%H:%M").time()
    except ValueError:
        raise ConditionError(f"{v!r} is not a time of day (HH:MM)") from None


@lru_cache(maxsize=1024)  # applied to every candidate alert of a run: parse each condition once
def parse(text: str) -> Node:
    """The condition's tree; ConditionError when it is not one."""
    if not text or not text.strip():
        raise ConditionError("an empty condition would match every alert: say what to match")
    return _Parser(text).parse()


def fields(node: Node) -> set[str]:
    return {node.field} if isinstance(node, Clause) else {f for p in node.parts for f in fields(p)}


def event_fields(node: Node) -> list[str]:
    """The event columns the condition reads that an alert does not carry itself (user_agent, url_path, ...):
    the caller looks them up in the alert's recorded events (`events` of the alert row)."""
    return sorted(f for f in fields(node) if f in schema.COLUMNS and f not in ALIASES and f not in ALERT_FIELDS)


def field_values(alert: Mapping[str, Any], field: str) -> list[str]:
    """Every value `field` has on an alert (see the module doc for what a field can be)."""
    if field in ALERT_FIELDS:
        v = alert.get(field)
        return [] if v is None else [str(v)]
    etype = ALIASES.get(field, field)
    found = [str(e["value"]) for e in alert.get("entities") or () if e["type"] == etype]
    evidence = alert.get("evidence") or {}
    if isinstance(evidence, Mapping) and field in evidence and not isinstance(evidence[field], (dict, list)):
        found.append(str(evidence[field]))
    return found + [str(v) for v in (alert.get("events") or {}).get(field, ()) if v is not None]


def _in_network(value: str, network: str) -> bool:
    try:
        return ipaddress.ip_address(value) in ipaddress.ip_network(network, strict=False)
    except ValueError:
        return False


def _clause(c: Clause, alert: Mapping[str, Any]) -> bool:
    seen: datetime = alert["first_seen"]
    if c.field == "time":
        low, high, now = _hhmm(c.values[0]), _hhmm(c.values[1]), seen.time().replace(second=0, microsecond=0)
        return low <= now <= high if low <= high else (now >= low or now <= high)  # a window across midnight
    if c.field == "day":
        return DAYS[seen.weekday()] in {v.lower()[:3] for v in c.values}
    values = [v.lower() for v in field_values(alert, c.field)]
    wanted = [v.lower() for v in c.values]
    if c.op == "=":
        return wanted[0] in values
    if c.op == "!=":
        return bool(values) and wanted[0] not in values
    if c.op == "contains":
        return any(wanted[0] in v for v in values)
    if c.op == "startswith":
        return any(v.startswith(wanted[0]) for v in values)
    return any(_in_network(v, w) if "/" in w else v == w for v in values for w in wanted)


def matches(node: Node, alert: Mapping[str, Any]) -> bool:
    """Whether an alert (a dict with the alerts table's columns, evidence parsed) meets the condition."""
    if isinstance(node, Clause):
        return _clause(node, alert)
    results = (matches(p, alert) for p in node.parts)
    return all(results) if node.op == "and" else any(results)
