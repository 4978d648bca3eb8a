"""The Zeek mapping both of Zeek's forms share (TSV in zeek_tsv.py, JSON in zeek_json.py).

Zeek writes one log per path (conn, dns, http, ssl, files, notice...), each with its own fields. zeek.yml
says, per path, which OCSF class it is and which field fills which schema column; this module turns that
table into SQL. A form only says how to reach a field: `Ref(field, as_json)` returns the SQL for it.
Fields a path does not map stay in `attributes`, typed as Zeek declared them.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from functools import cache
from importlib import resources
from typing import Callable, Iterable

import yaml

from storewatch.store import schema
from storewatch.store.schema import sql_text

Ref = Callable[[str, bool], str]  # (Zeek field name, want its JSON value) -> SQL expression

_BARE = re.compile(r"^[A-Za-z_@][\w.@-]*$")
_PLACEHOLDER = re.compile(r"\{([A-Za-z_@][\w.@-]*)(:json)?\}")
_CASTS = {"INTEGER": "INTEGER", "BIGINT": "BIGINT", "DOUBLE": "DOUBLE"}



@dataclass(frozen=True)
class Path:
    """One Zeek log: its OCSF class, the template of each column it fills, the fields it consumes."""

    name: str
    class_name: str
    columns: dict[str, str]
    consumed: frozenset[str]

    def column_sql(self, column: str, ref: Ref) -> str:
        """The SQL for one column, the fields reached through `ref`."""
        template = self.columns[column]
        if _BARE.match(template):
            text = ref(template, False)
            cast = _CASTS.get(schema.COLUMNS[column].sql_type)
            return f"try_cast({text} AS {cast})" if cast else text
        return "(" + _PLACEHOLDER.sub(lambda m: ref(m[1], bool(m[2])), template) + ")"


@dataclass(frozen=True)
class Mapping:
    paths: dict[str, Path]
    default: Path  # for a path the table does not list, or none at all
    aliases: dict[str, str]
    infer: tuple[tuple[str, tuple[str, ...], tuple[str, ...]], ...]  # (path, all of, any of)

    def path(self, name: str | None) -> Path:
        return self.paths.get(self.aliases.get(name or "", name or ""), self.default)

    def infer_path(self, fields: Iterable[str]) -> str | None:
        """The path a record with these fields comes from, when nothing names it."""
        have = set(fields)
        for name, all_of, any_of in self.infer:
            if have.issuperset(all_of) and (not any_of or have.intersection(any_of)):
                return name
        return None

    def infer_fields(self) -> list[str]:
        """The fields whose presence `infer_path` looks at."""
        return list(dict.fromkeys(f for _, all_of, any_of in self.infer for f in (*all_of, *any_of)))

    def infer_sql(self, has: Callable[[str], str]) -> str:
        """`infer_path` in SQL; `has(field)` is the SQL test that the record has that field."""
        whens = []
        for name, all_of, any_of in self.infer:
            tests = [has(f) for f in all_of]
            tests += [f"({' OR '.join(has(f) for f in any_of)})"] if any_of else []
            whens.append(f"WHEN {' AND '.join(tests)} THEN {sql_text(name)}")
        return "CASE " + " ".join(whens) + " END"

    def alias_sql(self, name: str) -> str:
        """Normalize a path name in SQL (Corelight's reduced logs and the like)."""
        whens = " ".join(f"WHEN {sql_text(a)} THEN {sql_text(p)}" for a, p in self.aliases.items())
        return f"CASE {name} {whens} ELSE {name} END"

    def references(self) -> list[tuple[str, bool]]:
        """Every (field, as JSON) any path reads, in a stable order."""
        seen: dict[tuple[str, bool], None] = {}
        for path in [*self.paths.values(), self.default]:
            for template in path.columns.values():
                for ref in _references(template):
                    seen.setdefault(ref, None)
        return list(seen)

    def per_path_sql(self, path: str, column: str, ref: Ref) -> str:
        """One column over records of many paths: a CASE on `path` (paths sharing an expression share a WHEN)."""
        by_sql: dict[str, list[str]] = {}
        for p in self.paths.values():
            if column in p.columns:
                by_sql.setdefault(p.column_sql(column, ref), []).append(p.name)
        default = self.default.column_sql(column, ref) if column in self.default.columns else "NULL"
        whens = [f"WHEN {path} IN ({', '.join(map(sql_text, names))}) THEN {sql}"
                 for sql, names in by_sql.items() if sql != default]
        return f"CASE {' '.join(whens)} ELSE {default} END" if whens else default

    def columns(self) -> list[str]:
        names = {c for p in [*self.paths.values(), self.default] for c in p.columns}
        return [c for c in schema.COLUMN_NAMES if c in names]


def _references(template: str) -> list[tuple[str, bool]]:
    if _BARE.match(template):
        return [(template, False)]
    return [(m[1], bool(m[2])) for m in _PLACEHOLDER.finditer(template)]


@cache
def mapping() -> Mapping:
    table = yaml.safe_load(resources.files("storewatch.ingest.formats").joinpath("zeek.yml").read_text(encoding="utf-8"))
    common: dict[str, str] = table["common"]

    def build(name: str, spec: dict) -> Path:
        spec = dict(spec)
        class_name, keep = spec.pop("class"), set(spec.pop("keep", ()))
        unknown = set(spec) - set(schema.COLUMN_NAMES)
        if class_name not in schema.EVENT_CLASSES or unknown:
            raise ValueError(f"zeek.yml, path {name}: unknown class {class_name!r} or columns {sorted(unknown)}")
        columns = {**common, **spec}
        consumed = {f for t in columns.values() for f, _ in _references(t)} - keep
        return Path(name, class_name, columns, frozenset(consumed))

    paths = {name: build(name, spec) for name, spec in table["paths"].items()}
    infer = tuple((r["path"], tuple(r.get("all", ())), tuple(r.get("any", ()))) for r in table["infer"])
    return Mapping(paths, build("", {"class": table["default_class"]}), dict(table["aliases"]), infer)


def consumed_patch(path: Path) -> str:
    """A JSON merge patch that removes the fields this path maps to columns (the rest stay as attributes)."""
    return json.dumps({f: None for f in sorted(path.consumed)})
