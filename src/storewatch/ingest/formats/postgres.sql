-- The messages of a PostgreSQL server log, whichever shape it came in (stderr, syslog, csvlog, jsonlog,
-- Cloud SQL: the shape's own query, postgres_<shape>.sql, then postgres_prefix.sql for the shapes with a
-- text prefix, come first and yield `pg`, one row per record, with the record's time text, level, message
-- and the session fields it carries).
-- pgaudit: AUDIT: type,statement_id,substatement_id,class,command,object_type,object_name,statement,parameter[,rows]
-- log_connections / log_disconnections, authentication failures, log_statement ("statement: ...",
-- "execute name: ..."), log_min_duration_statement ("duration: 12.3 ms  statement: ..."), and the
-- STATEMENT line the server writes after an error.
, m AS (
  SELECT *,
    regexp_extract(msg, '(?s)^AUDIT: (SESSION|OBJECT),(\d+),(\d+),([A-Z ]+),([A-Z ]*),([^,]*),([^,]*),("(?:[^"]|"")*(?:"|$)|[^,]*)(?:,(.*))?$',
      ['type', 'sid', 'ssid', 'class', 'command', 'otype', 'oname', 'stmt', 'rest']) AS au,
    regexp_extract(msg, '^(?:[\w-]+ )?authentication failed for user "([^"]*)"', 1) AS pwfail,  -- password, Ident, LDAP, certificate...
    regexp_extract(msg, '^no pg_hba\.conf entry for (?:replication connection from )?host "([^"]*)", user "([^"]*)"(?:, database "([^"]*)")?',
      ['host', 'user', 'db']) AS hba,
    CASE WHEN level = 'FATAL' THEN regexp_extract(msg, '^role "([^"]*)" does not exist', 1) ELSE '' END AS norole,
    regexp_extract(msg, '^connection received: host=(\S+)(?: port=(\d+))?', ['host', 'port']) AS conn,
    regexp_extract(msg, '^connection authorized: user=(\S+)(?: database=(\S+))?(?: application_name=(.*?))?(?: SSL |$)', ['user', 'db', 'app']) AS authz,
    regexp_extract(msg, '^connection authenticated: identity="([^"]*)" method=(\S+)', ['identity', 'method']) AS authn,  -- PostgreSQL 14+
    regexp_extract(msg, '^disconnection: session time: (\d+):(\d\d):(\d\d(?:\.\d+)?) user=(\S*) database=(\S*) host=(\S*)(?: port=(\d+))?',
      ['h', 'm', 's', 'user', 'db', 'host', 'port']) AS disc,
    regexp_extract(msg, '(?s)^(?:duration: (\d+(?:\.\d+)?) ms\s*)?(?:(statement|execute|parse|bind)(?: [^:\n]*)?: (.*))?$', ['ms', 'kind', 'stmt']) AS st
  FROM pg
), t AS (
  SELECT *,
    CASE WHEN au.type <> '' THEN replace(regexp_replace(au.stmt, '^"|"$', '', 'g'), '""', '"')
         WHEN level = 'STATEMENT' THEN msg
         WHEN st.kind <> '' THEN nullif(trim(st.stmt), '')
         ELSE stmt END AS q,
    pwfail <> '' OR hba.user <> '' OR norole <> '' AS authfail,
    coalesce(nullif(conn.host, ''), nullif(disc.host, ''), nullif(hba.host, ''), client) AS peer,
    CASE WHEN line_ok THEN sw_time(ts) END AS ts0
  FROM m
), u AS (  -- the client is an address (IPv4, IPv6), or `[local]` (a Unix socket) or a host name (log_hostname)
  SELECT *, regexp_matches(coalesce(peer, ''), '^(\d{1,3}(\.\d{1,3}){3}|[0-9A-Fa-f]*:[0-9A-Fa-f:.]*:[0-9A-Fa-f:.]*)$') AS peer_is_ip
  FROM t
)
SELECT
  line_no,
  CASE WHEN NOT line_ok THEN 'not a PostgreSQL log record' WHEN ts0 IS NULL THEN 'unreadable time: ' || ts END AS _error,
  ts0 AS time,
  CASE WHEN authfail OR authz.user <> '' OR authn.method <> '' OR disc.h <> '' THEN 'Authentication' ELSE 'Datastore Activity' END AS class_name,
  CASE WHEN au.type <> '' THEN lower(coalesce(nullif(au.command, ''), au.class))
       WHEN authfail OR authz.user <> '' THEN 'logon'
       WHEN authn.method <> '' THEN 'authenticate'  -- the same session's `connection authorized` is its logon
       WHEN disc.h <> '' THEN 'logoff'
       WHEN conn.host <> '' THEN 'connect'
       WHEN q IS NOT NULL THEN coalesce(nullif(lower(regexp_extract(q, '^[\s(]*([A-Za-z]+)', 1)), ''), 'query')
       ELSE 'log' END AS activity,
  CASE WHEN authfail OR level IN ('ERROR', 'FATAL', 'PANIC') THEN 'failure'
       WHEN au.type <> '' OR authz.user <> '' OR authn.method <> '' OR disc.h <> '' OR (q IS NOT NULL AND level = 'LOG') THEN 'success'
       ELSE 'unknown' END AS outcome,
  CASE WHEN au.type <> '' THEN au.class ELSE nullif(level, '') END AS reason,
  CASE WHEN au.type <> '' THEN 'AUDIT ' || au.class ELSE nullif(level, '') END AS event_code,
  nullif(nullif(trim(coalesce(nullif(pwfail, ''), nullif(hba.user, ''), nullif(norole, ''), nullif(authz.user, ''),
                              nullif(disc.user, ''), user_name), '[]'), 'unknown'), '') AS user_name,
  nullif(nullif(trim(coalesce(nullif(authz.db, ''), nullif(disc.db, ''), nullif(hba.db, ''), db), '[]'), 'unknown'), '') AS db_name,
  CASE WHEN peer_is_ip THEN peer END AS src_ip,
  try_cast(coalesce(nullif(conn.port, ''), nullif(disc.port, ''), client_port) AS INTEGER) AS src_port,
  'postgresql' AS protocol,
  q AS query,
  CASE WHEN disc.h <> '' THEN try_cast(disc.h AS DOUBLE) * 3600 + try_cast(disc.m AS DOUBLE) * 60 + try_cast(disc.s AS DOUBLE)
       WHEN st.ms <> '' THEN try_cast(st.ms AS DOUBLE) / 1000 END AS duration,
  msg AS message,
  json_object('pid', pid, 'audit_type', nullif(au.type, ''), 'object_type', nullif(au.otype, ''),
              'object_name', nullif(au.oname, ''),
              'rows', try_cast(regexp_extract(au.rest, ',(\d+)$', 1) AS BIGINT),
              'application', coalesce(nullif(authz.app, ''), app),
              'auth_method', nullif(authn.method, ''), 'identity', nullif(authn.identity, ''),
              'client', CASE WHEN NOT peer_is_ip THEN peer END,
              'sqlstate', sqlstate, 'detail', detail, 'session_id', session_id, 'backend_type', backend_type,
              'query_id', query_id,
              'time_note', CASE WHEN sw_tz_unknown(ts) IS NOT NULL THEN 'unknown time zone ' || sw_tz_unknown(ts) || ': read in --tz' END) AS attributes
FROM u
