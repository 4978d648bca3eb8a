-- Zeek logs as JSON (LogAscii::use_json=T): conn.log first of all; dns, http and ssl logs map their
-- queried host too. `ts` may be epoch seconds or ISO 8601 (LogAscii::json_timestamps).
-- Each line is parsed once into the fields below; Zeek's TSV form (zeek_tsv.py) fills the same structure
-- from its columns instead, so this one mapping serves both.
WITH z AS (
  SELECT line_no, ok, CASE WHEN ok THEN from_json(line, '{
    "ts": "VARCHAR", "uid": "VARCHAR", "id.orig_h": "VARCHAR", "id.orig_p": "VARCHAR", "id.resp_h": "VARCHAR",
    "id.resp_p": "VARCHAR", "proto": "VARCHAR", "service": "VARCHAR", "duration": "VARCHAR",
    "orig_bytes": "VARCHAR", "resp_bytes": "VARCHAR", "conn_state": "VARCHAR", "local_orig": "VARCHAR",
    "local_resp": "VARCHAR", "history": "VARCHAR", "orig_pkts": "VARCHAR", "resp_pkts": "VARCHAR",
    "_path": "VARCHAR", "query": "VARCHAR", "rcode_name": "VARCHAR", "answers": "JSON", "method": "VARCHAR",
    "host": "VARCHAR", "uri": "VARCHAR", "status_code": "VARCHAR", "status_msg": "VARCHAR",
    "user_agent": "VARCHAR", "server_name": "VARCHAR"}') END AS j
  FROM (SELECT line_no, line, json_valid(line) AS ok FROM batch)
)
SELECT
  line_no,
  CASE WHEN NOT ok THEN 'invalid JSON' END AS _error,
  CASE WHEN try_cast(j.ts AS DOUBLE) IS NOT NULL THEN sw_epoch(j.ts) ELSE sw_time(j.ts) END AS time,
  CASE WHEN j.query IS NOT NULL THEN 'DNS Activity'
       WHEN j.method IS NOT NULL THEN 'HTTP Activity' ELSE 'Network Activity' END AS class_name,
  coalesce(j._path, CASE WHEN j.query IS NOT NULL THEN 'dns' WHEN j.method IS NOT NULL THEN 'http'
                         WHEN j.server_name IS NOT NULL THEN 'ssl' ELSE 'conn' END) AS activity,
  CASE WHEN j.conn_state IN ('SF', 'S1', 'S2', 'S3', 'RSTO', 'RSTR', 'OTH') THEN 'success'
       WHEN j.conn_state IN ('REJ', 'S0', 'RSTOS0', 'RSTRH', 'SH', 'SHR') THEN 'failure' ELSE 'unknown' END AS outcome,
  coalesce(j.conn_state, j.rcode_name, j.status_msg) AS reason,
  j.conn_state AS event_code,
  j."id.orig_h" AS src_ip,
  try_cast(j."id.orig_p" AS INTEGER) AS src_port,
  j."id.resp_h" AS dst_ip,
  try_cast(j."id.resp_p" AS INTEGER) AS dst_port,
  coalesce(j.service, j.proto) AS protocol,
  lower(coalesce(j.query, j.host, j.server_name)) AS url_host,
  j.uri AS url_path,
  j.method AS http_method,
  try_cast(j.status_code AS INTEGER) AS http_status,
  j.user_agent AS user_agent,
  try_cast(j.orig_bytes AS BIGINT) AS bytes_out,
  try_cast(j.resp_bytes AS BIGINT) AS bytes_in,
  try_cast(j.duration AS DOUBLE) AS duration,
  json_object('uid', j.uid, 'proto', j.proto, 'history', j.history,
              'local_orig', j.local_orig, 'local_resp', j.local_resp,
              'orig_pkts', try_cast(j.orig_pkts AS BIGINT), 'resp_pkts', try_cast(j.resp_pkts AS BIGINT),
              'answers', j.answers) AS attributes
FROM z
