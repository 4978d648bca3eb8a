"""PostgreSQL server log, as the server and the services that run it write it: the stderr log with any
`log_line_prefix` that starts with a timestamp (as written, or wrapped in JSON by a shipper), syslog
(rsyslog's files, Heroku), csvlog, jsonlog (PostgreSQL 15+), and Cloud SQL's Cloud Logging export;
pgaudit's AUDIT lines in any of them.

One format as far as sniffing goes (the shapes never share a file); `specialize` picks the shape from the
file's head. The shapes differ in how a record is cut and where its fields sit (postgres_<shape>.sql, and
postgres_prefix.sql for the shapes with a text prefix); what the message says is read by one query for all
of them (postgres.sql).
"""

import re
from dataclasses import replace
from functools import lru_cache

from storewatch.ingest import sniff
from storewatch.ingest.formats.base import Format, load_sql
from storewatch.ingest.reader import Continuation

_LEVELS = r"(?:DEBUG[1-5]?|INFO|NOTICE|WARNING|ERROR|LOG|FATAL|PANIC|STATEMENT|DETAIL|HINT|CONTEXT|QUERY|LOCATION)"
_TIME = r"\d{4}-\d\d-\d\d[ T]\d\d:\d\d:\d\d(?:[.,]\d+)?"
_PREFIX = rf"(?:[^\"\n]{{0,200}}?[\s:\]>)|\-])?{_LEVELS}:\s"  # the prefix's tokens (short, no quotes), then `LEVEL: `
_STDERR = re.compile(rf"^[<\[( ]{{0,3}}{_TIME}(?: ?(?:[A-Za-z]{{1,6}}\b|[+-]\d\d(?::?\d\d)?))?{_PREFIX}")
# syslog (rsyslog) and Heroku's logplex: a header, `program[pid]: ` (`app[postgres.4882]: [GREEN] ` or
# `app[postgres.4882] [GREEN] ` on Heroku), then the server's `[n-k] ` line numbering: only PostgreSQL writes that.
_SYSLOG_HEAD = (r"^(?:<\d+>\d? ?)?(?:[A-Z][a-z]{2} +\d{1,2} \d\d:\d\d:\d\d|\d{4}-\d\d-\d\d[T ]\d\d:\d\d:\d\d\S*)(?: \S+)? "
                r"[^\s\[:]+\[(?:[^\]\s]*?\.)?\d+\]:? (?:\[[A-Z_]+\] )?\[\d+-")
_SYSLOG = re.compile(rf"{_SYSLOG_HEAD}\d+\] ")
# csvlog: log_time,user,database,pid,connection_from,session_id,line_num,... severity,sqlstate,"message"
_CSV = re.compile(rf'^"?{_TIME}(?: [A-Za-z+\-\d:]{{1,6}})?"?,(?:"(?:[^"]|"")*"|[^",]*),(?:"(?:[^"]|"")*"|[^",]*),\d*,'
                  rf'.*,{_LEVELS},[0-9A-Z]{{5}},')
_JSON_KEYS = frozenset({"timestamp", "error_severity"})


def _shape(line: str) -> str | None:
    if line.startswith("{"):
        if _JSON_KEYS <= sniff.json_keys(line):
            return "jsonlog"
        if sniff.json_value(line, "resource", "type") == "cloudsql_database":
            return "cloudsql"
        text = sniff.json_value(line, "message") or sniff.json_value(line, "log")
        return "shipped" if isinstance(text, str) and _STDERR.match(text) else None
    if _SYSLOG.match(line):
        return "syslog"
    if _STDERR.match(line):
        return "stderr"
    return "csvlog" if _CSV.match(line) else None


_SHAPES = {
    "stderr": dict(name="postgres", continuation=Continuation(pattern=r"^[\t ]"), sql=("lines", "stderr", "prefix")),
    # without a multiline setting, a shipper sends the further lines of a message as objects of their own
    "shipped": dict(name="postgres_shipped", sql=("shipped", "stderr", "prefix"),
                    continuation=Continuation(pattern=r'"(?:message|log)": ?"\\t')),
    # [n-2], [n-3]... continue message n, unless the part is a DETAIL/HINT/STATEMENT line of its own
    # whole_file: year-less syslog times take the year of their own file's modification time
    "syslog": dict(name="postgres_syslog", sql=("syslog", "prefix"), whole_file=True, continuation=Continuation(
        pattern=_SYSLOG_HEAD + r"(?:[2-9]|[1-9]\d+)\] ", unless=_SYSLOG_HEAD + rf"\d+\] [^\t#\"]{{0,200}}?{_LEVELS}:\s")),
    # Cloud Logging gets each line of a message as an entry of its own: the further lines start with a tab
    "cloudsql": dict(name="postgres_cloudsql", continuation=Continuation(pattern=r'"textPayload": ?"\\t'), sql=("cloudsql", "prefix")),
    "csvlog": dict(name="postgres_csvlog", continuation=Continuation(quotes=True), sql=("csvlog",)),
    "jsonlog": dict(name="postgres_jsonlog", sql=("jsonlog",)),
}


@lru_cache(maxsize=None)
def _format(shape: str) -> Format:
    spec = dict(_SHAPES[shape])
    sql = "".join(load_sql(f"postgres_{part}") for part in spec.pop("sql")) + load_sql("postgres")
    return Format(channel="database", sql=sql, looks_like=lambda line: _shape(line) is not None,
                  description="PostgreSQL server log (stderr, syslog, csvlog, jsonlog, Cloud SQL, shipped JSON) with pgaudit", **spec)


def _specialize(head: str) -> Format:
    """The shape most of the head's lines have."""
    shapes = [s for s in map(_shape, head.splitlines()[:200]) if s]
    return _format(max(_SHAPES, key=shapes.count) if shapes else "stderr")


FORMAT = replace(_format("stderr"), specialize=_specialize)
