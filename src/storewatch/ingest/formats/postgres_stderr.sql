-- PostgreSQL stderr log (log_destination = stderr, what logging_collector writes), any log_line_prefix
-- that starts with a timestamp (%m, %t, %n is not read): the timestamp, then whatever tokens the prefix has,
-- then `LEVEL:  `. The tokens are read where they show their kind: `user=` `db=` `app=` `client=`/`host=`
-- (pgBadger's '%t [%p]: [%l-1] user=%u,db=%d,app=%a,client=%h '), `user@db` (Debian's '%m [%p] %q%u@%d '),
-- `[pid]`, `host(port)` (AWS RDS '%t:%r:%u@%d:[%p]:'), and '%m %h %u %d [%p] '. A message's further lines
-- (indented with a tab by the server) arrive joined to it by the reader.
WITH s AS (
  SELECT line_no, line, regexp_extract(line,
    '(?s)^[<\[( ]{0,3}(\d{4}-\d\d-\d\d[ T]\d\d:\d\d:\d\d(?:[.,]\d+)?(?: ?(?:[A-Za-z]{1,6}\b|[+-]\d\d(?::?\d\d)?))?)((?:.*?[\s:\]>)|\-])?)(DEBUG[1-5]?|INFO|NOTICE|WARNING|ERROR|LOG|FATAL|PANIC|STATEMENT|DETAIL|HINT|CONTEXT|QUERY|LOCATION):\s+(.*)$',
    ['ts', 'prefix', 'level', 'msg']) AS r
  FROM batch
), pg AS (
  SELECT line_no, line, r.ts <> '' AS line_ok, r.ts, r.level,
    replace(r.msg, chr(10) || chr(9), chr(10)) AS msg,  -- the server's tab after each newline is not the message's
    nullif(regexp_extract(r.prefix, '\[(\d+)(?:-\d+)?\]', 1), '') AS pid,
    coalesce(nullif(regexp_extract(r.prefix, '\b(?:user|usr)=([^,\s]*)', 1), ''),
             nullif(regexp_extract(r.prefix, '(?:^|[\s:])([^\s:@\[\]]+|\[unknown\])@', 1), ''),
             nullif(regexp_extract(r.prefix, '(?:\d{1,3}(?:\.\d{1,3}){3}|[0-9a-fA-F]*:[0-9a-fA-F:]+)\s+([^\s\[\]=@:,]+)\s+[^\s\[\]=@:,]+\s+\[\d+\]', 1), '')) AS user_name,
    coalesce(nullif(regexp_extract(r.prefix, '\b(?:db|database)=([^,\s]*)', 1), ''),
             nullif(regexp_extract(r.prefix, '@([^\s:@]+)', 1), ''),
             nullif(regexp_extract(r.prefix, '(?:\d{1,3}(?:\.\d{1,3}){3}|[0-9a-fA-F]*:[0-9a-fA-F:]+)\s+[^\s\[\]=@:,]+\s+([^\s\[\]=@:,]+)\s+\[\d+\]', 1), '')) AS db,
    nullif(trim(regexp_extract(r.prefix, '\b(?:app|appli|application)=([^,]*)', 1)), '') AS app,
    coalesce(nullif(regexp_extract(r.prefix, '\b(?:client|host)=([^,\s]*)', 1), ''),
             nullif(regexp_extract(r.prefix, '([0-9A-Za-z.:_\-]+|\[local\])\(\d+\)', 1), ''),
             nullif(regexp_extract(r.prefix, '(?:^|[\s:])(\d{1,3}(?:\.\d{1,3}){3}|[0-9a-fA-F]*:[0-9a-fA-F]*:[0-9a-fA-F:.]+|\[local\])(?:[\s:]|$)', 1), '')) AS client,
    nullif(regexp_extract(r.prefix, '\((\d+)\)', 1), '') AS client_port,
    NULL::VARCHAR AS sqlstate, NULL::VARCHAR AS detail, NULL::VARCHAR AS stmt, NULL::VARCHAR AS session_id,
    NULL::VARCHAR AS backend_type, nullif(regexp_extract(r.prefix, '\bquery_?id=(-?\d+)', 1), '') AS query_id
  FROM s
)
