-- Google Cloud SQL for PostgreSQL, as Cloud Logging exports it (one LogEntry per line): the server's line
-- without its timestamp in `textPayload` ('[%p]: [%l-1] db=%d,user=%u '), the time in `timestamp`. The
-- further lines of a message come as entries of their own (their text starts with a tab); the reader joins
-- them to the first, and their texts are joined here.
WITH j AS (
  SELECT line_no, line, list_transform(string_split(line, chr(10)), lambda e: CASE WHEN json_valid(e) THEN e END) AS entries
  FROM batch
), e AS (
  SELECT line_no, line, json_extract_string(entries[1], '$.timestamp') AS ts,
    array_to_string(list_transform(entries, lambda e: json_extract_string(e, '$.textPayload')), chr(10)) AS text
  FROM j
), r AS (
  SELECT line_no, line, ts, text, regexp_extract(text,
    '(?s)^((?:.*?[\s:\]>)|\-])?)(DEBUG[1-5]?|INFO|NOTICE|WARNING|ERROR|LOG|FATAL|PANIC|STATEMENT|DETAIL|HINT|CONTEXT|QUERY|LOCATION):\s+(.*)$',
    ['prefix', 'level', 'msg']) AS r
  FROM e
), s AS (
  -- a further line that came alone (entries in a JSON array are records of their own): kept as one
  SELECT line_no, line, coalesce(ts IS NOT NULL AND (r.level <> '' OR left(text, 1) = chr(9)), false) AS line_ok, ts, r.prefix,
    r.level, CASE WHEN r.level = '' THEN ltrim(text, chr(9)) ELSE replace(r.msg, chr(10) || chr(9), chr(10)) END AS msg,
    NULL::VARCHAR AS pid
  FROM r
)
