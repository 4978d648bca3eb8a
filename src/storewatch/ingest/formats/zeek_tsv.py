"""Zeek logs in Zeek's native tab-separated form, columns named by the `#fields` header.

Each line is turned into the JSON object Zeek itself would have written with use_json, so the one Zeek
mapping serves both forms.
"""

from __future__ import annotations

import json
import re
from dataclasses import replace

from storewatch.ingest.formats.base import Format, load_sql

DEFAULT_FIELDS = ("ts uid id.orig_h id.orig_p id.resp_h id.resp_p proto service duration orig_bytes resp_bytes conn_state "
                  "local_orig local_resp missed_bytes history orig_pkts orig_ip_bytes resp_pkts resp_ip_bytes tunnel_parents").split()


def header_fields(head: str) -> tuple[list[str], str, str, str]:
    """Field names, separator, unset and empty markers from the Zeek header (defaults per Zeek docs)."""
    sep, unset, empty, fields = "\t", "-", "(empty)", DEFAULT_FIELDS
    for line in head.splitlines():
        if line.startswith("#separator "):
            sep = line.split(" ", 1)[1].encode().decode("unicode_escape")
        elif line.startswith("#unset_field"):
            unset = line.split(sep, 1)[1]
        elif line.startswith("#empty_field"):
            empty = line.split(sep, 1)[1]
        elif line.startswith("#fields"):
            fields = line.split(sep)[1:]
    return list(fields), sep, unset, empty


def _sql_literal(text: str) -> str:
    return "'" + text.replace("'", "''") + "'"


_PARSE = re.compile(r"WITH z AS \(.*?\n\)\n", re.S)  # the JSON mapping's parsing step, replaced for TSV
_FIELDS = re.compile(r"from_json\(line, '(\{.*?\})'\)", re.S)


def specialize(head: str) -> Format:
    """The Zeek JSON mapping, with its parsing step replaced by one that fills the same structure (the
    fields it reads, with their types) from this file's TSV columns."""
    fields, sep, unset, empty = header_fields(head)
    base = load_sql("zeek")
    wanted = json.loads(_FIELDS.search(base).group(1))
    position = {}
    for i, name in enumerate(fields, start=1):
        position.setdefault(name, i)

    def value(name: str, sql_type: str) -> str:
        if name not in position:
            return f"NULL::{sql_type}"
        i = position[name]
        text = f"CASE WHEN f[{i}] IN ({_sql_literal(unset)}, {_sql_literal(empty)}) THEN NULL ELSE f[{i}] END"
        return f"to_json({text})" if sql_type == "JSON" else text

    struct = ", ".join(f"{_sql_literal(name)}: {value(name, sql_type)}" for name, sql_type in wanted.items())
    parse = (f"WITH z AS (\n  SELECT line_no, len(f) = {len(fields)} AS ok, CASE WHEN len(f) = {len(fields)} THEN {{{struct}}} END AS j\n"
             f"  FROM (SELECT line_no, string_split(line, {_sql_literal(sep)}) AS f FROM batch)\n)\n")
    return replace(FORMAT, sql=_PARSE.sub(lambda _: parse, base, count=1))


_LINE = re.compile(r"^(#separator |#fields\t|\d{9,10}\.\d+\t\S+\t[0-9a-fA-F:.]+\t\d+\t)")

FORMAT = Format(name="zeek_tsv", channel="network", sql="", looks_like=lambda line: bool(_LINE.match(line)),
                ignore=r"^#", specialize=specialize, description="Zeek TSV logs")
