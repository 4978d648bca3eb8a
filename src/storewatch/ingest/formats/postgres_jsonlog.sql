-- PostgreSQL jsonlog (log_destination = jsonlog, PostgreSQL 15+): one JSON object per line; the server
-- leaves out keys that are empty.
WITH j AS (
  SELECT line_no, line, CASE WHEN json_valid(line) THEN line END AS j FROM batch
), pg AS (
  SELECT line_no, line, coalesce(json_extract_string(j, '$.timestamp') IS NOT NULL, false) AS line_ok,
    json_extract_string(j, '$.timestamp') AS ts, json_extract_string(j, '$.error_severity') AS level,
    json_extract_string(j, '$.message') AS msg,
    json_extract_string(j, '$.pid') AS pid, json_extract_string(j, '$.user') AS user_name,
    json_extract_string(j, '$.dbname') AS db, json_extract_string(j, '$.application_name') AS app,
    json_extract_string(j, '$.remote_host') AS client, json_extract_string(j, '$.remote_port') AS client_port,
    json_extract_string(j, '$.state_code') AS sqlstate, json_extract_string(j, '$.detail') AS detail,
    json_extract_string(j, '$.statement') AS stmt, json_extract_string(j, '$.session_id') AS session_id,
    json_extract_string(j, '$.backend_type') AS backend_type, json_extract_string(j, '$.query_id') AS query_id
  FROM j
)
