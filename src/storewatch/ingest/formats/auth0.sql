-- Auth0 log events, one JSON object per line (tenant log streams, `GET /api/v2/logs`).
-- Event type codes: https://auth0.com/docs/deploy-monitor/logs/log-event-type-codes
SELECT
  line_no,
  CASE WHEN line IS NULL THEN 'invalid JSON' END AS _error,
  sw_time(line->>'$.date') AS time,
  line->>'$.type' AS event_code,
  CASE
    WHEN line->>'$.type' IN ('s', 'f', 'fp', 'fu', 'fcoa', 'scoa', 'fsa', 'ssa', 'w', 'gd_auth_failed', 'gd_auth_succeed') THEN 'logon'
    WHEN line->>'$.type' IN ('slo', 'flo') THEN 'logoff'
    WHEN line->>'$.type' IN ('ss', 'fs') THEN 'signup'
    WHEN line->>'$.type' IN ('scp', 'fcp', 'scpr', 'fcpr', 'scpn', 'fcpn') THEN 'password_change'
    WHEN line->>'$.type' IN ('sce', 'fce', 'sv', 'fv') THEN 'email_change'
    WHEN line->>'$.type' LIKE 'limit_%' OR line->>'$.type' = 'pwd_leak' THEN 'blocked'
    ELSE 'other'
  END AS activity,
  CASE
    WHEN line->>'$.type' IN ('s', 'slo', 'ss', 'scp', 'sce', 'scoa', 'ssa', 'scpr', 'scpn', 'sv', 'gd_auth_succeed') THEN 'success'
    WHEN line->>'$.type' LIKE 'f%' OR line->>'$.type' LIKE 'limit_%' OR line->>'$.type' IN ('pwd_leak', 'gd_auth_failed') THEN 'failure'
    ELSE 'unknown'
  END AS outcome,
  CASE WHEN line->>'$.type' IN ('ss', 'fs', 'scp', 'fcp', 'scpr', 'fcpr', 'scpn', 'fcpn', 'sce', 'fce', 'sv', 'fv')
       THEN 'Account Change' ELSE 'Authentication' END AS class_name,
  line->>'$.description' AS reason,
  line->>'$.user_name' AS user_name,
  line->>'$.user_id' AS user_id,
  coalesce(line->>'$.details.email', CASE WHEN contains(line->>'$.user_name', '@') THEN lower(line->>'$.user_name') END) AS email,
  line->>'$.ip' AS src_ip,
  line->>'$.user_agent' AS user_agent,
  coalesce(line->>'$.location_info.country_code', line->>'$.details.country') AS country,
  line->>'$.hostname' AS url_host,
  json_object('client_name', line->>'$.client_name', 'connection', line->>'$.connection',
              'log_id', line->>'$.log_id', 'new_email', line->>'$.details.new_email') AS attributes
FROM (SELECT line_no, CASE WHEN json_valid(line) THEN line END AS line FROM batch)
