-- ONVIF event notifications (door, access control, video source, device topics) exported as JSON:
-- UtcTime, Topic (tns1:...), Source and Data as name/value maps.
WITH e AS (
  SELECT line_no, CASE WHEN json_valid(line) THEN line::JSON END AS j FROM batch
), t AS (
  SELECT *, coalesce(j->>'$.Topic', j->>'$.topic') AS topic, coalesce(j->'$.Source', j->'$.source') AS src,
         coalesce(j->'$.Data', j->'$.data') AS dat FROM e
)
SELECT
  line_no,
  CASE WHEN j IS NULL THEN 'invalid JSON' WHEN topic IS NULL THEN 'no ONVIF topic' END AS _error,
  sw_time(coalesce(j->>'$.UtcTime', j->>'$.utc_time', j->>'$.time')) AS time,
  'Physical Access' AS class_name,
  CASE WHEN topic LIKE '%Door/State/DoorAlarm%' THEN 'door_alarm'
       WHEN topic LIKE '%Door/State/DoorPhysicalState%' THEN 'door_state'
       WHEN topic LIKE '%AccessControl/AccessGranted%' THEN 'access_granted'
       WHEN topic LIKE '%AccessControl/Denied%' OR topic LIKE '%AccessControl/AccessDenied%' THEN 'access_denied'
       WHEN topic LIKE '%GlobalSceneChange%' OR topic LIKE '%Tamper%' THEN 'camera_tamper'
       WHEN topic LIKE '%SignalLoss%' THEN 'camera_signal_loss'
       WHEN topic LIKE '%Motion%' THEN 'motion'
       WHEN topic LIKE '%Reboot%' OR topic LIKE '%OperatingTime%' THEN 'device_reboot'
       ELSE lower(regexp_replace(split_part(topic, ':', 2), '/', '_', 'g')) END AS activity,
  CASE WHEN topic LIKE '%Denied%' THEN 'failure'
       WHEN topic LIKE '%AccessGranted%' THEN 'success' ELSE 'unknown' END AS outcome,
  coalesce(dat->>'$.State', dat->>'$.IsMotion', dat->>'$.Reason') AS reason,
  topic AS event_code,
  coalesce(src->>'$.Store', src->>'$.Site', j->>'$.store_id') AS store_id,
  coalesce(src->>'$.Device', src->>'$.DoorToken', src->>'$.AccessPointToken', src->>'$.VideoSourceToken', src->>'$.VideoSourceConfigurationToken') AS device,
  coalesce(dat->>'$.CredentialHolderName', dat->>'$.CredentialToken') AS employee_id,
  json_object('source', src, 'data', dat) AS attributes
FROM t
