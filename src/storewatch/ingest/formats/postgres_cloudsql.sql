-- Google Cloud SQL for PostgreSQL, as Cloud Logging exports it (one LogEntry per line): the server's line
-- without its timestamp in `textPayload` ('[%p]: [%l-1] db=%d,user=%u '), the time in `timestamp`. The
-- further lines of a message come as entries of their own (their text starts with a tab); the reader joins
-- them to the first, and their texts are joined here.
WITH j AS (
  SELECT line_no, line, list_transform(string_split(line, chr(10)), lambda e: CASE WHEN json_valid(e) THEN e END) AS entries
  FROM batch
), r AS (
  SELECT line_no, line, json_extract_string(entries[1], '$.timestamp') AS ts, regexp_extract(
    array_to_string(list_transform(entries, lambda e: json_extract_string(e, '$.textPayload')), chr(10)),
    '(?s)^((?:.*?[\s:\]>)|\-])?)(DEBUG[1-5]?|INFO|NOTICE|WARNING|ERROR|LOG|FATAL|PANIC|STATEMENT|DETAIL|HINT|CONTEXT|QUERY|LOCATION):\s+(.*)$',
    ['prefix', 'level', 'msg']) AS r
  FROM j
), s AS (
  SELECT line_no, line, coalesce(ts IS NOT NULL AND r.level <> '', false) AS line_ok, ts, r.prefix, r.level,
    replace(r.msg, chr(10) || chr(9), chr(10)) AS msg, NULL::VARCHAR AS pid
  FROM r
)
