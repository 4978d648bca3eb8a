"""PostgreSQL server log (stderr format) with pgaudit session and object audit lines."""

import re

from storewatch.ingest.formats.base import Format, load_sql

_LINE = re.compile(r"^\d{4}-\d\d-\d\d \d\d:\d\d:\d\d(?:\.\d+)?(?: [A-Za-z]{2,5}|[+-]\d\d(?::?\d\d)?)? \[\d+\].*?(?:LOG|ERROR|WARNING|FATAL|STATEMENT|DETAIL):  ")

FORMAT = Format(name="postgres", channel="database", sql=load_sql("postgres"), looks_like=lambda line: bool(_LINE.match(line)),
                description="PostgreSQL log with pgaudit", whole_file=True)
