-- Auth0 log events: `GET /api/v2/logs` records, and log-stream events (their `{"log_id", "data"}`
-- envelopes are opened by documents.py; inside an Amazon EventBridge event they are the `detail`).
-- Event type codes: https://auth0.com/docs/deploy-monitor/logs/log-event-type-codes
-- Each line is parsed once into the fields below (`from_json`); a field of another JSON type than the
-- structure says reads as NULL, and a VARCHAR field holding an object or array reads as its JSON text.
WITH e AS (
  SELECT line_no, ok, CASE WHEN ok THEN from_json(line, '{
    "date": "VARCHAR", "type": "VARCHAR", "description": "VARCHAR", "user_name": "VARCHAR", "user_id": "VARCHAR",
    "ip": "VARCHAR", "user_agent": "VARCHAR", "hostname": "VARCHAR", "client_name": "VARCHAR",
    "connection": "VARCHAR", "log_id": "VARCHAR",
    "details": {"email": "VARCHAR", "country": "VARCHAR", "new_email": "VARCHAR", "error": "JSON"},
    "location_info": {"country_code": "VARCHAR"}}') END AS j
  FROM (SELECT line_no, CASE WHEN ok AND json_extract_string(line, '$."detail-type"') = 'Auth0 log'  -- Amazon EventBridge
                             THEN coalesce(json_extract(line, '$.detail.data'), line)::VARCHAR ELSE line END AS line, ok
        FROM (SELECT line_no, line, json_valid(line) AS ok FROM batch))
)
SELECT
  line_no,
  CASE WHEN NOT ok THEN 'invalid JSON' END AS _error,
  sw_time(j.date) AS time,
  j.type AS event_code,
  CASE
    WHEN j.type IN ('s', 'f', 'fp', 'fu', 'fcoa', 'scoa', 'fsa', 'ssa', 'w', 'gd_auth_failed', 'gd_auth_succeed') THEN 'logon'
    WHEN j.type IN ('slo', 'flo') THEN 'logoff'
    WHEN j.type IN ('ss', 'fs') THEN 'signup'
    WHEN j.type IN ('scp', 'fcp', 'scpr', 'fcpr', 'scpn', 'fcpn') THEN 'password_change'
    WHEN j.type IN ('sce', 'fce', 'sv', 'fv') THEN 'email_change'
    WHEN j.type LIKE 'limit_%' OR j.type LIKE '%pwd_leak' OR j.type LIKE 'gd_%rate_limit_exceed' THEN 'blocked'
    ELSE 'other'
  END AS activity,
  CASE
    WHEN j.type IN ('s', 'slo', 'ss', 'scp', 'sce', 'scoa', 'ssa', 'scpr', 'scpn', 'sv', 'gd_auth_succeed') THEN 'success'
    WHEN j.type LIKE 'f%' OR j.type LIKE 'limit_%' OR j.type LIKE '%pwd_leak' OR j.type LIKE 'gd_%rate_limit_exceed'
      OR j.type = 'gd_auth_failed' THEN 'failure'
    ELSE 'unknown'
  END AS outcome,
  CASE WHEN j.type IN ('ss', 'fs', 'scp', 'fcp', 'scpr', 'fcpr', 'scpn', 'fcpn', 'sce', 'fce', 'sv', 'fv')
       THEN 'Account Change' ELSE 'Authentication' END AS class_name,
  coalesce(nullif(j.description, ''), CASE json_type(j.details.error) WHEN 'OBJECT' THEN j.details.error->>'$.message'
           WHEN 'VARCHAR' THEN j.details.error->>'$' END) AS reason,
  nullif(j.user_name, '') AS user_name,
  nullif(j.user_id, '') AS user_id,
  coalesce(j.details.email, CASE WHEN contains(j.user_name, '@') THEN lower(j.user_name) END) AS email,
  j.ip AS src_ip,
  j.user_agent AS user_agent,
  coalesce(j.location_info.country_code, j.details.country) AS country,
  j.hostname AS url_host,
  json_object('client_name', j.client_name, 'connection', j.connection,
              'log_id', j.log_id, 'new_email', j.details.new_email,
              'error', CASE json_type(j.details.error) WHEN 'OBJECT' THEN j.details.error->>'$.oauthError'
                            WHEN 'VARCHAR' THEN j.details.error->>'$' END) AS attributes
FROM e
