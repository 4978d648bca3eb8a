"""nginx and Apache error logs: what the server says about requests it could not serve, and about itself."""

import re

from storewatch.ingest.formats.base import Format, load_sql

_LINE = re.compile(r"^(?:\d{4}/\d\d/\d\d \d\d:\d\d:\d\d \[(?:debug|info|notice|warn|error|crit|alert|emerg)\] \d+#\d+: "
                   r"|\[\w{3} \w{3} \d\d \d\d:\d\d:\d\d(?:\.\d+)? \d{4}\] \[(?:[\w.-]+:)?\w+\] )")

FORMAT = Format(name="web_error", channel="web", sql=load_sql("web_error"), looks_like=lambda line: bool(_LINE.match(line)),
                description="nginx / Apache error log", whole_file=True)
