"""Web server access logs in the NCSA combined or common format and their variants (nginx, Apache with
`vhost_combined`, address lists, appended fields; most CDNs' exports)."""

import re

from storewatch.ingest.formats.base import Format, load_sql

# Anything before `ip ident user [time] "` (a vhost, an X-Forwarded-For list) is allowed.
_LINE = re.compile(r'^(?:[^\[]{0,300} )?\S+ \S+ \S+ \[\d{1,2}/\w{3}/\d{4}:\d\d:\d\d:\d\d(?:\.\d+)? [+-]\d{4}\] "')

FORMAT = Format(name="nginx", channel="web", sql=load_sql("nginx"), looks_like=lambda line: bool(_LINE.match(line)),
                description="NCSA combined/common access log")
