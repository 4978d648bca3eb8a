-- PostgreSQL csvlog (log_destination = csvlog): 23 columns up to PostgreSQL 12, then application_name (13),
-- backend_type and leader_pid (14), query_id (14+). Quoted fields hold newlines and `""`; the reader joins
-- a record's lines while its quotes are open. Fields are cut with one regex (RFC 4180 quoting).
WITH c AS (
  SELECT line_no, line,
    list_transform(regexp_extract_all(line, '(?s)(?:^|,)("(?:[^"]|"")*"|[^,]*)', 1),
      lambda f: CASE WHEN f[1] = '"' THEN replace(f[2:-2], '""', '"') ELSE f END) AS f
  FROM batch
), pg AS (
  SELECT line_no, line, len(f) >= 22 AND regexp_matches(f[1], '^\d{4}-\d\d-\d\d') AS line_ok,
    f[1] AS ts, f[12] AS level, f[14] AS msg,
    nullif(f[4], '') AS pid, nullif(f[2], '') AS user_name, nullif(f[3], '') AS db, nullif(f[23], '') AS app,
    nullif(CASE WHEN regexp_matches(f[5], ':\d+$') THEN regexp_extract(f[5], '^(.*):\d+$', 1) ELSE f[5] END, '') AS client,
    nullif(regexp_extract(f[5], ':(\d+)$', 1), '') AS client_port,
    nullif(f[13], '') AS sqlstate, nullif(f[15], '') AS detail, nullif(f[20], '') AS stmt,
    nullif(f[6], '') AS session_id, nullif(f[24], '') AS backend_type, nullif(f[26], '') AS query_id
  FROM c
)
