"""Sigma's parsed condition tree -> one parameterized DuckDB WHERE clause over the events table.

pySigma parses the rule and applies the modifiers (contains, startswith, endswith, all, windash,
base64offset, cidr, re, cased, gt/gte/lt/lte/neq, exists, fieldref); this module only turns the resulting
tree into SQL. Sigma strings match case-insensitively unless `|cased`, so each field is lowered once in a
projection and compared with lowered patterns (a list of them as one regular expression); `|re` is
case-sensitive unless `|i`, as Sigma specifies.
A missing field matches nothing, and `not` of it matches. A test of a missing (NULL) field is NULL; AND
and OR give true over it only where they would with false in its place (they are monotone), and a NULL
condition selects nothing, so only `not` needs NULL made false (`NOT coalesce(..., false)`): fewer
expressions for a thousand rules' queries to plan and run. Anything this compiler cannot evaluate
faithfully raises Unsupported instead of matching the wrong events.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from functools import lru_cache

import duckdb
from sigma.conditions import (
    ConditionAND,
    ConditionFieldEqualsValueExpression,
    ConditionNOT,
    ConditionOR,
    ConditionValueExpression,
)
from sigma.exceptions import SigmaError
from sigma.rule import SigmaRule
from sigma.types import (
    CompareOperators,
    Placeholder,
    SigmaBool,
    SigmaCasedString,
    SigmaCIDRExpression,
    SigmaCompareExpression,
    SigmaExists,
    SigmaExpansion,
    SigmaFieldReference,
    SigmaNull,
    SigmaNumber,
    SigmaRegularExpression,
    SigmaString,
    SigmaTimestampPart,
    SpecialChars,
)

from storewatch.detect.sigma.mapping import Mapping, Unsupported

COMPARE = {CompareOperators.LT: "<", CompareOperators.LTE: "<=", CompareOperators.GT: ">",
           CompareOperators.GTE: ">=", CompareOperators.NEQ: "<>"}
LIKE_WILDCARDS = {SpecialChars.WILDCARD_MULTI: "%", SpecialChars.WILDCARD_SINGLE: "_"}
REGEX_WILDCARDS = {SpecialChars.WILDCARD_MULTI: ".*", SpecialChars.WILDCARD_SINGLE: "."}
FORMS = {"raw": "({})", "cased": "CAST(({}) AS VARCHAR)", "lower": "lower(CAST(({}) AS VARCHAR))"}
# Up to this many values of a field are tested one by one: contains / ends_with cost 10-20 ns an event each,
# one RE2 expression of literals 80-145 ns whatever their number (process command lines, DuckDB 2.0).
SHORT_LIST = 5
_NAMES = re.compile(r"\$p\d+\b|\b_sw\d+\b")  # what a WHERE clause names: its parameters and projected columns
_JSON_PATH = re.compile(r"json_extract_string\(attributes, '((?:[^']|'')*)'\)")  # a field of the JSON attributes


@dataclass
class Compiled:
    """A rule's WHERE clause, its named parameters and the lowered columns it reads (alias -> SQL)."""

    where: str
    params: dict[str, object] = field(default_factory=dict)
    columns: dict[str, str] = field(default_factory=dict)

    def shared(self, prefix: str, columns: dict[str, str]) -> tuple[str, dict[str, object]]:
        """This rule's WHERE clause and parameters for a query that evaluates it beside other rules: its
        parameters take the prefix (`$p0` -> `$<prefix>p0`) so that rules cannot collide, and its columns
        the alias `columns` (projected SQL -> alias, extended as needed) gives them, so that a field many
        rules read is projected once."""
        alias = self.project(columns)
        where = _NAMES.sub(lambda m: alias[m[0]] if m[0].startswith("_sw") else f"${prefix}{m[0][1:]}", self.where)
        return where, {f"{prefix}{name}": value for name, value in self.params.items()}

    def project(self, columns: dict[str, str]) -> dict[str, str]:
        """Adds the columns this rule reads to `columns` (projected SQL -> alias) unless there; returns
        this rule's own alias -> the alias they have there."""
        return {a: columns.setdefault(sql, f"_sw{len(columns)}") for a, sql in self.columns.items()}


def projection(columns: dict[str, str], events: str, where: str) -> str:
    """A SELECT of each event's id (`_sw_id`) and the projected columns (SQL -> alias) over the events that
    `where` selects. Every field of the JSON attributes is taken from one extraction of all their paths: a
    Windows process event names a dozen EventData fields, and extracting them one by one parses the
    document a dozen times (70% of the time the projection took)."""
    paths = {path: n + 1 for n, path in enumerate(dict.fromkeys(_JSON_PATH.findall(" ".join(columns))))}
    fields = "".join(f", {_JSON_PATH.sub(lambda m: f'_sw_json[{paths[m[1]]}]', sql)} AS {alias}"
                     for sql, alias in columns.items())
    if not paths:
        return f"SELECT event_id AS _sw_id{fields} FROM {events} WHERE {where}"
    extract = "json_extract_string(attributes, [" + ", ".join(f"'{p}'" for p in paths) + "])"
    return f"SELECT event_id AS _sw_id{fields} FROM (SELECT *, {extract} AS _sw_json FROM {events} WHERE {where})"


def compile_rule(rule: SigmaRule, mapping: Mapping) -> Compiled:
    """All of a rule's conditions (OR-ed, as Sigma defines a list of conditions) as one WHERE clause."""
    builder = _Builder(mapping)
    try:
        trees = [c.parsed for c in rule.detection.parsed_condition]
    except SigmaError as exc:
        raise Unsupported(f"condition cannot be parsed: {exc}") from None
    if any(t is None for t in trees) or not trees:
        raise Unsupported("condition selects nothing (empty detection)")
    where = " OR ".join(f"({builder.node(t)})" for t in trees)
    return Compiled(where=where, params=builder.params, columns={a: s for s, a in builder.columns.items()})


class _Builder:
    def __init__(self, mapping: Mapping) -> None:
        self.mapping = mapping
        self.params: dict[str, object] = {}
        self.columns: dict[str, str] = {}  # projected SQL -> alias

    def param(self, value: object) -> str:
        name = f"p{len(self.params)}"
        self.params[name] = value
        return f"${name}"

    def column(self, expr: str, form: str) -> str:
        """Alias of a field projected once per event: 'raw', as text ('cased') or lowered text ('lower')."""
        sql = FORMS[form].format(expr)
        return self.columns.setdefault(sql, f"_sw{len(self.columns)}")

    def node(self, node: object) -> str:
        if isinstance(node, ConditionAND):
            return "(" + " AND ".join(self.node(arg) for arg in node.args) + ")"
        if isinstance(node, ConditionOR):
            return self.any_of(node.args)
        if isinstance(node, ConditionNOT):
            return f"(NOT coalesce({self.node(node.args[0])}, false))"
        if isinstance(node, ConditionFieldEqualsValueExpression):
            return self.match(self.mapping.expressions(node.field), node.value)
        if isinstance(node, ConditionValueExpression):
            return self.match(self.mapping.keyword_expressions(), _as_keyword(node.value))
        raise Unsupported(f"condition element {type(node).__name__}")

    def any_of(self, args: list) -> str:
        """OR of the conditions. A field's case-insensitive string values, and keywords, are one regular
        expression (RE2 runs it in one pass) when there are more than SHORT_LIST: a rule listing a hundred
        values is one test, quick to plan and to run."""
        tests: list[str] = []
        plain: dict[str | None, list[SigmaString]] = {}  # field (None: the keyword fields) -> its plain values
        for arg in args:
            found = _plain(arg)
            if found is None:
                tests.append(self.node(arg))
            else:
                plain.setdefault(found[0], []).append(found[1])
        for name, values in plain.items():
            exprs = self.mapping.keyword_expressions() if name is None else self.mapping.expressions(name)
            if len(values) <= SHORT_LIST:
                tests += [self.match(exprs, v) for v in values]
                continue
            pattern = self.param(_alternatives(values))
            tests.append("(" + " OR ".join(f"regexp_matches({self.column(e, 'lower')}, {pattern})"
                                           for e in exprs) + ")")
        return "(" + " OR ".join(tests) + ")"

    def match(self, exprs: tuple[str, ...], value: object) -> str:
        """The field (any of its forms) matches the value."""
        if isinstance(value, SigmaExpansion):  # windash / base64offset variants: any of them
            return "(" + " OR ".join(self.match(exprs, v) for v in value.values) + ")"
        if isinstance(value, SigmaNull):
            return f"coalesce({self.column(exprs[0], 'cased')}, '') = ''"
        if isinstance(value, SigmaExists):
            return f"({self.column(exprs[0], 'raw')} IS {'NOT ' if value.exists else ''}NULL)"
        if isinstance(value, SigmaFieldReference):
            return self.field_reference(exprs[0], value)
        return "(" + " OR ".join(self.leaf(e, value) for e in exprs) + ")"

    def leaf(self, expr: str, value: object) -> str:
        if isinstance(value, SigmaString):
            cased = isinstance(value, SigmaCasedString)
            return self.string(self.column(expr, "cased" if cased else "lower"), value, lower=not cased)
        if isinstance(value, SigmaTimestampPart):
            raise Unsupported("timestamp part modifiers (minute, hour, day, week, month, year)")
        if isinstance(value, SigmaNumber):
            return f"TRY_CAST({self.column(expr, 'raw')} AS DOUBLE) = {self.param(float(value.number))}"
        if isinstance(value, SigmaBool):
            return f"TRY_CAST({self.column(expr, 'raw')} AS BOOLEAN) = {self.param(bool(value.boolean))}"
        if isinstance(value, SigmaCompareExpression):
            op = COMPARE[value.op]
            return f"TRY_CAST({self.column(expr, 'raw')} AS DOUBLE) {op} {self.param(float(value.number.number))}"
        if isinstance(value, SigmaRegularExpression):
            return f"regexp_matches({self.column(expr, 'cased')}, {self.param(_regex(value))})"
        if isinstance(value, SigmaCIDRExpression):  # the network's address prefixes
            prefixes = [SigmaString(p) for p in value.expand(wildcard="*")]
            return f"regexp_matches({self.column(expr, 'lower')}, {self.param(_alternatives(prefixes))})"
        raise Unsupported(f"value type {type(value).__name__}")

    def string(self, column: str, value: SigmaString, lower: bool) -> str:
        """A Sigma string (with * and ? wildcards) against a projected column, using the cheapest test."""
        parts = list(value.s)
        if any(isinstance(p, Placeholder) for p in parts):
            raise Unsupported("placeholders (%name% with the expand modifier)")
        fold = (lambda s: s.lower()) if lower else (lambda s: s)
        multi = SpecialChars.WILDCARD_MULTI
        inner = [p for p in parts if isinstance(p, str)]
        if len(inner) == len(parts):
            return f"{column} = {self.param(fold(''.join(inner)))}"
        if len(inner) == 1 and len(parts) in (2, 3):
            test = {(multi, inner[0], multi): "contains", (multi, inner[0]): "ends_with",
                    (inner[0], multi): "starts_with"}.get(tuple(parts))
            if test:
                return f"{test}({column}, {self.param(fold(inner[0]))})"
        pattern = "".join(LIKE_WILDCARDS[p] if isinstance(p, SpecialChars) else _like_escape(fold(p)) for p in parts)
        return f"{column} LIKE {self.param(pattern)} ESCAPE '\\'"

    def field_reference(self, expr: str, ref: SigmaFieldReference) -> str:
        other = self.column(self.mapping.expressions(ref.field)[0], "lower")
        mine = self.column(expr, "lower")
        if ref.starts_with and ref.ends_with:
            test = f"contains({mine}, {other})"
        elif ref.starts_with:
            test = f"starts_with({mine}, {other})"
        elif ref.ends_with:
            test = f"ends_with({mine}, {other})"
        else:
            test = f"{mine} = {other}"
        return test


def _as_keyword(value: object) -> object:
    """A keyword (unnamed) value matches anywhere in the keyword fields, as full-text search does."""
    if isinstance(value, SigmaNumber) and not isinstance(value, SigmaTimestampPart):
        value = SigmaString(str(value.number))
    if isinstance(value, SigmaString):
        if not value.startswith(SpecialChars.WILDCARD_MULTI):
            value = SpecialChars.WILDCARD_MULTI + value
        if not value.endswith(SpecialChars.WILDCARD_MULTI):
            value = value + SpecialChars.WILDCARD_MULTI
        return value
    if isinstance(value, (SigmaRegularExpression, SigmaExpansion)):
        return value
    raise Unsupported(f"keyword (unnamed) value of type {type(value).__name__}")


def _plain(condition: object) -> tuple[str | None, SigmaString] | None:
    """(field, or None for a keyword; value) of a condition testing one plain string, else None."""
    if isinstance(condition, ConditionFieldEqualsValueExpression) and _alternative(condition.value) is not None:
        return condition.field, condition.value
    if isinstance(condition, ConditionValueExpression) and type(condition.value) is SigmaString:
        keyword = _as_keyword(condition.value)
        return (None, keyword) if _alternative(keyword) is not None else None
    return None


def _alternative(value: object) -> str | None:
    """A case-insensitive Sigma string as an RE2 alternative over lowered text: its text as literal characters,
    `*` and `?` as any characters and any one (line breaks too, as LIKE's % and _); None for other values."""
    if type(value) is not SigmaString or any(isinstance(p, Placeholder) for p in value.s):
        return None  # cased strings, numbers, regular expressions... are tested apart
    regex = "".join(REGEX_WILDCARDS[p] if isinstance(p, SpecialChars) else _regex_literal(p.lower()) for p in value.s)
    regex = regex[2:] if regex.startswith(".*") else "\\A" + regex
    return regex[:-2] if regex.endswith(".*") else regex + "\\z"


def _regex_literal(text: str) -> str:
    return "".join(c if c.isascii() and c.isalnum() else f"\\x{{{ord(c):x}}}" for c in text)


def _alternatives(values: list[SigmaString]) -> str:
    """One RE2 pattern matching where any of the values (plain, see `_alternative`) matches."""
    return "(?s)" + "|".join(_alternative(v) for v in values)


def _like_escape(text: str) -> str:
    return text.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")


def _regex(value: SigmaRegularExpression) -> str:
    """The pattern with Sigma's i/m/s flags as an inline group; RE2 must accept it (no look-around)."""
    pattern = value.escape(escaped=(), escape_char="\\", escape_escape_char=False, flag_prefix=True)
    try:
        _re2().execute("SELECT regexp_matches('', ?)", [pattern]).fetchall()
    except duckdb.Error as exc:
        raise Unsupported(f"regular expression {pattern!r} is not valid RE2 (DuckDB): {exc}") from None
    return pattern


@lru_cache(maxsize=1)
def _re2() -> duckdb.DuckDBPyConnection:
    return duckdb.connect()
