-- NCSA combined and common access logs (nginx `log_format combined`, Apache `%h %l %u %t "%r" %>s %b`).
-- Fields appended after the user agent (request time, X-Forwarded-For) are ignored.
-- The fields are those of the regular expression below. Extracting submatches is slow in any regex engine,
-- so lines of the usual shape (no backslash escapes, quotes only around the request, referrer and user
-- agent) are cut at their quotes and spaces instead; full-match checks on the pieces make sure the cut
-- gives exactly what the expression would. Other lines go through the expression itself.
WITH s AS (
  SELECT line_no, line, string_split(line, '"') AS q FROM batch
), c AS (
  SELECT line_no, line, q, string_split(q[1], ' ') AS t, split_part(q[3], ' ', 3) AS b,
    NOT contains(line, '\') AND len(q) >= 3
      AND regexp_full_match(q[1], '\S+ \S+ \S+ \[[^\]]+\] ')
      AND regexp_full_match(q[3], ' \d{3} (?:\d+|-)(?: .*)?') AS fast
  FROM s
), x AS (
  SELECT line_no, fast, q, t, b,
    CASE WHEN NOT fast THEN regexp_extract(line,
      '^(\S+) (\S+) (\S+) \[([^\]]+)\] "((?:[^"\\]|\\.)*)" (\d{3}) (\d+|-)(?: "((?:[^"\\]|\\.)*)" "((?:[^"\\]|\\.)*)")?',
      ['ip', 'ident', 'user', 'ts', 'request', 'status', 'bytes', 'referrer', 'ua']) END AS rx,
    fast AND len(q) >= 7 AND q[5] = ' ' AND length(q[3]) = length(b) + 6 AND ends_with(q[3], ' ') AS has_ref,
    CASE WHEN fast THEN length(t[1]) + length(t[2]) + length(t[3]) END AS abc
  FROM c
), p AS (
  SELECT line_no,
    CASE WHEN fast THEN t[1] ELSE rx.ip END AS ip,
    CASE WHEN fast THEN t[3] ELSE rx.user END AS "user",
    CASE WHEN fast THEN substr(q[1], abc + 5, length(q[1]) - abc - 6) ELSE rx.ts END AS ts,
    CASE WHEN fast THEN q[2] ELSE rx.request END AS request,
    CASE WHEN fast THEN substr(q[3], 2, 3) ELSE rx.status END AS status,
    CASE WHEN fast THEN b ELSE rx.bytes END AS bytes,
    CASE WHEN has_ref THEN q[4] WHEN fast THEN '' ELSE rx.referrer END AS referrer,
    CASE WHEN has_ref THEN q[6] WHEN fast THEN '' ELSE rx.ua END AS ua
  FROM x
), q AS (
  SELECT *, regexp_full_match(request, '[A-Z]+ \S+(?: HTTP/[0-9.]+)?') AS ok_req
  FROM p
), w AS (  -- a well-formed request has single spaces: split once, not once per part
  SELECT *, CASE WHEN ok_req THEN string_split(request, ' ') END AS rq FROM q
), r AS (
  SELECT *,
    CASE WHEN ok_req THEN rq[1] ELSE '' END AS method,
    CASE WHEN ok_req THEN rq[2] ELSE '' END AS target,
    CASE WHEN ok_req THEN coalesce(rq[3], '') ELSE '' END AS proto
  FROM w
)
SELECT
  line_no,
  CASE WHEN ip = '' THEN 'not an access log line' END AS _error,
  try_strptime(ts, '%d/%b/%Y:%H:%M:%S %z') AS time,
  'HTTP Activity' AS class_name,
  CASE WHEN method = '' THEN 'malformed_request' ELSE lower(method) END AS activity,
  CASE WHEN try_cast(status AS INTEGER) < 400 THEN 'success' ELSE 'failure' END AS outcome,
  status AS event_code,
  ip AS src_ip,
  CASE WHEN "user" NOT IN ('-', '') THEN "user" END AS user_name,
  nullif(method, '') AS http_method,
  CASE WHEN target = '' THEN request ELSE split_part(target, '?', 1) END AS url_path,
  CASE WHEN contains(target, '?') THEN substr(target, strpos(target, '?') + 1) END AS url_query,
  nullif(proto, '') AS protocol,
  try_cast(status AS INTEGER) AS http_status,
  try_cast(bytes AS BIGINT) AS bytes_in,
  CASE WHEN referrer NOT IN ('-', '') THEN referrer END AS referrer,
  CASE WHEN ua NOT IN ('-', '') THEN ua END AS user_agent
FROM r
