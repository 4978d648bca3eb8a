"""PostgreSQL server log, as the server writes it: the stderr log with any `log_line_prefix` that starts
with a timestamp, csvlog, and jsonlog (PostgreSQL 15+); pgaudit's AUDIT lines in any of them.

One format as far as sniffing goes (the three shapes never share a file); `specialize` picks the shape from
the file's head. The shapes differ in how a record is cut and where its fields sit (postgres_<shape>.sql);
what the message says is read by one query for all three (postgres.sql).
"""

import re
from dataclasses import replace

from storewatch.ingest import sniff
from storewatch.ingest.formats.base import Format, load_sql
from storewatch.ingest.reader import Continuation

_LEVELS = r"(?:DEBUG[1-5]?|INFO|NOTICE|WARNING|ERROR|LOG|FATAL|PANIC|STATEMENT|DETAIL|HINT|CONTEXT|QUERY|LOCATION)"
_TIME = r"\d{4}-\d\d-\d\d[ T]\d\d:\d\d:\d\d(?:[.,]\d+)?"
# stderr: a timestamp, the rest of the prefix (short, no quotes), then `LEVEL:  ` (one space on some hosts).
_STDERR = re.compile(rf"^[<\[( ]{{0,3}}{_TIME}(?: ?(?:[A-Za-z]{{1,6}}\b|[+-]\d\d(?::?\d\d)?))?(?:[^\"\n]{{0,200}}?[\s:\]>)|\-])?{_LEVELS}:\s")
# csvlog: log_time,user,database,pid,connection_from,session_id,line_num,... severity,sqlstate,"message"
_CSV = re.compile(rf'^"?{_TIME}(?: [A-Za-z+\-\d:]{{1,6}})?"?,(?:"(?:[^"]|"")*"|[^",]*),(?:"(?:[^"]|"")*"|[^",]*),\d*,'
                  rf'.*,{_LEVELS},[0-9A-Z]{{5}},')
_JSON_KEYS = frozenset({"timestamp", "error_severity"})


def _shape(line: str) -> str | None:
    if _STDERR.match(line):
        return "stderr"
    if line.startswith("{"):
        return "jsonlog" if _JSON_KEYS <= sniff.json_keys(line) else None
    return "csvlog" if _CSV.match(line) else None


_SHAPES = {
    "stderr": dict(name="postgres", continuation=Continuation(pattern=r"^[\t ]")),
    "csvlog": dict(name="postgres_csvlog", continuation=Continuation(quotes=True)),
    "jsonlog": dict(name="postgres_jsonlog", continuation=None),
}


def _specialize(head: str) -> Format:
    """The shape most of the head's lines have."""
    shapes = [s for s in map(_shape, head.splitlines()[:200]) if s]
    shape = max(_SHAPES, key=shapes.count) if shapes else "stderr"
    return replace(FORMAT, sql=load_sql(f"postgres_{shape}") + load_sql("postgres"), specialize=None, **_SHAPES[shape])


FORMAT = Format(name="postgres", channel="database", sql=load_sql("postgres_stderr") + load_sql("postgres"),
                looks_like=lambda line: _shape(line) is not None, description="PostgreSQL server log (stderr, csvlog, jsonlog) with pgaudit",
                continuation=_SHAPES["stderr"]["continuation"], specialize=_specialize)
