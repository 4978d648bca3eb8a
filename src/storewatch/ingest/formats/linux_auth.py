"""Linux authentication syslog (auth.log, secure): sshd logins, sudo, PAM."""

import re

from storewatch.ingest.formats.base import Format, load_sql

_LINE = re.compile(
    r"^(?:<\d+>\d? ?)?(?:[A-Z][a-z]{2} +\d{1,2} \d\d:\d\d:\d\d|\d{4}-\d\d-\d\d[T ]\d\d:\d\d:\d\d\S*) \S+ [^\s\[:]+(?:\[\d+\])?: "
)

FORMAT = Format(name="linux_auth", channel="endpoint", sql=load_sql("linux_auth"), looks_like=lambda line: bool(_LINE.match(line)),
                description="Linux auth.log / syslog", whole_file=True)
