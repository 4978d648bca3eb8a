-- ONVIF event notifications (door, access control, video source, device topics): the JSON lines that
-- bridges export and the records onvif_xml.py makes of WS-BaseNotification XML, with the same keys:
-- UtcTime, Topic (full path, tns1:...), PropertyOperation, Source / Key / Data as name/value maps.
-- A PropertyOperation of 'Initialized' is the state a device reports when a subscription starts (every
-- door, input and detector, alarming or not): it is stored as activity 'state_snapshot', never as the event
-- its topic names, so a snapshot of a door already open cannot pass for a door forced open now.
WITH e AS (
  SELECT line_no, CASE WHEN json_valid(line) THEN line::JSON END AS j FROM batch
), t AS (
  SELECT *, trim(coalesce(j->>'$.Topic', j->>'$.topic')) AS topic, coalesce(j->'$.Source', j->'$.source') AS src,
         coalesce(j->'$.Data', j->'$.data') AS dat, coalesce(j->'$.Key', j->'$.key') AS k,
         coalesce(j->>'$.PropertyOperation', j->>'$.property_operation') AS op,
         sw_time(coalesce(j->>'$.UtcTime', j->>'$.utc_time', j->>'$.time')) AS ts FROM e
), p AS (
  -- the topic path without namespace prefixes, for matching: Device/IO/SupervisedPort
  SELECT *, regexp_replace(topic, '[A-Za-z_][\w.-]*:', '', 'g') AS path FROM t
)
SELECT
  line_no,
  CASE WHEN j IS NULL THEN 'invalid JSON' WHEN topic IS NULL OR topic = '' THEN 'no ONVIF topic'
       WHEN ts IS NULL THEN 'no readable UtcTime' END AS _error,
  ts AS time,
  'Physical Access' AS class_name,
  CASE WHEN op = 'Initialized' THEN 'state_snapshot'
       WHEN path LIKE '%Door/State/DoorAlarm%' OR path LIKE '%Door/State/DoorForcedOpen%'
         OR path LIKE '%Door/State/DoorOpenTooLong%' OR path LIKE '%Door/State/DoorHeldOpen%' THEN 'door_alarm'
       WHEN path LIKE '%Door/State/DoorPhysicalState%' THEN 'door_state'
       WHEN path LIKE '%Door/State/DoorTamper%' THEN 'door_tamper'  -- NotInTamper | TamperDetected: no camera
       WHEN path LIKE '%AccessControl/AccessGranted%' THEN 'access_granted'
       WHEN path LIKE '%AccessControl/Denied%' OR path LIKE '%AccessControl/AccessDenied%' THEN 'access_denied'
       WHEN path LIKE '%GlobalSceneChange%' OR path LIKE '%Tamper%' THEN 'camera_tamper'
       WHEN path LIKE '%SignalLoss%' THEN 'camera_signal_loss'
       WHEN path LIKE '%Motion%' THEN 'motion'
       WHEN path LIKE '%Reboot%' OR path LIKE '%OperatingTime%' THEN 'device_reboot'
       ELSE lower(replace(path, '/', '_')) END AS activity,
  CASE WHEN path LIKE '%Denied%' THEN 'failure'
       WHEN path LIKE '%AccessGranted%' THEN 'success' ELSE 'unknown' END AS outcome,
  -- the state the message reports; topics named after the alarm (DoorForcedOpen) carry only true/false
  coalesce(dat->>'$.State', dat->>'$.IsMotion', dat->>'$.IsTamper', dat->>'$.LogicalState', dat->>'$.Reason',
           dat->>'$.IsInside', dat->>'$.Status', dat->>'$.state', dat->>'$.active') AS reason,
  topic AS event_code,
  coalesce(src->>'$.Store', src->>'$.Site', j->>'$.store_id') AS store_id,
  coalesce(src->>'$.Device', src->>'$.DoorToken', src->>'$.AccessPointToken', src->>'$.VideoSourceToken',
           src->>'$.VideoSourceConfigurationToken', src->>'$.Source', src->>'$.InputToken', src->>'$.RelayToken',
           src->>'$.AreaToken', src->>'$.port') AS device,
  coalesce(dat->>'$.CredentialHolderName', dat->>'$.CredentialToken', src->>'$.CredentialToken') AS employee_id,
  json_object('source', src, 'data', dat, 'key', k, 'property_operation', op,
              'access_point', src->>'$.AccessPointToken', 'door', src->>'$.DoorToken',
              'credential', coalesce(dat->>'$.CredentialToken', src->>'$.CredentialToken'),
              'card', dat->>'$.Card', 'producer', j->>'$.Producer', 'topic_dialect', j->>'$.TopicDialect') AS attributes
FROM p
