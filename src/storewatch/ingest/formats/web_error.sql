-- Web server error logs, nginx and Apache (2.2 and 2.4's default ErrorLogFormat), one mapping:
--   nginx:      2026/11/16 03:00:00 [error] 1234#1234: *5 message, client: 1.2.3.4, server: s, request: "GET /x HTTP/1.1", upstream: "...", host: "h", referrer: "..."
--   Apache 2.2: [Sun Dec 04 04:47:44 2005] [error] [client 1.2.3.4] message
--   Apache 2.4: [Wed Oct 11 14:32:52.123456 2000] [core:error] [pid 1234:tid 5678] file.c(10): (2)OS error: [client 1.2.3.4:5678] AH00124: message, referer: http://...
-- Both write local time without a zone: read in the run's time zone. Lines that start neither way continue
-- the record before them (PHP stack traces, FastCGI stderr): kept as records of their own, with its time.
WITH p AS (
  SELECT line_no, line,
    regexp_extract(line, '^(\d{4}/\d\d/\d\d \d\d:\d\d:\d\d) \[(\w+)\] (\d+)#(\d+): (?:\*(\d+) )?(.*)$',
      ['ts', 'level', 'pid', 'tid', 'cid', 'msg']) AS n,
    regexp_extract(line, '^\[(\w{3} \w{3} \d\d \d\d:\d\d:\d\d(?:\.\d+)? \d{4})\] \[(?:([\w.-]+):)?(\w+)\] (?:\[pid (\d+)(?::tid (\d+))?\] )?(?:(\S+\(\d+\)): )?(?:(\(\d+\)[^:\[]*): )?(?:\[client ([^\]]+)\] )?(?:\[remote ([^\]]+)\] )?(.*)$',
      ['ts', 'module', 'level', 'pid', 'tid', 'src', 'oserror', 'client', 'remote', 'msg']) AS a
  FROM batch
), m AS (
  SELECT *, n.ts <> '' AS is_nginx, a.ts <> '' AS is_apache,
    CASE WHEN n.ts <> '' THEN n.msg ELSE a.msg END AS body
  FROM p
), x AS (  -- nginx's context after the message; Apache's client address (ip or ip:port, IPv6 too)
  SELECT *,
    CASE WHEN is_nginx THEN regexp_extract(body, '^(.*?)(?:, client: ([^,]+))?(?:, server: ([^,]*))?(?:, request: "((?:[^"\\]|\\.)*)")?(?:, subrequest: "[^"]*")?(?:, upstream: "([^"]*)")?(?:, host: "([^"]*)")?(?:, referrer: "([^"]*)")?$',
      ['msg', 'client', 'server', 'request', 'upstream', 'host', 'referrer']) END AS nc,
    CASE WHEN is_apache THEN regexp_extract(coalesce(nullif(a.client, ''), a.remote), '^\[?(.*?)\]?(?::(\d+))?$', ['ip', 'port']) END AS ac,
    CASE WHEN is_apache THEN regexp_extract(body, '^(.*?)(?:, referer:? (\S+))?$', ['msg', 'referrer']) END AS am
  FROM m
), t AS (
  SELECT *,
    CASE WHEN is_nginx THEN sw_local(try_strptime(n.ts, '%Y/%m/%d %H:%M:%S'))
         WHEN is_apache THEN sw_local(coalesce(try_strptime(a.ts, '%a %b %d %H:%M:%S.%f %Y'), try_strptime(a.ts, '%a %b %d %H:%M:%S %Y'))) END AS ts0,
    CASE WHEN is_nginx THEN nc.msg WHEN is_apache THEN am.msg ELSE line END AS message,
    CASE WHEN is_nginx THEN n.level WHEN is_apache THEN a.level END AS level,
    sw_request_parts(nc.request) AS rq,
    CASE WHEN is_nginx THEN nc.client ELSE ac.ip END AS client
  FROM x
), c AS (
  SELECT *, regexp_matches(message, '^(?:AH00128: )?File does not exist: |^\w+\(\) "[^"]+" failed \(2: No such file or directory\)|^(?:AH01071: Got error ''Primary script unknown|AH01264: script not found)') AS missing,
    last_value(ts0 IGNORE NULLS) OVER (ORDER BY line_no ROWS BETWEEN UNBOUNDED PRECEDING AND CURRENT ROW) AS ts_run
  FROM t
)
SELECT
  line_no,
  CASE WHEN NOT is_nginx AND NOT is_apache AND ts_run IS NULL THEN 'not a web server error log line' END AS _error,
  CASE WHEN is_nginx OR is_apache THEN ts0 ELSE ts_run END AS time,
  'Application Error' AS class_name,
  -- A request for a file that is not there (a crawler following a broken link) is the client's miss, logged
  -- at level error: `not_found`, not a failure of the site.
  CASE WHEN NOT (is_nginx OR is_apache) THEN 'continuation' WHEN missing THEN 'not_found' ELSE lower(level) END AS activity,
  CASE WHEN level IN ('error', 'crit', 'alert', 'emerg') AND NOT missing THEN 'failure' ELSE 'unknown' END AS outcome,
  lower(level) AS reason,
  nullif(regexp_extract(message, '^(AH\d{5}):', 1), '') AS event_code,
  CASE WHEN sw_is_ip(client) THEN client END AS src_ip,
  try_cast(nullif(ac.port, '') AS INTEGER) AS src_port,
  rq[1] AS http_method,
  coalesce(sw_url_host(rq[2]), lower(split_part(nullif(nc.host, ''), ':', 1))) AS url_host,
  sw_url_path(rq[2]) AS url_path,
  sw_url_query(rq[2]) AS url_query,
  rq[3] AS protocol,
  nullif(coalesce(nc.referrer, am.referrer), '') AS referrer,
  coalesce(nullif(regexp_extract(message, '(?:File does not exist|script not found or unable to stat|Cannot serve directory|client denied by server configuration): ([^\s,]+)', 1), ''),
           nullif(regexp_extract(message, '^\w+\(\) "([^"]+)" failed', 1), ''),
           nullif(regexp_extract(message, '(?:script|file) ''([^'']+)'' not found', 1), '')) AS file_path,
  message,
  CASE WHEN is_nginx OR is_apache THEN json_object(
    'server', CASE WHEN is_nginx THEN 'nginx' ELSE 'apache' END,
    'level', lower(level), 'module', nullif(a.module, ''), 'pid', nullif(CASE WHEN is_nginx THEN n.pid ELSE a.pid END, ''),
    'tid', nullif(CASE WHEN is_nginx THEN n.tid ELSE a.tid END, ''), 'connection', nullif(n.cid, ''), 'source', nullif(a.src, ''),
    'os_error', nullif(a.oserror, ''), 'client', CASE WHEN NOT sw_is_ip(client) THEN nullif(client, '') END,
    'remote', CASE WHEN a.client <> '' THEN nullif(a.remote, '') END, 'virtual_server', nullif(nc.server, ''),
    'upstream', nullif(nc.upstream, '')) END AS attributes
FROM c
