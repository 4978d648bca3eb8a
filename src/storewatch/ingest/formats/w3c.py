"""W3C extended log files (IIS), columns named by their `#Fields:` directives, like Zeek's TSV reader.

IIS writes a new header block whenever the service restarts, and the fields may change with the
configuration: every `#Fields` line of the file's head is read, and each line is mapped by the (last) one
whose field count it has; IIS's usual layouts stand in for a header the file lacks.
"""

from __future__ import annotations

import re
from dataclasses import replace

from storewatch.ingest.formats.base import Format, load_sql

# IIS's field sets for a file cut after its header (a header in the file wins over a layout of its width):
# the default, every standard field, and every standard field plus the X-Forwarded-For custom field.
_ALL = ("date time s-sitename s-computername s-ip cs-method cs-uri-stem cs-uri-query s-port cs-username c-ip cs-version "
        "cs(User-Agent) cs(Cookie) cs(Referer) cs-host sc-status sc-substatus sc-win32-status sc-bytes cs-bytes time-taken")
KNOWN_LAYOUTS = [layout.split() for layout in (
    "date time s-ip cs-method cs-uri-stem cs-uri-query s-port cs-username c-ip cs(User-Agent) cs(Referer) sc-status "
    "sc-substatus sc-win32-status time-taken", _ALL, _ALL + " X-Forwarded-For")]
# The fields the mapping reads (W3C names; matched without regard to case).
WANTED = ("date", "time", "date-local", "time-local", "s-sitename", "s-computername", "s-ip", "cs-method", "cs-uri-stem", "cs-uri-query", "cs-uri",
          "s-port", "cs-username", "c-ip", "c-port", "cs-version", "cs(User-Agent)", "cs(Cookie)", "cs(Referer)", "cs-host", "cs(Host)",
          "sc-status", "sc-substatus", "sc-win32-status", "sc-bytes", "cs-bytes", "time-taken", "TimeTakenMS", "x-forwarded-for")


def headers(head: str) -> list[list[str]]:
    """IIS's known layouts, then the field lists of the `#Fields:` lines in the head, in order."""
    return KNOWN_LAYOUTS + [line.split(":", 1)[1].split() for line in head.splitlines() if line.startswith("#Fields:")]


def _struct(fields: list[str]) -> str:
    position = {}
    for i, name in enumerate(fields, start=1):
        position.setdefault(name.lower(), i)
    values = []
    for name in WANTED:
        i = position.get(name.lower())
        value = f"CASE WHEN f[{i}] <> '-' THEN f[{i}] END" if i else "NULL::VARCHAR"
        values.append(f"'{name}': {value}")
    return "{" + ", ".join(values) + "}"


# W3C writers other than IIS's own (IIS Advanced Logging, Oracle Web Cache, CDN and WAF exports) quote a value
# that holds spaces, `""` for a quote inside it, and may align columns with several spaces.
_QUOTED = ("list_transform(regexp_extract_all(line, '\"(?:[^\"]|\"\")*\"|\\S+'), "
           "lambda t: CASE WHEN starts_with(t, '\"') THEN replace(t[2:-2], '\"\"', '\"') ELSE t END)")


def specialize(head: str) -> Format:
    by_count: dict[int, list[str]] = {}
    for fields in headers(head):
        by_count[len(fields)] = fields  # the last header of a given width wins
    cases = " ".join(f"WHEN {n} THEN {_struct(fields)}" for n, fields in by_count.items())
    widths = ", ".join(map(str, by_count))
    # IIS writes `+` for a space and never quotes (a `"` in a URL is the client's): its lines are split on
    # spaces; a line of no known width is split again with quotes honoured.
    split = "string_split(regexp_replace(line, ' {2,}', ' ', 'g'), ' ')"
    parse = (f"SELECT line_no, CASE len(f) {cases} END AS w FROM (SELECT line_no, CASE WHEN len(s) IN ({widths}) "
             f"OR NOT contains(line, '\"') THEN s ELSE {_QUOTED} END AS f FROM (SELECT *, {split} AS s FROM batch))")
    return replace(FORMAT, sql=load_sql("w3c").replace("{parse}", parse))


_LINE = re.compile(r"^(?:#Software: (?:Microsoft Internet Information Services|IIS Advanced Logging)|#Fields: +(?:date|time)\S* |#Version: \d\.\d+$"
                   r"|\d{4}-\d\d-\d\d \d\d:\d\d:\d\d(?:\.\d+)? (?:\S+ ){0,8}[A-Z]{3,12} /\S* (?:\S+ ){3,})")

FORMAT = Format(name="w3c", channel="web", sql="", looks_like=lambda line: bool(_LINE.match(line)),
                ignore=r"^#", specialize=specialize, description="W3C extended log (IIS)")
