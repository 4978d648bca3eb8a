"""Zeek logs in Zeek's native tab-separated form: the header says everything.

`#path` names the log (conn, dns, http...), `#fields` and `#types` its columns and their Zeek types,
`#separator`, `#set_separator`, `#unset_field` and `#empty_field` how values are written. The mapping is
specialised per file from that header: the path's columns from zeek.yml, and every other field into
`attributes` as the JSON Zeek would have written (numbers, booleans, sets and vectors as arrays). Values
are unescaped as Zeek escapes them (`\\xHH` for separators and unprintable bytes, `\\\\` for a backslash).
"""

from __future__ import annotations

import re
from dataclasses import dataclass, replace

from storewatch.ingest.formats import zeek
from storewatch.ingest.formats.base import Format
from storewatch.store.schema import sql_text

# A conn.log whose header was lost: Zeek's default conn columns.
DEFAULT_FIELDS = ("ts uid id.orig_h id.orig_p id.resp_h id.resp_p proto service duration orig_bytes resp_bytes conn_state "
                  "local_orig local_resp missed_bytes history orig_pkts orig_ip_bytes resp_pkts resp_ip_bytes tunnel_parents").split()
DEFAULT_TYPES = ("time string addr port addr port enum string interval count count string bool bool count string count count "
                 "count count set[string]").split()

_NUMERIC = {"count", "int", "port", "double", "time", "interval"}
_CONTAINER = re.compile(r"^(?:set|vector|table)\[(.*)\]$")
_NUMBER = r"'-?[0-9]+(\.[0-9]+)?([eE][-+]?[0-9]+)?'"


@dataclass(frozen=True)
class Header:
    fields: list[str]
    types: list[str]
    separator: str = "\t"
    set_separator: str = ","
    unset: str = "-"
    empty: str = "(empty)"
    path: str | None = None
    opened: str | None = None  # `#open`: when the log was opened, the sensor's local time


def _unescape_header(text: str) -> str:
    return re.sub(r"\\x([0-9a-fA-F]{2})", lambda m: chr(int(m[1], 16)), text)


def read_header(head: str) -> Header:
    """The `#` header lines of a Zeek TSV log (defaults as Zeek writes them)."""
    values: dict[str, str] = {}
    sep = "\t"
    for line in head.splitlines():
        if line.startswith("#separator "):
            sep = _unescape_header(line.split(" ", 1)[1])
        elif line.startswith("#") and sep in line:
            key, value = line[1:].split(sep, 1)
            values.setdefault(key, value)
        elif line and not line.startswith("#"):
            break
    fields = values["fields"].split(sep) if "fields" in values else DEFAULT_FIELDS
    types = values["types"].split(sep) if "types" in values else (DEFAULT_TYPES if "fields" not in values else [])
    types = (types + ["string"] * len(fields))[: len(fields)]
    return Header(fields, types, sep, _unescape_header(values.get("set_separator", ",")),
                  values.get("unset_field", "-"), values.get("empty_field", "(empty)"), values.get("path"),
                  _opened(values.get("open")))


def _opened(stamp: str | None) -> str | None:
    """`#open 2020-06-05-14-48-32` as a timestamp text (naive: Zeek writes its local time)."""
    m = re.fullmatch(r"(\d{4}-\d\d-\d\d)-(\d\d)-(\d\d)-(\d\d)(\.\d+)?", (stamp or "").strip())
    return f"{m[1]} {m[2]}:{m[3]}:{m[4]}" if m else None


def _unescaped(x: str) -> str:
    """Zeek's escapes undone in SQL: `\\\\` is a backslash, `\\xHH` a byte. Text that is not valid UTF-8
    once decoded, or that mixes escapes with raw non-ASCII, is kept as Zeek wrote it."""
    return (f"CASE WHEN contains({x}, '\\') AND regexp_full_match({x}, '[[:ascii:]]*') "
            f"THEN coalesce(try(decode(replace({x}, '\\\\', '\\x5c')::BLOB)), {x}) ELSE {x} END")


class _Values:
    """SQL for a field of the split line `f`, as text (like JSON's ->>) or as a JSON value."""

    def __init__(self, header: Header):
        self.h = header
        self.position: dict[str, int] = {}
        for i, name in enumerate(header.fields, start=1):
            self.position.setdefault(name, i)

    def _scalar_json(self, x: str, ztype: str) -> str:
        if ztype in _NUMERIC:
            return f"CASE WHEN regexp_full_match({x}, {_NUMBER}) THEN {x}::JSON ELSE to_json({x}) END"
        if ztype == "bool":
            return f"to_json({x} = 'T')"
        return f"to_json({_unescaped(x)})"

    def json(self, name: str) -> str:
        if name not in self.position:
            return "NULL::JSON"
        i = self.position[name]
        raw, ztype, h = f"f[{i}]", self.h.types[i - 1], self.h
        unset, empty = sql_text(h.unset), sql_text(h.empty)
        inner = _CONTAINER.match(ztype)
        if inner:
            element = (f"CASE WHEN e = {unset} THEN 'null'::JSON ELSE {self._scalar_json('e', inner[1])} END")
            return (f"CASE WHEN {raw} = {unset} THEN NULL WHEN {raw} = {empty} THEN '[]'::JSON "
                    f"ELSE to_json(list_transform(string_split({raw}, {sql_text(h.set_separator)}), lambda e: {element})) END")
        if ztype in _NUMERIC or ztype == "bool":
            return f"CASE WHEN {raw} = {unset} THEN NULL ELSE {self._scalar_json(raw, ztype)} END"
        return f"CASE WHEN {raw} = {unset} THEN NULL WHEN {raw} = {empty} THEN '\"\"'::JSON ELSE {self._scalar_json(raw, ztype)} END"

    def text(self, name: str) -> str:
        if name == "ts" and name not in self.position and self.h.opened:
            return sql_text(self.h.opened)  # a log without times (loaded_scripts): when it was opened
        if name not in self.position:
            return "NULL::VARCHAR"
        i = self.position[name]
        raw, ztype, h = f"f[{i}]", self.h.types[i - 1], self.h
        if _CONTAINER.match(ztype):
            return f"CAST({self.json(name)} AS VARCHAR)"
        if ztype == "bool":
            return f"CASE {raw} WHEN 'T' THEN 'true' WHEN 'F' THEN 'false' END"
        if ztype in _NUMERIC:
            return f"CASE WHEN {raw} = {sql_text(h.unset)} THEN NULL ELSE {raw} END"
        return f"CASE WHEN {raw} = {sql_text(h.unset)} THEN NULL WHEN {raw} = {sql_text(h.empty)} THEN '' ELSE {_unescaped(raw)} END"

    def ref(self, name: str, as_json: bool) -> str:
        return self.json(name) if as_json else self.text(name)


def specialize(head: str) -> Format:
    """The mapping of this file's path, over this file's columns."""
    h = read_header(head)
    m = zeek.mapping()
    name = m.aliases.get(h.path, h.path) if h.path else m.infer_path(h.fields)
    path = m.path(name)
    values = _Values(h)
    columns = ",\n  ".join(f"{path.column_sql(c, values.ref)} AS {c}" for c in path.columns)
    kept = [f for f in values.position if f not in path.consumed]
    attributes = ("json_merge_patch('{}', json_object(" + ", ".join(f"{sql_text(f)}, {values.json(f)}" for f in kept) + "))"
                  if kept else "NULL::JSON")
    n = len(h.fields)
    sql = f"""
SELECT
  line_no,
  CASE WHEN len(f) <> {n} THEN 'expected {n} fields (the #fields header), found ' || len(f) END AS _error,
  {sql_text(path.class_name)} AS class_name,
  {sql_text(name or 'unknown')} AS activity,
  {columns},
  {attributes} AS attributes
FROM (SELECT line_no, string_split(line, {sql_text(h.separator)}) AS f FROM batch)
"""
    return replace(FORMAT, sql=sql)


# Header lines (whatever the separator), or a data line: Zeek writes times with six decimals, then
# tab-separated columns.
_LINE = re.compile(r"^(#separator |#(set_separator|empty_field|unset_field|path|open|fields|types|close)[^\w\n]"
                   r"|\d{9,10}\.\d{6}(\t[^\t]*){4,}$)")

FORMAT = Format(name="zeek_tsv", channel="network", sql="", looks_like=lambda line: bool(_LINE.match(line)),
                ignore=r"^#", specialize=specialize, description="Zeek TSV logs, any path")
