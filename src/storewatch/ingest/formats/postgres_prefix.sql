-- The session fields a text log_line_prefix carries, read wherever they sit and whatever their order, by
-- the shape of each token: `user=`/`usr=`, `db=`/`database=`, `app=`/`application=`, `client=`/`host=`,
-- `user@db` (Debian's '%m [%p] %q%u@%d '), `[pid]` or `[pid-line]`, `host(port)` (AWS RDS
-- '%t:%r:%u@%d:[%p]:'), a bare address followed by user and database ('%m %h %u %d [%p] '), `queryid=`,
-- Heroku's `sql_error_code = `.
, pg AS (
  SELECT line_no, line, line_ok, ts, level, msg,
    coalesce(pid, nullif(regexp_extract(prefix, '\[(\d+)(?:-\d+)?\]', 1), '')) AS pid,
    coalesce(nullif(regexp_extract(prefix, '\b(?:user|usr)=([^,\s]*)', 1), ''),
             nullif(regexp_extract(prefix, '(?:^|[\s:])([^\s:@\[\]]+|\[unknown\])@', 1), ''),
             nullif(regexp_extract(prefix, '(?:\d{1,3}(?:\.\d{1,3}){3}|[0-9a-fA-F]*:[0-9a-fA-F:]+)\s+([^\s\[\]=@:,]+)\s+[^\s\[\]=@:,]+\s+\[\d+\]', 1), '')) AS user_name,
    coalesce(nullif(regexp_extract(prefix, '\b(?:db|database)=([^,\s]*)', 1), ''),
             nullif(regexp_extract(prefix, '@([^\s:@]+)', 1), ''),
             nullif(regexp_extract(prefix, '(?:\d{1,3}(?:\.\d{1,3}){3}|[0-9a-fA-F]*:[0-9a-fA-F:]+)\s+[^\s\[\]=@:,]+\s+([^\s\[\]=@:,]+)\s+\[\d+\]', 1), '')) AS db,
    nullif(trim(regexp_extract(prefix, '\b(?:app|appli|application)=([^,]*)', 1)), '') AS app,
    coalesce(nullif(regexp_extract(prefix, '\b(?:client|host)=([^,\s]*)', 1), ''),
             nullif(regexp_extract(prefix, '([0-9A-Za-z.:_\-]+|\[local\])\(\d+\)', 1), ''),
             nullif(regexp_extract(prefix, '(?:^|[\s:])(\d{1,3}(?:\.\d{1,3}){3}|[0-9a-fA-F]*:[0-9a-fA-F]*:[0-9a-fA-F:.]+|\[local\])(?:[\s:]|$)', 1), '')) AS client,
    nullif(regexp_extract(prefix, '\((\d+)\)', 1), '') AS client_port,
    nullif(regexp_extract(prefix, '\bsql_error_code = (\w{5})', 1), '') AS sqlstate, NULL::VARCHAR AS detail, NULL::VARCHAR AS stmt, NULL::VARCHAR AS session_id,
    NULL::VARCHAR AS backend_type, nullif(regexp_extract(prefix, '\bquery_?id=(-?\d+)', 1), '') AS query_id
  FROM s
)
