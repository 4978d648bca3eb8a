"""Zeek logs in Zeek's native tab-separated form, columns named by the `#fields` header.

Each line is turned into the JSON object Zeek itself would have written with use_json, so the one Zeek
mapping serves both forms.
"""

from __future__ import annotations

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


def specialize(head: str) -> Format:
    fields, sep, unset, empty = header_fields(head)
    pairs = ", ".join(
        f"{_sql_literal(name)}, CASE WHEN f[{i}] IN ({_sql_literal(unset)}, {_sql_literal(empty)}) THEN NULL ELSE f[{i}] END"
        for i, name in enumerate(fields, start=1)
    )
    base = load_sql("zeek").replace("FROM batch", "FROM tsv")
    sql = (f"WITH split AS (SELECT line_no, string_split(line, {_sql_literal(sep)}) AS f, len(string_split(line, {_sql_literal(sep)})) AS n FROM batch),\n"
           f"tsv AS (SELECT line_no, CASE WHEN n = {len(fields)} THEN json_object({pairs})::VARCHAR ELSE 'not enough fields' END AS line FROM split)\n"
           + base)
    return replace(FORMAT, sql=sql)


_LINE = re.compile(r"^(#separator |#fields\t|\d{9,10}\.\d+\t\S+\t[0-9a-fA-F:.]+\t\d+\t)")

FORMAT = Format(name="zeek_tsv", channel="network", sql="", looks_like=lambda line: bool(_LINE.match(line)),
                ignore=r"^#", specialize=specialize, description="Zeek TSV logs")
