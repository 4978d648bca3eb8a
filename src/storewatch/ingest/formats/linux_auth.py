"""Linux authentication syslog (auth.log, secure): sshd logins, sudo, PAM."""

import re

from storewatch.ingest.formats.base import Format, load_sql

_LINE = re.compile(
    r"^(?:<\d+>\d? ?)?(?:[A-Z][a-z]{2} +\d{1,2} \d\d:\d\d:\d\d|\d{4}-\d\d-\d\d[T ]\d\d:\d\d:\d\d\S*) \S+ [^\s\[:]+(?:\[\d+\])?: "
)

# PostgreSQL's own syslog lines (`postgres[pid]: [n-k] ...`, the server's line numbering) are the postgres
# format's: a file of them with a few other daemons' lines is a PostgreSQL log, not an auth log.
_POSTGRES = re.compile(r"^\S.{0,80}? [^\s\[:]+\[[^\]\s]*\]:? (?:\[[A-Z_]+\] )?\[\d+-\d+\] ")

FORMAT = Format(name="linux_auth", channel="endpoint", sql=load_sql("linux_auth"),
                looks_like=lambda line: bool(_LINE.match(line)) and not _POSTGRES.match(line),
                description="Linux auth.log / syslog", whole_file=True)
