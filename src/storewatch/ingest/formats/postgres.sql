-- PostgreSQL stderr log (log_line_prefix '%m [%p] ' optionally followed by '%u@%d ' or 'user=%u,db=%d ')
-- with pgaudit lines: AUDIT: type,statement_id,substatement_id,class,command,object_type,object_name,statement,parameter[,rows]
-- Indented lines continue the previous record's statement; they are kept as their own records.
WITH p AS (
  SELECT line_no, line, regexp_extract(line,
    '^(\d{4}-\d\d-\d\d \d\d:\d\d:\d\d(?:\.\d+)?(?: [A-Za-z]{2,5}|[+-]\d\d(?::?\d\d)?)?) \[(\d+)\](?:[:\-\d\]\[ ]*)?(?:(?:user=)?([\w.\-\[\]]*)(?:@|,db=)([\w.\-\[\]]*)[ ,]*)?\s*(LOG|ERROR|WARNING|FATAL|PANIC|STATEMENT|DETAIL|HINT|NOTICE|INFO|CONTEXT|DEBUG\d?):\s+(.*)$',
    ['ts', 'pid', 'user', 'db', 'level', 'msg']) AS r
  FROM batch
), a AS (
  SELECT *,
    regexp_extract(r.msg, '^AUDIT: (SESSION|OBJECT),(\d+),(\d+),([A-Z ]+),([A-Z ]*),([^,]*),([^,]*),("(?:[^"]|"")*(?:"|$)|[^,]*)(?:,(.*))?$',
      ['type', 'sid', 'ssid', 'class', 'command', 'otype', 'oname', 'stmt', 'rest']) AS au,
    regexp_extract(r.msg, 'password authentication failed for user "([^"]*)"', 1) AS pwfail,
    regexp_extract(r.msg, '^connection received: host=(\S+)(?: port=(\d+))?', ['host', 'port']) AS conn,
    regexp_extract(r.msg, '^connection authorized: user=(\S+) database=(\S+)', ['user', 'db']) AS authz,
    r.ts = '' AND regexp_matches(line, '^\s') AS cont
  FROM p
), t AS (
  SELECT *, CASE WHEN r.ts <> '' THEN sw_time(r.ts) END AS ts0 FROM a
)
SELECT
  line_no,
  CASE WHEN r.ts = '' AND NOT cont THEN 'not a PostgreSQL log line' END AS _error,
  CASE WHEN cont THEN last_value(ts0 IGNORE NULLS) OVER (ORDER BY line_no ROWS BETWEEN UNBOUNDED PRECEDING AND CURRENT ROW) ELSE ts0 END AS time,
  CASE WHEN pwfail <> '' OR authz.user <> '' THEN 'Authentication' ELSE 'Datastore Activity' END AS class_name,
  CASE WHEN au.type <> '' THEN lower(coalesce(nullif(au.command, ''), au.class))
       WHEN pwfail <> '' OR authz.user <> '' THEN 'logon'
       WHEN conn.host <> '' THEN 'connect'
       WHEN cont THEN 'continuation'
       ELSE 'log' END AS activity,
  CASE WHEN pwfail <> '' OR r.level IN ('ERROR', 'FATAL', 'PANIC') THEN 'failure'
       WHEN au.type <> '' OR authz.user <> '' THEN 'success' ELSE 'unknown' END AS outcome,
  CASE WHEN au.type <> '' THEN au.class ELSE nullif(r.level, '') END AS reason,
  CASE WHEN au.type <> '' THEN 'AUDIT ' || au.class ELSE nullif(r.level, '') END AS event_code,
  nullif(coalesce(nullif(pwfail, ''), nullif(authz.user, ''), nullif(trim(r.user, '[]'), 'unknown')), '') AS user_name,
  nullif(coalesce(nullif(authz.db, ''), nullif(trim(r.db, '[]'), 'unknown')), '') AS db_name,
  nullif(conn.host, '') AS src_ip,
  try_cast(nullif(conn.port, '') AS INTEGER) AS src_port,
  'postgresql' AS protocol,
  CASE WHEN au.type <> '' THEN replace(regexp_replace(au.stmt, '^"|"$', '', 'g'), '""', '"')
       WHEN r.level = 'STATEMENT' THEN r.msg END AS query,
  CASE WHEN cont THEN line ELSE r.msg END AS message,
  json_object('pid', nullif(r.pid, ''), 'audit_type', nullif(au.type, ''), 'object_type', nullif(au.otype, ''),
              'object_name', nullif(au.oname, ''),
              'rows', try_cast(regexp_extract(au.rest, ',(\d+)$', 1) AS BIGINT)) AS attributes
FROM t
