-- Zeek logs as JSON (LogAscii::use_json=T): conn.log first of all; dns, http and ssl logs map their
-- queried host too. `ts` may be epoch seconds or ISO 8601 (LogAscii::json_timestamps).
SELECT
  line_no,
  CASE WHEN line IS NULL THEN 'invalid JSON' END AS _error,
  CASE WHEN try_cast(line->>'$.ts' AS DOUBLE) IS NOT NULL THEN sw_epoch(line->>'$.ts') ELSE sw_time(line->>'$.ts') END AS time,
  CASE WHEN line->>'$.query' IS NOT NULL THEN 'DNS Activity'
       WHEN line->>'$.method' IS NOT NULL THEN 'HTTP Activity' ELSE 'Network Activity' END AS class_name,
  coalesce(line->>'$._path', CASE WHEN line->>'$.query' IS NOT NULL THEN 'dns' WHEN line->>'$.method' IS NOT NULL THEN 'http'
                                  WHEN line->>'$.server_name' IS NOT NULL THEN 'ssl' ELSE 'conn' END) AS activity,
  CASE WHEN line->>'$.conn_state' IN ('SF', 'S1', 'S2', 'S3', 'RSTO', 'RSTR', 'OTH') THEN 'success'
       WHEN line->>'$.conn_state' IN ('REJ', 'S0', 'RSTOS0', 'RSTRH', 'SH', 'SHR') THEN 'failure' ELSE 'unknown' END AS outcome,
  coalesce(line->>'$.conn_state', line->>'$.rcode_name', line->>'$.status_msg') AS reason,
  line->>'$.conn_state' AS event_code,
  line->>'$."id.orig_h"' AS src_ip,
  try_cast(line->>'$."id.orig_p"' AS INTEGER) AS src_port,
  line->>'$."id.resp_h"' AS dst_ip,
  try_cast(line->>'$."id.resp_p"' AS INTEGER) AS dst_port,
  coalesce(line->>'$.service', line->>'$.proto') AS protocol,
  lower(coalesce(line->>'$.query', line->>'$.host', line->>'$.server_name')) AS url_host,
  line->>'$.uri' AS url_path,
  line->>'$.method' AS http_method,
  try_cast(line->>'$.status_code' AS INTEGER) AS http_status,
  line->>'$.user_agent' AS user_agent,
  try_cast(line->>'$.orig_bytes' AS BIGINT) AS bytes_out,
  try_cast(line->>'$.resp_bytes' AS BIGINT) AS bytes_in,
  try_cast(line->>'$.duration' AS DOUBLE) AS duration,
  json_object('uid', line->>'$.uid', 'proto', line->>'$.proto', 'history', line->>'$.history',
              'local_orig', line->>'$.local_orig', 'local_resp', line->>'$.local_resp',
              'orig_pkts', try_cast(line->>'$.orig_pkts' AS BIGINT), 'resp_pkts', try_cast(line->>'$.resp_pkts' AS BIGINT),
              'answers', line->'$.answers') AS attributes
FROM (SELECT line_no, CASE WHEN json_valid(line) THEN line END AS line FROM batch)
