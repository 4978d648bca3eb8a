-- Sysmon events as evtx-to-JSON ({"Event": {"System": ..., "EventData": ...}}), as Windows event XML
-- converted to that shape, or flattened (EventID, Computer and the EventData fields at the top).
WITH e AS (
  SELECT line_no, line,
    CASE WHEN json_valid(line) THEN coalesce(line->'$.Event.EventData', line->'$.EventData', line::JSON) END AS d,
    CASE WHEN json_valid(line) THEN coalesce(line->'$.Event.System', line->'$.System', line::JSON) END AS s
  FROM batch
), f AS (
  SELECT *, coalesce(try_cast(s->>'$.EventID' AS INTEGER), try_cast(s->>'$.EventID."#text"' AS INTEGER)) AS eid FROM e
)
SELECT
  line_no,
  CASE WHEN d IS NULL THEN 'invalid JSON' WHEN eid IS NULL THEN 'no EventID' END AS _error,
  coalesce(sw_time(s->>'$.TimeCreated."#attributes".SystemTime'), sw_time(s->>'$.TimeCreated.SystemTime'),
           sw_time(s->>'$.TimeCreated'), timezone('UTC', try_cast(d->>'$.UtcTime' AS TIMESTAMP))) AS time,
  CASE WHEN eid IN (3) THEN 'Network Activity' WHEN eid = 22 THEN 'DNS Activity'
       WHEN eid IN (2, 11, 15, 23, 26) THEN 'File System Activity' ELSE 'Process Activity' END AS class_name,
  CASE eid WHEN 1 THEN 'process_create' WHEN 2 THEN 'file_time_change' WHEN 3 THEN 'network_connect' WHEN 5 THEN 'process_terminate'
           WHEN 6 THEN 'driver_load' WHEN 7 THEN 'image_load' WHEN 8 THEN 'create_remote_thread' WHEN 10 THEN 'process_access'
           WHEN 11 THEN 'file_create' WHEN 12 THEN 'registry_object' WHEN 13 THEN 'registry_value_set' WHEN 15 THEN 'file_stream_create'
           WHEN 22 THEN 'dns_query' WHEN 23 THEN 'file_delete' WHEN 25 THEN 'process_tampering' WHEN 26 THEN 'file_delete_detected'
           ELSE 'sysmon_' || eid::VARCHAR END AS activity,
  'success' AS outcome,
  eid::VARCHAR AS event_code,
  coalesce(s->>'$.Computer', d->>'$.Computer') AS host,
  d->>'$.User' AS user_name,
  d->>'$.Image' AS process_name,
  d->>'$.CommandLine' AS command_line,
  d->>'$.ParentImage' AS parent_process,
  d->>'$.TargetFilename' AS file_path,
  lower(coalesce(nullif(regexp_extract(d->>'$.Hashes', 'SHA256=([0-9A-Fa-f]{64})', 1), ''),
                 nullif(regexp_extract(d->>'$.Hashes', 'MD5=([0-9A-Fa-f]{32})', 1), ''))) AS file_hash,
  d->>'$.SourceIp' AS src_ip,
  try_cast(d->>'$.SourcePort' AS INTEGER) AS src_port,
  d->>'$.DestinationIp' AS dst_ip,
  try_cast(d->>'$.DestinationPort' AS INTEGER) AS dst_port,
  lower(d->>'$.Protocol') AS protocol,
  lower(coalesce(d->>'$.QueryName', d->>'$.DestinationHostname')) AS url_host,
  json_object('process_id', d->>'$.ProcessId', 'process_guid', d->>'$.ProcessGuid', 'parent_command_line', d->>'$.ParentCommandLine',
              'integrity_level', d->>'$.IntegrityLevel', 'rule_name', d->>'$.RuleName', 'record_id', s->>'$.EventRecordID',
              'query_results', d->>'$.QueryResults') AS attributes
FROM f
