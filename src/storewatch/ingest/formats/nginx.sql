-- NCSA access logs: nginx `combined`/`main`, Apache `common`/`combined`/`vhost_combined`, and the variants
-- real servers write (the shapes Filebeat's nginx and apache modules accept):
--   [vhost[:port] ] client[, client...] ident user [time] "request" status bytes ["referrer" "user agent"] [rest]
-- The client field may be an IPv4 or IPv6 address, a host name (Apache's HostnameLookups), or an address
-- list (X-Forwarded-For prepended, quoted or not); `rest` is whatever the log_format appends (nginx
-- `"$http_x_forwarded_for"`, `$request_time $upstream_response_time`, ingress-nginx's fields, `rt=...`).
--
-- The fields are those of the regular expression below. Extracting submatches is slow in any regex engine,
-- so lines of the usual shape (no backslash escapes, quotes only around the request, referrer and user
-- agent, a plain client field) are cut at their quotes and spaces instead; full-match checks on the pieces
-- make sure the cut gives exactly what the expression would. Other lines go through the expression itself,
-- and only they pay for reading address lists and appended fields (CASE evaluates a branch for its rows).
WITH s AS (
  SELECT line_no, line, string_split(line, '"') AS q FROM batch
), c AS (
  SELECT line_no, line, q, string_split(q[1], ' ') AS t, strpos(q[1], ' [') AS lb, split_part(q[3], ' ', 3) AS b,
    NOT contains(line, '\') AND len(q) >= 3
      AND regexp_full_match(q[1], '(?:\S+ )?\S+ \S+ \S+ \[[^\]]+\] ')
      AND regexp_full_match(q[3], ' \d{3} (?:\d+|-)(?: .*)?') AS fast
  FROM s
), x AS (
  SELECT line_no, fast, q, t, b, lb,
    CASE WHEN NOT fast THEN regexp_extract(line,
      '^(.*?) \[(\d\d?/\w{3}/\d{4}:[^\]]*)\] "((?:[^"\\]|\\.)*)" (\d{3}) (\d+|-)(?: "((?:[^"\\]|\\.)*)" "((?:[^"\\]|\\.)*)")?(.*)$',
      ['head', 'ts', 'request', 'status', 'bytes', 'referrer', 'ua', 'rest']) END AS rx,
    fast AND len(q) >= 7 AND q[5] = ' ' AND length(q[3]) = length(b) + 6 AND ends_with(q[3], ' ') AS has_ref
  FROM c
), p AS (
  SELECT line_no, fast, q, t, b, lb, rx, has_ref,
    fast AND (len(t) = 6 OR (len(t) = 7 AND NOT contains(t[1], ','))) AS plain
  FROM x
), f AS (  -- plain client fields (`ip ident user`, after a vhost[:port] or not) come straight from `t`
  SELECT line_no, plain,
    CASE WHEN plain THEN t[len(t) - 5] END AS pclient,
    CASE WHEN plain THEN t[len(t) - 4] END AS pident,
    CASE WHEN plain THEN t[len(t) - 3] END AS puser,
    CASE WHEN plain AND len(t) = 7 THEN t[1] END AS pvhost,
    CASE WHEN NOT plain THEN CASE WHEN fast THEN left(q[1], lb - 1) ELSE rx.head END END AS head,
    CASE WHEN fast THEN substr(q[1], lb + 2, length(q[1]) - lb - 3) ELSE rx.ts END AS ts,
    CASE WHEN fast THEN q[2] ELSE rx.request END AS request,
    CASE WHEN fast THEN substr(q[3], 2, 3) ELSE rx.status END AS status,
    CASE WHEN fast THEN b ELSE rx.bytes END AS bytes,
    CASE WHEN has_ref THEN q[4] WHEN fast THEN '' ELSE regexp_replace(rx.referrer, '\\(["\\])', '\1', 'g') END AS referrer,
    CASE WHEN has_ref THEN q[6] WHEN fast THEN '' ELSE regexp_replace(rx.ua, '\\(["\\])', '\1', 'g') END AS ua,
    CASE WHEN has_ref THEN CASE WHEN len(q) = 7 THEN q[7] ELSE array_to_string(q[7:], '"') END
         WHEN fast THEN substr(q[3], 6 + length(b)) || CASE WHEN len(q) > 3 THEN '"' || array_to_string(q[4:], '"') ELSE '' END
         ELSE rx.rest END AS rest
  FROM p
), h AS (  -- other client fields: the last two words are ident and user, a first word not followed by a
           -- comma is the vhost, the rest an address list (X-Forwarded-For prepended, quoted or not)
  SELECT *, CASE WHEN head IS NOT NULL THEN string_split(head, ' ') END AS hs FROM f
), g AS (
  SELECT *, CASE WHEN len(hs) >= 3 THEN replace(array_to_string(hs[1:len(hs) - 2], ' '), '"', '') END AS cp FROM h
), l AS (
  SELECT *, CASE WHEN regexp_matches(cp, '^[^\s,]+ ') THEN split_part(cp, ' ', 1) END AS gvhost,
    CASE WHEN cp IS NOT NULL THEN regexp_split_to_array(
      CASE WHEN regexp_matches(cp, '^[^\s,]+ ') THEN substr(cp, strpos(cp, ' ') + 1) ELSE cp END, '\s*,\s*|\s+') END AS addrs
  FROM g
), a AS (
  SELECT *,
    CASE WHEN plain THEN pclient
         WHEN addrs IS NOT NULL THEN coalesce(list_filter(addrs, lambda e: sw_is_ip(e) AND NOT sw_private_ip(e))[1],
                                              list_filter(addrs, lambda e: sw_is_ip(e))[1], addrs[1])
         ELSE '' END AS client,
    CASE WHEN plain THEN puser WHEN len(hs) >= 3 THEN hs[len(hs)] ELSE '' END AS "user",
    CASE WHEN plain THEN pident WHEN len(hs) >= 3 THEN hs[len(hs) - 1] ELSE '' END AS ident,
    CASE WHEN plain THEN pvhost ELSE gvhost END AS vhost
  FROM l
), v AS (
  SELECT *, CASE WHEN vhost IS NOT NULL THEN regexp_extract(vhost, '^\[?(.*?)\]?(?::(\d+))?$', ['host', 'port']) END AS vh
  FROM a
), r AS (
  SELECT *, sw_request_parts(request) AS rq, sw_is_ip(client) AS client_ip,
    CASE WHEN rest <> '' THEN regexp_extract(rest, '^ "([0-9A-Fa-f:., ]*[0-9A-Fa-f])"', 1) END AS xff,
    CASE WHEN rest <> '' THEN coalesce(
      nullif(regexp_extract(rest, '(?:^|\s)(?:rt|request_time)="?(\d+(?:\.\d+)?)', 1), ''),
      nullif(regexp_extract(rest, '(?:^|\s)"?(\d+\.\d{3})(?:"|\s|$)', 1), ''),
      (try_cast(nullif(regexp_extract(rest, '\s(\d+)ms$', 1), '') AS DOUBLE) / 1000)::VARCHAR) END AS rt  -- Traefik CLF: `3ms`
  FROM v
)
SELECT
  line_no,
  CASE WHEN client = '' THEN 'not an access log line' END AS _error,
  CASE WHEN NOT sw_hhmm_ok(right(ts, 5)) THEN NULL  -- an offset no zone has
       WHEN length(ts) = 26 THEN try_strptime(ts, '%d/%b/%Y:%H:%M:%S %z')  -- Apache may log milliseconds
       ELSE coalesce(try_strptime(ts, '%d/%b/%Y:%H:%M:%S.%f %z'), try_strptime(ts, '%d/%b/%Y:%H:%M:%S %z')) END AS time,
  'HTTP Activity' AS class_name,
  CASE WHEN rq IS NOT NULL THEN lower(rq[1]) WHEN request IN ('-', '') THEN 'no_request' ELSE 'malformed_request' END AS activity,
  CASE WHEN try_cast(status AS INTEGER) < 400 THEN 'success' ELSE 'failure' END AS outcome,
  status AS event_code,
  CASE WHEN client_ip THEN client END AS src_ip,
  CASE WHEN "user" NOT IN ('-', '') THEN "user" END AS user_name,
  CASE WHEN sw_is_ip(vh.host) THEN vh.host END AS dst_ip,
  try_cast(nullif(vh.port, '') AS INTEGER) AS dst_port,
  rq[1] AS http_method,
  coalesce(sw_url_host(rq[2]), CASE WHEN vh.host <> '' AND NOT sw_is_ip(vh.host) THEN lower(vh.host) END) AS url_host,
  sw_url_path(rq[2]) AS url_path,
  sw_url_query(rq[2]) AS url_query,
  rq[3] AS protocol,
  try_cast(status AS INTEGER) AS http_status,
  try_cast(bytes AS BIGINT) AS bytes_in,
  CASE WHEN referrer NOT IN ('-', '') THEN referrer END AS referrer,
  CASE WHEN ua NOT IN ('-', '') THEN ua END AS user_agent,
  try_cast(rt AS DOUBLE) AS duration,
  CASE WHEN rq IS NULL AND request NOT IN ('-', '') THEN request END AS message,
  CASE WHEN NOT plain OR rest <> '' OR NOT client_ip OR ident <> '-' THEN json_object(
    'client', CASE WHEN NOT client_ip AND client <> '-' THEN client END,
    'forwarded_for', coalesce(CASE WHEN len(addrs) > 1 THEN addrs END, CASE WHEN xff <> '' THEN regexp_split_to_array(xff, '\s*,\s*') END),
    'ident', nullif(ident, '-'),
    'extra', nullif(trim(rest), '')) END AS attributes
FROM r
