-- Windows events of any channel, in every shape they ship in, mapped by one table.
--
-- Step 1 (CTEs j to k) turns each shape into one canonical event: the System fields (eid, ch, prov,
-- computer, record_id, keywords, level, task, opcode, time) and `ed`, the EventData map with every field:
--   * evtx JSON (evtx_dump, python-evtx, the `evtx` reader, Windows event XML converted by windows_xml.py):
--     {"Event": {"System": {...}, "EventData": {...} | "UserData": {"<Name>": {...}}, "RenderingInfo": ...}}
--     or the same without the "Event" wrapper;
--   * Winlogbeat / Elastic Agent (ECS): "@timestamp", "winlog": {event_id, channel, provider_name,
--     computer_name, record_id, keywords, event_data | user_data, ...}, plus ECS fields when the pipeline ran;
--     Winlogbeat 6 put event_id, computer_name, log_name, source_name, record_number, event_data at the top;
--   * flat records (NXLog im_msvistalog to_json, Azure Monitor / Sentinel exports, flattened Sysmon):
--     System fields (EventTime, Hostname, EventID, SourceName, Channel, Keywords, ...) and the EventData
--     fields side by side at the top level: EventData is the record minus the known System keys.
-- Step 2 (d, m) names the log (`source`: sysmon, security, system, powershell, or the channel), joins the
-- per-(log, event id) table `windows_events.csv` (class and activity) and picks the typed columns; every
-- EventData field is also kept, as the object `attributes.event_data`.
WITH events(ev_source, ev_id, ev_class, ev_activity) AS (VALUES {events}),
-- Windows' own texts for the codes in logon events
names AS (SELECT
  MAP {'0': 'system', '2': 'interactive', '3': 'network', '4': 'batch', '5': 'service', '7': 'unlock', '8': 'network cleartext', '9': 'new credentials', '10': 'remote interactive', '11': 'cached interactive', '12': 'cached remote interactive', '13': 'cached unlock'} AS logon_types,
  MAP {'0XC000005E': 'no logon servers', '0XC0000064': 'no such user', '0XC000006A': 'wrong password', '0XC000006D': 'bad user name or authentication information', '0XC000006E': 'account restriction', '0XC000006F': 'outside allowed hours', '0XC0000070': 'workstation not allowed', '0XC0000071': 'password expired', '0XC0000072': 'account disabled', '0XC0000133': 'clock skew', '0XC000015B': 'logon type not granted', '0XC0000192': 'netlogon not started', '0XC0000193': 'account expired', '0XC0000224': 'password must change', '0XC0000225': 'windows bug', '0XC0000234': 'account locked out', '0XC00002EE': 'failure', '0XC0000413': 'authentication firewall'} AS status_text,
  MAP {'0x6': 'client not found', '0x7': 'server not found', '0xc': 'policy restriction', '0x12': 'client revoked (disabled, expired or locked out)', '0x17': 'password expired', '0x18': 'pre-authentication failed (bad password)', '0x1f': 'integrity check failed', '0x20': 'ticket expired', '0x25': 'clock skew', '0xe': 'encryption type not supported'} AS kerberos_status
), src AS (
  SELECT line_no, line, json_valid(line) AS ok FROM batch
), j AS (  -- one parse for the evtx and flat shapes; a second one for Winlogbeat documents only
  SELECT line_no, ok, line,
    CASE WHEN ok THEN json_transform(line, '{
      "Event": {"System": {"EventID": "JSON", "TimeCreated": "JSON", "Computer": "VARCHAR", "EventRecordID": "VARCHAR",
                           "Channel": "VARCHAR", "Provider": "JSON", "Keywords": "VARCHAR", "Level": "VARCHAR",
                           "Task": "VARCHAR", "Opcode": "VARCHAR"},
                "EventData": "JSON", "UserData": "JSON", "RenderingInfo": {"Message": "VARCHAR"}},
      "System": {"EventID": "JSON", "TimeCreated": "JSON", "Computer": "VARCHAR", "EventRecordID": "VARCHAR",
                 "Channel": "VARCHAR", "Provider": "JSON", "Keywords": "VARCHAR", "Level": "VARCHAR",
                 "Task": "VARCHAR", "Opcode": "VARCHAR"},
      "EventData": "JSON", "UserData": "JSON", "event_data": "JSON",
      "EventID": "JSON", "event_id": "VARCHAR", "Computer": "VARCHAR", "Hostname": "VARCHAR",
      "computer_name": "VARCHAR", "Channel": "VARCHAR", "log_name": "VARCHAR", "SourceName": "VARCHAR",
      "Provider": "VARCHAR", "EventSourceName": "VARCHAR", "source_name": "VARCHAR", "EventRecordID": "VARCHAR",
      "RecordNumber": "VARCHAR", "record_number": "VARCHAR", "Keywords": "VARCHAR", "EventType": "VARCHAR",
      "Level": "VARCHAR", "Severity": "VARCHAR", "Task": "VARCHAR", "Category": "VARCHAR", "Opcode": "VARCHAR",
      "TimeCreated": "JSON", "EventTime": "VARCHAR", "Message": "VARCHAR", "@timestamp": "VARCHAR"}') END AS r,
    -- Winlogbeat's winlog.*, and the ECS fields Elastic Agent's pipelines fill (and may remove from event_data)
    CASE WHEN ok AND contains(line, '"winlog"') THEN json_transform(line, '{
      "winlog": {"event_id": "VARCHAR", "channel": "VARCHAR", "provider_name": "VARCHAR", "computer_name": "VARCHAR",
                 "record_id": "VARCHAR", "keywords": "VARCHAR", "task": "VARCHAR", "opcode": "VARCHAR",
                 "event_data": "JSON", "user_data": "JSON"},
      "event": {"code": "VARCHAR", "outcome": "VARCHAR"}, "message": "VARCHAR",
      "host": {"name": "VARCHAR", "hostname": "VARCHAR"}, "user": {"name": "VARCHAR"},
      "process": {"executable": "VARCHAR", "command_line": "VARCHAR", "parent": {"executable": "VARCHAR"},
                  "hash": {"sha256": "VARCHAR"}},
      "source": {"ip": "VARCHAR", "port": "VARCHAR"}, "destination": {"ip": "VARCHAR", "port": "VARCHAR"},
      "file": {"path": "VARCHAR", "hash": {"sha256": "VARCHAR"}}, "dns": {"question": {"name": "VARCHAR"}}}') END AS ecs
  FROM src
), c AS (
  SELECT line_no, ok, line, r AS f, ecs, ecs.winlog AS wl, ecs.winlog.event_id IS NOT NULL AS beat,
    coalesce(r.Event.System, r.System) AS s,
    CASE WHEN starts_with(coalesce(r.Event.EventData, r.EventData), '{') OR json_type(coalesce(r.Event.EventData, r.EventData)) = 'OBJECT'
         THEN coalesce(r.Event.EventData, r.EventData)
         WHEN json_type(r.event_data) = 'OBJECT' THEN r.event_data END AS data,
    CASE WHEN json_type(coalesce(r.Event.UserData, r.UserData)) = 'OBJECT'
         THEN json_extract(coalesce(r.Event.UserData, r.UserData), '$.*')[1] END AS udata  -- UserData's one child
  FROM j
), t AS (
  SELECT *, CASE WHEN ok AND s.EventID IS NULL AND NOT beat THEN line::JSON END AS top,  -- a flat record
    coalesce(f.Event.RenderingInfo.Message, ecs.message, f.Message) AS message,
    f."@timestamp" AS ts
  FROM c
), k AS (  -- the canonical event
  SELECT line_no, ok, s, f, beat, ts, ecs, message,
    coalesce(try_cast(coalesce(s.EventID, f.EventID)->>'$' AS INTEGER),
             try_cast(coalesce(s.EventID, f.EventID)->>'$."#text"' AS INTEGER),
             try_cast(wl.event_id AS INTEGER), try_cast(f.event_id AS INTEGER), try_cast(ecs.event.code AS INTEGER)) AS eid,
    coalesce(s.Channel, wl.channel, f.Channel, f.log_name) AS ch,
    coalesce(s.Provider->>'$."#attributes".Name', s.Provider->>'$.Name', wl.provider_name, f.SourceName,
             f.Provider, f.EventSourceName, f.source_name) AS prov,
    coalesce(s.Computer, wl.computer_name, f.Computer, f.Hostname, f.computer_name, ecs.host.name,
             ecs.host.hostname) AS computer,
    coalesce(s.EventRecordID, wl.record_id, f.EventRecordID, f.RecordNumber, f.record_number) AS record_id,
    coalesce(s.Keywords, wl.keywords, f.Keywords) AS keywords,
    coalesce(s.Level, f.Level, f.Severity) AS level,
    coalesce(s.Task, wl.task, f.Task, f.Category) AS task,
    coalesce(s.Opcode, wl.opcode, f.Opcode) AS opcode,
    coalesce(sw_time(s.TimeCreated->>'$."#attributes".SystemTime'), sw_time(s.TimeCreated->>'$.SystemTime'),
             sw_time(s.TimeCreated->>'$'), CASE WHEN beat THEN sw_time(ts) END) AS sys_time,
    coalesce(data, wl.event_data, udata, wl.user_data,
             json_merge_patch(top, '{"EventTime": null, "EventReceivedTime": null, "Hostname": null,
               "Keywords": null, "EventType": null, "SeverityValue": null, "Severity": null, "EventID": null,
               "SourceName": null, "ProviderGuid": null, "Version": null, "Task": null, "OpcodeValue": null,
               "Opcode": null, "RecordNumber": null, "ActivityID": null, "RelatedActivityID": null,
               "ProcessID": null, "ExecutionProcessID": null, "ThreadID": null, "Channel": null,
               "Category": null, "Message": null, "UserID": null, "AccountType": null, "SourceModuleName": null,
               "SourceModuleType": null, "ERROR_EVT_UNRESOLVED": null, "@timestamp": null, "@version": null,
               "host": null, "port": null, "tags": null, "Level": null, "Computer": null, "TimeCreated": null,
               "TimeGenerated": null, "EventRecordID": null, "Provider": null, "EventSourceName": null,
               "EventData": null, "event_id": null, "computer_name": null, "log_name": null,
               "source_name": null, "record_number": null, "type": null, "beat": null, "event": null,
               "agent": null, "ecs": null, "log": null, "EventOriginId": null, "MG": null,
               "ManagementGroupName": null, "SourceSystem": null, "TenantId": null, "Type": null,
               "_ResourceId": null, "AzureDeploymentID": null, "Role": null}')) AS ed
  FROM t
), d AS (  -- every EventData field a column or a rule needs, parsed once
  SELECT *,
    CASE WHEN lower(ch) LIKE '%sysmon%' OR prov ILIKE '%sysmon%' THEN 'sysmon'
         WHEN lower(ch) = 'security' OR prov ILIKE 'Microsoft-Windows-Security-Auditing' THEN 'security'
         WHEN lower(ch) LIKE '%powershell%' OR prov ILIKE '%powershell%' THEN 'powershell'
         WHEN lower(ch) = 'system' OR prov ILIKE 'Service Control Manager' THEN 'system'
         WHEN ch IS NULL AND prov IS NULL THEN 'sysmon'  -- flattened Sysmon exports carry neither
         ELSE lower(coalesce(ch, prov)) END AS source,
    json_transform(CASE WHEN starts_with(ed, '{') OR json_type(ed) = 'OBJECT' THEN ed ELSE '{}' END, '{
      "UtcTime": "VARCHAR", "User": "VARCHAR", "Image": "VARCHAR", "CommandLine": "VARCHAR",
      "ParentImage": "VARCHAR", "TargetFilename": "VARCHAR", "Hashes": "VARCHAR",
      "Hash": "VARCHAR", "SourceIp": "VARCHAR", "SourcePort": "VARCHAR", "DestinationIp": "VARCHAR",
      "DestinationPort": "VARCHAR", "Protocol": "VARCHAR", "QueryName": "VARCHAR", "DestinationHostname": "VARCHAR",
      "QueryResults": "VARCHAR", "SourceImage": "VARCHAR", "SourceUser": "VARCHAR",
      "ImageLoaded": "VARCHAR", "TargetUserName": "VARCHAR", "TargetDomainName": "VARCHAR", "SubjectUserName": "VARCHAR",
      "SubjectDomainName": "VARCHAR", "IpAddress": "VARCHAR", "IpPort": "VARCHAR", "WorkstationName": "VARCHAR",
      "Workstation": "VARCHAR", "LogonType": "VARCHAR", "Status": "VARCHAR", "SubStatus": "VARCHAR",
      "NewProcessName": "VARCHAR", "ParentProcessName": "VARCHAR", "ProcessName": "VARCHAR",
      "ImagePath": "VARCHAR", "ServiceFileName": "VARCHAR", "TaskName": "VARCHAR",
      "TaskContent": "VARCHAR", "TaskContentNew": "VARCHAR", "MemberName": "VARCHAR", "MemberSid": "VARCHAR",
      "RelativeTargetName": "VARCHAR",
      "ScriptBlockText": "VARCHAR", "Payload": "VARCHAR", "Application": "VARCHAR", "SourceAddress": "VARCHAR",
      "DestAddress": "VARCHAR", "DestPort": "VARCHAR", "Path": "VARCHAR", "AccountName": "VARCHAR"}') AS e
  FROM k
), a AS (
  SELECT *,
    -- Audit Success / Audit Failure: keyword bits 0x0020... / 0x0010... (NXLog writes the 64-bit mask as a
    -- signed number, Winlogbeat as names); NULL for events that are not audit events
    CASE WHEN source = 'sysmon' THEN NULL  -- decided without it
         WHEN concat_ws(' ', s.Keywords, ecs.winlog.keywords, f.Keywords, f.EventType, ecs.event.outcome)
                SIMILAR TO '.*(0x801[0-9a-fA-F]{13}|-9218868437227405312|Audit Failure|AUDIT_FAILURE|failure).*' THEN TRUE
         WHEN concat_ws(' ', s.Keywords, ecs.winlog.keywords, f.Keywords, f.EventType, ecs.event.outcome)
                SIMILAR TO '.*(0x802[0-9a-fA-F]{13}|-9214364837600034816|Audit Success|AUDIT_SUCCESS|success).*' THEN FALSE
    END AS audit_failure
  FROM d
), m AS (
  SELECT a.*, v.ev_class AS v_class, v.ev_activity AS v_activity,
    CASE WHEN source = 'security' AND eid IN (4625, 4771) THEN TRUE
         WHEN source = 'security' AND eid = 4624 THEN FALSE
         WHEN source = 'security' AND eid IN (4768, 4769, 4776) THEN coalesce(lower(e.Status) NOT IN ('0x0', '0'), audit_failure)
         WHEN source = 'sysmon' THEN FALSE
         -- an event of the table records what happened; any other says nothing of an outcome
         ELSE coalesce(audit_failure, CASE WHEN v.ev_class IS NOT NULL THEN FALSE END) END AS failed,  -- NULL: outcome 'unknown'
    upper(regexp_extract(lower(coalesce(e.SubStatus, '')), '0x[0-9a-f]+')) AS sub_status,
    upper(regexp_extract(lower(coalesce(e.Status, '')), '0x[0-9a-f]+')) AS status,
    lower(coalesce(e.Hashes, e.Hash, '')) AS hashes
  FROM a LEFT JOIN events v ON v.ev_source = a.source AND v.ev_id = a.eid
)
SELECT
  line_no,
  CASE WHEN NOT ok THEN 'invalid JSON' WHEN eid IS NULL THEN 'no EventID' END AS _error,
  coalesce(sys_time, CASE WHEN e.UtcTime IS NOT NULL THEN timezone('UTC', try_cast(e.UtcTime AS TIMESTAMP)) END,
           -- the flat shapes' times, read only where nothing before gave one
           sw_time(f.TimeCreated->>'$.SystemTime'), sw_time(f.TimeCreated->>'$'), sw_time(f.EventTime), sw_time(ts)) AS time,
  coalesce(v_class, CASE WHEN source = 'sysmon' THEN 'Process Activity' ELSE 'Event Log Activity' END) AS class_name,
  coalesce(v_activity, CASE WHEN source = 'sysmon' THEN 'sysmon_' || eid::VARCHAR ELSE 'event_' || eid::VARCHAR END) AS activity,
  CASE WHEN failed THEN 'failure' WHEN failed IS NULL THEN 'unknown' ELSE 'success' END AS outcome,
  CASE
    WHEN source = 'security' AND eid IN (4624, 4625) AND failed THEN
      coalesce(sw_nullif(nullif(e.SubStatus, '0x0')), e.Status) || coalesce(' (' || status_text[coalesce(nullif(sub_status, '0X0'), status)] || ')', '')
      || coalesce(', logon type ' || e.LogonType || coalesce(' (' || logon_types[e.LogonType] || ')', ''), '')
    WHEN source = 'security' AND eid IN (4624, 4634, 4647) THEN
      'logon type ' || e.LogonType || coalesce(' (' || logon_types[e.LogonType] || ')', '')
    WHEN source = 'security' AND eid IN (4768, 4769, 4771) AND failed THEN
      e.Status || coalesce(' (' || kerberos_status[lower(e.Status)] || ')', '')
    WHEN source = 'security' AND eid = 4776 AND failed THEN
      e.Status || coalesce(' (' || status_text[status] || ')', '')
  END AS reason,
  eid::VARCHAR AS event_code,
  computer AS host,
  coalesce(sw_nullif(CASE
    WHEN source = 'sysmon' THEN coalesce(e.User, e.SourceUser)
    WHEN source = 'security' AND eid IN (4688, 4689, 4697, 4672, 4698, 4699, 4700, 4701, 4702, 1102, 5140, 5145, 5156)
      THEN e.SubjectUserName
    WHEN source = 'security' AND eid IN (4728, 4729, 4732, 4733, 4756, 4757)
      THEN coalesce(sw_nullif(e.MemberName), e.MemberSid)
    ELSE coalesce(sw_nullif(e.TargetUserName), sw_nullif(e.SubjectUserName), sw_nullif(e.User), e.AccountName)
  END), ecs."user".name) AS user_name,
  sw_nullif(coalesce(e.SourceIp, regexp_replace(sw_nullif(e.IpAddress), '^::ffff:', ''), e.SourceAddress, ecs."source".ip)) AS src_ip,
  nullif(try_cast(coalesce(e.SourcePort, e.IpPort, ecs."source".port) AS INTEGER), 0) AS src_port,
  sw_nullif(coalesce(e.DestinationIp, e.DestAddress, ecs.destination.ip)) AS dst_ip,
  try_cast(coalesce(e.DestinationPort, e.DestPort, ecs.destination.port) AS INTEGER) AS dst_port,
  CASE WHEN e.Protocol = '6' THEN 'tcp' WHEN e.Protocol = '17' THEN 'udp' WHEN e.Protocol = '1' THEN 'icmp'
       ELSE lower(e.Protocol) END AS protocol,
  coalesce(sw_nullif(CASE
    WHEN source = 'sysmon' AND eid IN (8, 10) THEN e.SourceImage
    WHEN source = 'sysmon' THEN e.Image
    WHEN eid IN (4697, 7045) THEN coalesce(e.ServiceFileName, e.ImagePath)
    ELSE coalesce(e.NewProcessName, e.ProcessName, e.Application, e.Image)
  END), ecs.process.executable) AS process_name,
  coalesce(CASE
    WHEN source = 'sysmon' THEN e.CommandLine
    WHEN eid IN (4697, 7045) THEN coalesce(e.ServiceFileName, e.ImagePath)
    WHEN eid IN (4698, 4702) THEN nullif(trim(
      regexp_extract(coalesce(e.TaskContent, e.TaskContentNew), '<Command>([^<]*)</Command>', 1) || ' ' ||
      regexp_extract(coalesce(e.TaskContent, e.TaskContentNew), '<Arguments>([^<]*)</Arguments>', 1)), '')
    WHEN source = 'powershell' THEN coalesce(e.ScriptBlockText, e.Payload)
    ELSE e.CommandLine
  END, ecs.process.command_line) AS command_line,
  sw_nullif(coalesce(e.ParentImage, e.ParentProcessName, ecs.process.parent.executable)) AS parent_process,
  sw_nullif(coalesce(e.TargetFilename, e.ImageLoaded, e.RelativeTargetName, e.TaskName,
                     CASE WHEN source = 'powershell' THEN e.Path END, ecs.file.path)) AS file_path,
  coalesce(nullif(regexp_extract(hashes, 'sha256=([0-9a-f]{64})', 1), ''), lower(ecs.process.hash.sha256),
           lower(ecs.file.hash.sha256), nullif(regexp_extract(hashes, 'md5=([0-9a-f]{32})', 1), ''),
           nullif(regexp_extract(hashes, 'sha1=([0-9a-f]{40})', 1), '')) AS file_hash,
  lower(coalesce(e.QueryName, e.DestinationHostname, ecs.dns.question.name)) AS url_host,
  message,
  -- every EventData field under event_data; beside it the System fields and what is derived, not copied
  json_object(
    'log', source, 'channel', ch, 'provider', prov, 'record_id', record_id, 'keywords', keywords, 'level', level,
    'task', task, 'opcode', opcode, 'query_results', e.QueryResults, 'logon_type', try_cast(e.LogonType AS INTEGER),
    'user_domain', sw_nullif(CASE WHEN eid IN (4624, 4625, 4634, 4647, 4648, 4720, 4722, 4724, 4726, 4768,
                                               4769, 4771) THEN e.TargetDomainName ELSE e.SubjectDomainName END),
    'workstation', sw_nullif(coalesce(e.WorkstationName, e.Workstation)),
    'group_name', CASE WHEN v_class = 'Group Management' THEN e.TargetUserName END,
    'md5', nullif(regexp_extract(hashes, 'md5=([0-9a-f]{32})', 1), ''),
    'sha1', nullif(regexp_extract(hashes, 'sha1=([0-9a-f]{40})', 1), ''),
    'sha256', nullif(regexp_extract(hashes, 'sha256=([0-9a-f]{64})', 1), ''),
    'imphash', nullif(regexp_extract(hashes, 'imphash=([0-9a-f]{32})', 1), ''),
    'event_data', ed) AS attributes
FROM m, names
