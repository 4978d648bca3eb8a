"""Linux authentication syslog (auth.log, secure): sshd logins, sudo, su, pkexec, PAM.

One format for every shape the systems and shippers write (BSD syslog, RFC 3339 and RFC 5424 lines,
journald's JSON export, Fluent Bit and Vector syslog JSON): each shape is cut into (time, host, program,
pid, message) and one SQL part parses the message, so an sshd line reads the same however it came.
"""

import re

from storewatch.ingest.formats.base import Format, load_sql
from storewatch.ingest.reader import Continuation
from storewatch.ingest.sniff import json_keys, json_value

_LINE = re.compile(
    r"^(?:<\d{1,3}>\d? ?)?(?:[A-Z][a-z]{2} +\d{1,2} \d\d:\d\d:\d\d(?:\.\d+)?|\d{4}-\d\d-\d\d[T ]\d\d:\d\d:\d\d\S*) (?:\S+ )?[^\s\[:]+(?:\[\d+\])?: "
)
_RFC5424 = re.compile(r"^<\d{1,3}>\d{1,2} (?:\d{4}-\d\d-\d\dT\S+|-) \S+ \S+ \S+ \S+ (?:-|\[)")
# JSON records: journald's export fields, or a syslog record as Fluent Bit (ident) or Vector (appname) ship it.
_JOURNALD = frozenset({"__REALTIME_TIMESTAMP", "SYSLOG_IDENTIFIER", "_COMM", "_HOSTNAME"})
_SHIPPED = frozenset({"ident", "appname", "programname"})

# PostgreSQL's own syslog lines (`postgres[pid]: [n-k] ...`, the server's line numbering) are the postgres
# format's: a file of them with a few other daemons' lines is a PostgreSQL log, not an auth log.
_POSTGRES = re.compile(r"^\S.{0,80}? [^\s\[:]+\[[^\]\s]*\]:? (?:\[[A-Z_]+\] )?\[\d+-\d+\] ")


def looks_like(line: str) -> bool:
    if line.startswith("{"):
        keys = json_keys(line)
        if ({"MESSAGE", "message"} & keys and keys & _JOURNALD) or ({"message", "msg"} & keys and keys & _SHIPPED):
            return True
        wrapped = json_value(line, "message") or json_value(line, "log")  # a whole line forwarded by a shipper
        return isinstance(wrapped, str) and _is_line(wrapped)
    return _is_line(line)


def _is_line(text: str) -> bool:
    return bool(_LINE.match(text) or _RFC5424.match(text)) and not _POSTGRES.match(text)


FORMAT = Format(name="linux_auth", channel="endpoint", sql=load_sql("linux_auth"), looks_like=looks_like,
                description="Linux auth.log / secure / syslog, RFC 5424, journald JSON, Fluent Bit / Vector syslog JSON",
                # journalctl's text output frames entries with `-- Boot ... --` / `-- No entries --` lines
                ignore=r"^-- .* --$|^-- No entries --$", whole_file=True,
                # a message of several lines (macOS syslogd, a kernel trace, rsyslog with escaping off) goes on
                # in lines indented with a tab or spaces: one record, as the program logged it
                continuation=Continuation(pattern=r"^[\t ]"))
