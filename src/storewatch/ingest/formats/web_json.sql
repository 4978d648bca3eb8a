-- Access logs written as JSON lines, one mapping for the shapes servers and shippers write:
--   nginx `log_format ... escape=json` with the nginx variable names (remote_addr, time_local or
--     time_iso8601, request or request_method + request_uri, status, body_bytes_sent, http_referer,
--     http_user_agent, request_time, http_x_forwarded_for, host / server_name ...);
--   Caddy's structured access log (logger http.log.access*: request.remote_ip, request.headers, ts, duration);
--   Traefik's JSON access log (ClientHost, RequestMethod, RequestPath, DownstreamStatus, Duration in ns, StartUTC);
--   ECS documents from Filebeat / Elastic Agent (source.ip, http.request.method, url.original, ...), nested
--     or with dotted keys; when such a document only carries the raw line in `message`, the line is read by
--     the NCSA mapping (nginx.sql), or the error-log mapping (web_error.sql) for an error-log line, both
--     spliced in below by web_json.py, so a shipped line gives the same columns as the file.
-- Every value is read with one JSON parse per line: `v[i]` is the i-th path of the list below.
WITH j AS (
  SELECT line_no, line, json_valid(line) AS ok,
    CASE WHEN json_valid(line) THEN json_extract_string(line, [
      '$.remote_addr', '$.request.client_ip', '$.request.remote_ip', '$.ClientHost', '$.source.ip', '$."source.ip"', -- 1-6
      '$.client.ip', '$."client.ip"', '$.remote_port', '$.request.remote_port', '$.ClientPort', '$.source.port',     -- 7-12
      '$."source.port"', '$.remote_user', '$.user_id', '$.ClientUsername', '$.user.name', '$."user.name"',          -- 13-18
      '$.request_method', '$.request.method', '$.RequestMethod', '$.http.request.method', '$."http.request.method"', -- 19-23
      '$.request_uri', '$.request.uri', '$.RequestPath', '$.url.original', '$."url.original"', '$.uri',             -- 24-29
      '$.request', '$.server_protocol', '$.request.proto', '$.RequestProtocol', '$.http.version', '$."http.version"', -- 30-35
      '$.host', '$.http_host', '$.server_name', '$.request.host', '$.RequestHost', '$.url.domain', '$."url.domain"', -- 36-42
      '$.status', '$.DownstreamStatus', '$.http.response.status_code', '$."http.response.status_code"',             -- 43-46
      '$.body_bytes_sent', '$.bytes_sent', '$.size', '$.DownstreamContentSize', '$.http.response.body.bytes',       -- 47-51
      '$."http.response.body.bytes"', '$.request_length', '$.bytes_read', '$.RequestContentSize',                    -- 52-55
      '$.http.request.body.bytes', '$."http.request.body.bytes"', '$.http_referer', '$.http_referrer',              -- 56-59
      '$.request.headers.Referer[0]', '$."request_Referer"', '$.http.request.referrer', '$."http.request.referrer"', -- 60-63
      '$.http_user_agent', '$.request.headers."User-Agent"[0]', '$."request_User-Agent"', '$.user_agent.original',  -- 64-67
      '$."user_agent.original"', '$.request_time', '$.duration', '$.Duration', '$.event.duration',                   -- 68-72
      '$."event.duration"', '$.time_iso8601', '$.time_local', '$.ts', '$.StartUTC', '$."@timestamp"',               -- 73-78
      '$.time', '$.timestamp', '$.msec', '$.http_x_forwarded_for', '$.request.headers."X-Forwarded-For"[0]',        -- 79-83
      '$."request_X-Forwarded-For"', '$.message', '$.logger', '$.upstream_addr', '$.upstream_response_time',         -- 84-88
      '$.ServiceName', '$.RouterName', '$.args', '$.query_string', '$.url.query', '$."url.query"', '$.url.path',    -- 89-95
      '$."url.path"'                                                                                                -- 96
    ]) END AS v
  FROM batch
), k AS (
  SELECT *,
    coalesce(v[1], v[2], v[3], v[4], v[5], v[6], v[7], v[8]) AS client,
    coalesce(v[19], v[20], v[21], v[22], v[23]) AS method0,
    coalesce(v[24], v[25], v[26], v[27], v[28]) AS target0,
    coalesce(v[43], v[44], v[45], v[46]) AS status
  FROM j
), raw AS (  -- documents that carry only the raw line: read by the NCSA or the error-log mapping
  SELECT line_no, v[85] AS line,
    regexp_matches(v[85], '^(?:\d{4}/\d\d/\d\d \d\d:\d\d:\d\d \[\w+\] \d+#\d+: |\[\w{3} \w{3} \d\d \d\d:\d\d:\d\d)') AS is_error
  FROM k WHERE ok AND client IS NULL AND method0 IS NULL AND status IS NULL AND v[85] IS NOT NULL
), m AS (
  SELECT line_no, line FROM raw WHERE NOT is_error
), me AS (
  SELECT line_no, line FROM raw WHERE is_error
), ncsa AS (
  {ncsa}
), errors AS (
  {web_error}
), s AS (
  SELECT *, sw_request_parts(v[30]) AS rq FROM k WHERE NOT ok OR line_no NOT IN (SELECT line_no FROM raw)
), t AS (
  SELECT *,
    coalesce(method0, rq[1]) AS method,
    coalesce(target0, rq[2], v[29] || coalesce('?' || nullif(coalesce(v[91], v[92]), ''), ''),
             coalesce(v[95], v[96]) || coalesce('?' || coalesce(v[93], v[94]), '')) AS target,
    CASE WHEN v[34] IS NOT NULL OR v[35] IS NOT NULL THEN 'HTTP/' || coalesce(v[34], v[35])
         ELSE coalesce(v[31], v[32], v[33], rq[3]) END AS protocol
  FROM s
)
SELECT
  line_no,
  CASE WHEN NOT ok THEN 'invalid JSON'
       WHEN client IS NULL AND method IS NULL AND status IS NULL THEN 'not a web access log record' END AS _error,
  CASE WHEN v[74] IS NOT NULL THEN sw_time(v[74])
       WHEN v[75] IS NOT NULL THEN CASE WHEN sw_hhmm_ok(right(v[75], 5)) THEN try_strptime(v[75], '%d/%b/%Y:%H:%M:%S %z') END
       WHEN try_cast(v[76] AS DOUBLE) IS NOT NULL THEN sw_epoch(v[76])
       WHEN try_cast(v[81] AS DOUBLE) IS NOT NULL THEN sw_epoch(v[81])
       ELSE sw_time(coalesce(v[76], v[77], v[78], v[79], v[80])) END AS time,
  'HTTP Activity' AS class_name,
  CASE WHEN method IS NOT NULL THEN lower(method) WHEN coalesce(v[30], '') IN ('', '-') THEN 'no_request' ELSE 'malformed_request' END AS activity,
  CASE WHEN try_cast(status AS INTEGER) < 400 THEN 'success' ELSE 'failure' END AS outcome,
  status AS event_code,
  CASE WHEN sw_is_ip(client) THEN client END AS src_ip,
  -- Caddy behind a trusted proxy: client_ip is the client the proxy named, remote_ip/remote_port the proxy's
  -- own connection, whose port is not the client's
  CASE WHEN v[2] IS DISTINCT FROM v[3] AND v[2] IS NOT NULL AND v[3] IS NOT NULL THEN NULL
       ELSE try_cast(coalesce(v[9], v[10], v[11], v[12], v[13]) AS INTEGER) END AS src_port,
  nullif(nullif(coalesce(v[14], v[15], v[16], v[17], v[18]), '-'), '') AS user_name,
  method AS http_method,
  coalesce(sw_url_host(target), lower(split_part(nullif(coalesce(v[36], v[37], v[39], v[40], v[41], v[42], v[38]), '_'), ':', 1))) AS url_host,
  sw_url_path(target) AS url_path,
  sw_url_query(target) AS url_query,
  protocol,
  try_cast(status AS INTEGER) AS http_status,
  try_cast(coalesce(v[47], v[48], v[49], v[50], v[51], v[52]) AS BIGINT) AS bytes_in,
  try_cast(coalesce(v[53], v[54], v[55], v[56], v[57]) AS BIGINT) AS bytes_out,
  CASE WHEN v[69] IS NOT NULL THEN try_cast(v[69] AS DOUBLE)
       WHEN v[70] IS NOT NULL THEN try_cast(v[70] AS DOUBLE)
       ELSE try_cast(coalesce(v[71], v[72], v[73]) AS DOUBLE) / 1e9 END AS duration,  -- Traefik and ECS: ns
  nullif(nullif(coalesce(v[58], v[59], v[60], v[61], v[62], v[63]), '-'), '') AS referrer,
  nullif(nullif(coalesce(v[64], v[65], v[66], v[67], v[68]), '-'), '') AS user_agent,
  CASE WHEN method IS NULL AND coalesce(v[30], '') NOT IN ('', '-') THEN v[30] END AS message,
  json_object(
    'server', CASE WHEN starts_with(v[86], 'http.log.access') THEN 'caddy' WHEN v[4] IS NOT NULL OR v[21] IS NOT NULL THEN 'traefik'
                   WHEN v[1] IS NOT NULL THEN 'nginx' ELSE 'ecs' END,
    'client', CASE WHEN NOT sw_is_ip(client) THEN client END,
    'peer_ip', CASE WHEN v[2] IS DISTINCT FROM v[3] THEN v[3] END, 'peer_port', CASE WHEN v[2] IS DISTINCT FROM v[3] THEN v[10] END,
    'forwarded_for', CASE WHEN coalesce(v[82], v[83], v[84]) NOT IN ('', '-') THEN regexp_split_to_array(coalesce(v[82], v[83], v[84]), '\s*,\s*') END,
    'upstream', coalesce(v[87], v[89]), 'upstream_time', v[88], 'router', v[90]) AS attributes
FROM t
UNION ALL BY NAME
SELECT * FROM ncsa
UNION ALL BY NAME
SELECT * FROM errors
ORDER BY line_no
