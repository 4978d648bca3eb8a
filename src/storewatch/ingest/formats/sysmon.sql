-- Sysmon events as evtx-to-JSON ({"Event": {"System": ..., "EventData": ...}}), as Windows event XML
-- converted to that shape, or flattened (EventID, Computer and the EventData fields at the top).
-- Each line is parsed once (`from_json`) into the three places the fields can be; `s` and `d` then pick
-- the first present: Event.System / Event.EventData, System / EventData, or the top level.
WITH e AS (
  SELECT line_no, ok, CASE WHEN ok THEN from_json(line, '{
    "Event": {"System": {"EventID": "JSON", "TimeCreated": "JSON", "Computer": "VARCHAR", "EventRecordID": "VARCHAR"},
      "EventData": {"UtcTime": "VARCHAR", "Computer": "VARCHAR", "User": "VARCHAR", "Image": "VARCHAR",
      "CommandLine": "VARCHAR", "ParentImage": "VARCHAR", "TargetFilename": "VARCHAR", "Hashes": "VARCHAR",
      "SourceIp": "VARCHAR", "SourcePort": "VARCHAR", "DestinationIp": "VARCHAR",
      "DestinationPort": "VARCHAR", "Protocol": "VARCHAR", "QueryName": "VARCHAR",
      "DestinationHostname": "VARCHAR", "ProcessId": "VARCHAR", "ProcessGuid": "VARCHAR",
      "ParentCommandLine": "VARCHAR", "IntegrityLevel": "VARCHAR", "RuleName": "VARCHAR",
      "QueryResults": "VARCHAR"}},
    "System": {"EventID": "JSON", "TimeCreated": "JSON", "Computer": "VARCHAR", "EventRecordID": "VARCHAR"},
    "EventData": {"UtcTime": "VARCHAR", "Computer": "VARCHAR", "User": "VARCHAR", "Image": "VARCHAR",
      "CommandLine": "VARCHAR", "ParentImage": "VARCHAR", "TargetFilename": "VARCHAR", "Hashes": "VARCHAR",
      "SourceIp": "VARCHAR", "SourcePort": "VARCHAR", "DestinationIp": "VARCHAR",
      "DestinationPort": "VARCHAR", "Protocol": "VARCHAR", "QueryName": "VARCHAR",
      "DestinationHostname": "VARCHAR", "ProcessId": "VARCHAR", "ProcessGuid": "VARCHAR",
      "ParentCommandLine": "VARCHAR", "IntegrityLevel": "VARCHAR", "RuleName": "VARCHAR",
      "QueryResults": "VARCHAR"},
    "UtcTime": "VARCHAR", "Computer": "VARCHAR", "User": "VARCHAR", "Image": "VARCHAR",
    "CommandLine": "VARCHAR", "ParentImage": "VARCHAR", "TargetFilename": "VARCHAR", "Hashes": "VARCHAR",
    "SourceIp": "VARCHAR", "SourcePort": "VARCHAR", "DestinationIp": "VARCHAR",
    "DestinationPort": "VARCHAR", "Protocol": "VARCHAR", "QueryName": "VARCHAR",
    "DestinationHostname": "VARCHAR", "ProcessId": "VARCHAR", "ProcessGuid": "VARCHAR",
    "ParentCommandLine": "VARCHAR", "IntegrityLevel": "VARCHAR", "RuleName": "VARCHAR",
    "QueryResults": "VARCHAR", "EventID": "JSON", "TimeCreated": "JSON", "EventRecordID": "VARCHAR"}') END AS j
  FROM (SELECT line_no, line, json_valid(line) AS ok FROM batch)
), r AS (
  SELECT line_no, ok,
    coalesce(j.Event.EventData, j.EventData, {'UtcTime': j.UtcTime, 'Computer': j.Computer, 'User': j.User, 'Image': j.Image,
             'CommandLine': j.CommandLine, 'ParentImage': j.ParentImage, 'TargetFilename': j.TargetFilename,
             'Hashes': j.Hashes, 'SourceIp': j.SourceIp, 'SourcePort': j.SourcePort,
             'DestinationIp': j.DestinationIp, 'DestinationPort': j.DestinationPort, 'Protocol': j.Protocol,
             'QueryName': j.QueryName, 'DestinationHostname': j.DestinationHostname, 'ProcessId': j.ProcessId,
             'ProcessGuid': j.ProcessGuid, 'ParentCommandLine': j.ParentCommandLine,
             'IntegrityLevel': j.IntegrityLevel, 'RuleName': j.RuleName, 'QueryResults': j.QueryResults}) AS d,
    coalesce(j.Event.System, j.System, {'EventID': j.EventID, 'TimeCreated': j.TimeCreated, 'Computer': j.Computer, 'EventRecordID': j.EventRecordID}) AS s
  FROM e
), f AS (
  SELECT *, coalesce(try_cast(s.EventID->>'$' AS INTEGER), try_cast(s.EventID->>'$."#text"' AS INTEGER)) AS eid FROM r
)
SELECT
  line_no,
  CASE WHEN NOT ok THEN 'invalid JSON' WHEN eid IS NULL THEN 'no EventID' END AS _error,
  coalesce(sw_time(s.TimeCreated->>'$."#attributes".SystemTime'), sw_time(s.TimeCreated->>'$.SystemTime'),
           sw_time(s.TimeCreated->>'$'), timezone('UTC', try_cast(d.UtcTime AS TIMESTAMP))) AS time,
  CASE WHEN eid IN (3) THEN 'Network Activity' WHEN eid = 22 THEN 'DNS Activity'
       WHEN eid IN (2, 11, 15, 23, 26) THEN 'File System Activity' ELSE 'Process Activity' END AS class_name,
  CASE eid WHEN 1 THEN 'process_create' WHEN 2 THEN 'file_time_change' WHEN 3 THEN 'network_connect' WHEN 5 THEN 'process_terminate'
           WHEN 6 THEN 'driver_load' WHEN 7 THEN 'image_load' WHEN 8 THEN 'create_remote_thread' WHEN 10 THEN 'process_access'
           WHEN 11 THEN 'file_create' WHEN 12 THEN 'registry_object' WHEN 13 THEN 'registry_value_set' WHEN 15 THEN 'file_stream_create'
           WHEN 22 THEN 'dns_query' WHEN 23 THEN 'file_delete' WHEN 25 THEN 'process_tampering' WHEN 26 THEN 'file_delete_detected'
           ELSE 'sysmon_' || eid::VARCHAR END AS activity,
  'success' AS outcome,
  eid::VARCHAR AS event_code,
  coalesce(s.Computer, d.Computer) AS host,
  d.User AS user_name,
  d.Image AS process_name,
  d.CommandLine AS command_line,
  d.ParentImage AS parent_process,
  d.TargetFilename AS file_path,
  lower(coalesce(nullif(regexp_extract(d.Hashes, 'SHA256=([0-9A-Fa-f]{64})', 1), ''),
                 nullif(regexp_extract(d.Hashes, 'MD5=([0-9A-Fa-f]{32})', 1), ''))) AS file_hash,
  d.SourceIp AS src_ip,
  try_cast(d.SourcePort AS INTEGER) AS src_port,
  d.DestinationIp AS dst_ip,
  try_cast(d.DestinationPort AS INTEGER) AS dst_port,
  lower(d.Protocol) AS protocol,
  lower(coalesce(d.QueryName, d.DestinationHostname)) AS url_host,
  json_object('process_id', d.ProcessId, 'process_guid', d.ProcessGuid, 'parent_command_line', d.ParentCommandLine,
              'integrity_level', d.IntegrityLevel, 'rule_name', d.RuleName, 'record_id', s.EventRecordID,
              'query_results', d.QueryResults) AS attributes
FROM f
