-- PostgreSQL stderr log (log_destination = stderr, what logging_collector writes), any log_line_prefix
-- that starts with a timestamp (%m, %t; %n is not read): the timestamp, then whatever tokens the prefix
-- has, then `LEVEL:  ` (postgres_prefix.sql reads the tokens). A message's further lines, which the server
-- indents with a tab, arrive joined to it by the reader. The text comes from `src` (postgres_lines.sql:
-- the line itself; postgres_shipped.sql: the line a shipper wrapped in JSON).
, r AS (
  SELECT line_no, line, regexp_extract(text,
    '(?s)^[<\[( ]{0,3}(\d{4}-\d\d-\d\d[ T]\d\d:\d\d:\d\d(?:[.,]\d+)?(?: ?(?:[A-Za-z]{1,6}\b|[+-]\d\d(?::?\d\d)?))?)((?:.*?[\s:\]>)|\-])?)(DEBUG[1-5]?|INFO|NOTICE|WARNING|ERROR|LOG|FATAL|PANIC|STATEMENT|DETAIL|HINT|CONTEXT|QUERY|LOCATION):\s+(.*)$',
    ['ts', 'prefix', 'level', 'msg']) AS r
  FROM src
), s AS (
  SELECT line_no, line, r.ts <> '' AS line_ok, r.ts, r.prefix, r.level,
    replace(r.msg, chr(10) || chr(9), chr(10)) AS msg,  -- the server's tab after each newline is not the message's
    NULL::VARCHAR AS pid
  FROM r
)
