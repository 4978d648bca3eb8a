-- NCSA combined and common access logs (nginx `log_format combined`, Apache `%h %l %u %t "%r" %>s %b`).
-- Fields appended after the user agent (request time, X-Forwarded-For) are ignored.
WITH p AS (
  SELECT line_no, regexp_extract(line,
    '^(\S+) (\S+) (\S+) \[([^\]]+)\] "((?:[^"\\]|\\.)*)" (\d{3}) (\d+|-)(?: "((?:[^"\\]|\\.)*)" "((?:[^"\\]|\\.)*)")?',
    ['ip', 'ident', 'user', 'ts', 'request', 'status', 'bytes', 'referrer', 'ua']) AS r
  FROM batch
), q AS (
  SELECT line_no, r, regexp_extract(r.request, '^([A-Z]+) (\S+)(?: (HTTP/[0-9.]+))?$', ['method', 'target', 'proto']) AS req
  FROM p
)
SELECT
  line_no,
  CASE WHEN r.ip = '' THEN 'not an access log line' END AS _error,
  try_strptime(r.ts, '%d/%b/%Y:%H:%M:%S %z') AS time,
  'HTTP Activity' AS class_name,
  CASE WHEN req.method = '' THEN 'malformed_request' ELSE lower(req.method) END AS activity,
  CASE WHEN try_cast(r.status AS INTEGER) < 400 THEN 'success' ELSE 'failure' END AS outcome,
  r.status AS event_code,
  r.ip AS src_ip,
  CASE WHEN r.user NOT IN ('-', '') THEN r.user END AS user_name,
  nullif(req.method, '') AS http_method,
  CASE WHEN req.target = '' THEN r.request ELSE split_part(req.target, '?', 1) END AS url_path,
  CASE WHEN contains(req.target, '?') THEN substr(req.target, strpos(req.target, '?') + 1) END AS url_query,
  nullif(req.proto, '') AS protocol,
  try_cast(r.status AS INTEGER) AS http_status,
  try_cast(r.bytes AS BIGINT) AS bytes_in,
  CASE WHEN r.referrer NOT IN ('-', '') THEN r.referrer END AS referrer,
  CASE WHEN r.ua NOT IN ('-', '') THEN r.ua END AS user_agent
FROM q
