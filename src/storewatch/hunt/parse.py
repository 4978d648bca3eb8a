"""Hunting queries as text → a small syntax tree, with the grammar in `query.lark` (parsed by lark, LALR).

The tree holds values exactly as typed (a quoted phrase unquoted, its escapes undone, and marked literal so
its `*` is not a wildcard); what a value means for a column (a number, a network, a pattern) is the
compiler's business (`storewatch.hunt.compile`), which also checks the field names.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from datetime import datetime, timedelta, timezone
from functools import lru_cache
from importlib import resources

from lark import Lark, Token, Transformer, exceptions


class QueryError(ValueError):
    """A query that cannot be run; the message says where and why, in the user's terms."""


@dataclass(frozen=True)
class Value:
    text: str
    quoted: bool = False  # a "phrase": matched literally, wildcards included


@dataclass(frozen=True)
class Match:
    """`field:value` (a wildcard, a network or `*` for "has a value" when the value says so)."""
    field: str
    value: Value


@dataclass(frozen=True)
class Compare:
    field: str
    op: str  # >=, <=, >, <
    value: Value


@dataclass(frozen=True)
class Range:
    """`field:[low TO high]` (`{` `}` exclude the bound; `*` leaves a side open)."""
    field: str
    low: Value
    high: Value
    include_low: bool
    include_high: bool


@dataclass(frozen=True)
class Text:
    """A bare value: searched in the free-text columns."""
    value: Value


@dataclass(frozen=True)
class Not:
    item: object


@dataclass(frozen=True)
class Junction:
    """Terms joined by `op`, AND or OR (the grammar's, never the user's text)."""
    op: str
    items: tuple


@dataclass(frozen=True)
class Count:
    """`| count [by f1, f2, bucket 1h]`: counts per group, over time when bucketed."""
    by: tuple[str, ...] = ()
    bucket: timedelta | None = None


@dataclass(frozen=True)
class Top:
    """`| top N field`: the N most frequent values of a field."""
    n: int
    field: str


@dataclass(frozen=True)
class Query:
    where: object | None  # None: every event
    stages: tuple = field(default=())


_DURATION = re.compile(r"(\d+)([smhdw])")
_UNITS = {"s": "seconds", "m": "minutes", "h": "hours", "d": "days", "w": "weeks"}
_ESCAPE = re.compile(r"\\(.)")


def duration(text: str) -> timedelta:
    """`15m`, `1h`, `7d` → a timedelta; QueryError otherwise."""
    m = _DURATION.fullmatch(text.strip())
    if not m or int(m[1]) == 0:
        raise QueryError(f"{text!r} is not a duration like 30s, 15m, 1h, 1d or 1w")
    return timedelta(**{_UNITS[m[2]]: int(m[1])})


class _ToTree(Transformer):
    def value(self, items: list[Token]) -> Value:
        tok = items[0]
        if tok.type == "PHRASE":
            return Value(_ESCAPE.sub(r"\1", tok[1:-1]), quoted=True)
        return Value(str(tok))

    def bound(self, items: list[Value]) -> Value:
        return items[0]

    def range(self, items: list) -> tuple:
        return items

    def match(self, items: list) -> Match:
        return Match(str(items[0]), items[1])

    def range_match(self, items: list) -> Range:
        lb, low, high, rb = items[1]
        return Range(str(items[0]), low, high, lb == "[", rb == "]")

    def compare(self, items: list) -> Compare:
        return Compare(str(items[0]), str(items[1]), items[2])

    def free_text(self, items: list[Value]) -> Text:
        return Text(items[0])

    def negation(self, items: list) -> Not:
        return Not(items[0])

    def and_expr(self, items: list) -> Junction:
        return Junction("AND", tuple(items))

    def or_expr(self, items: list) -> Junction:
        return Junction("OR", tuple(items))

    def by_field(self, items: list[Token]) -> str:
        return str(items[0])

    def by_bucket(self, items: list[Token]) -> timedelta:
        return duration(str(items[0]))

    def count(self, items: list) -> Count:
        buckets = [i for i in items if isinstance(i, timedelta)]
        if len(buckets) > 1:
            raise QueryError("count by: one bucket at most")
        return Count(tuple(i for i in items if isinstance(i, str)), buckets[0] if buckets else None)

    def top(self, items: list[Token]) -> Top:
        if not str(items[0]).isdigit() or not 0 < int(items[0]) <= 10_000:
            raise QueryError(f"top N field: N is a number from 1 to 10000, not {str(items[0])!r}")
        return Top(int(items[0]), str(items[1]))

    def start(self, items: list) -> Query:
        stages = tuple(i for i in items if isinstance(i, (Count, Top)))
        where = [i for i in items if not isinstance(i, (Count, Top))]
        if len(stages) > 1:
            raise QueryError("one aggregation per query (| count by ... or | top N field)")
        return Query(where[0] if where else None, stages)


@lru_cache(maxsize=1)
def _parser() -> Lark:
    grammar = resources.files("storewatch.hunt").joinpath("query.lark").read_text(encoding="utf-8")
    return Lark(grammar, parser="lalr")


def parse(text: str) -> Query:
    """The query's tree; QueryError names the column and what was expected there."""
    if len(text) > 4000:
        raise QueryError("query longer than 4000 characters")
    try:
        tree = _parser().parse(text)
    except exceptions.UnexpectedCharacters as exc:
        if text[exc.pos_in_stream] == '"':
            raise QueryError(f"the quote at column {exc.column} is never closed") from None
        raise QueryError(f"unexpected {text[exc.pos_in_stream]!r} at column {exc.column}"
                         " (quote values holding spaces, ':', '<', '>', '|' or brackets)") from None
    except exceptions.UnexpectedEOF:
        raise QueryError("the query ends too early (an unclosed parenthesis, range or operator?)") from None
    except exceptions.UnexpectedToken as exc:
        if exc.token.type == "$END":
            raise QueryError("the query ends too early (an unclosed parenthesis, range or operator?)") from None
        raise QueryError(f"unexpected {str(exc.token)!r} at column {exc.column}") from None
    try:
        return _ToTree().transform(tree)
    except exceptions.VisitError as exc:
        if isinstance(exc.orig_exc, QueryError):
            raise exc.orig_exc from None
        raise


def moment(text: str, now: datetime | None = None) -> datetime:
    """`24h` / `7d` (that long ago) or an ISO 8601 date or time (UTC unless it says otherwise) → an aware time."""
    text = text.strip()
    if _DURATION.fullmatch(text):
        return (now or datetime.now(timezone.utc)) - duration(text)
    try:
        parsed = datetime.fromisoformat(text.replace("Z", "+00:00"))
    except ValueError:
        raise QueryError(f"{text!r} is neither an ISO 8601 date or time nor a duration like 12h or 7d") from None
    return parsed if parsed.tzinfo else parsed.replace(tzinfo=timezone.utc)
