-- X / Twitter API v2 post objects (id, text, author_id, created_at, entities.urls/mentions/hashtags).
WITH e AS (
  SELECT line_no, CASE WHEN json_valid(line) THEN line::JSON END AS j FROM batch
), u AS (
  SELECT *, json_extract_string(j, '$.entities.urls[*].expanded_url') AS urls FROM e
)
SELECT
  line_no,
  CASE WHEN j IS NULL THEN 'invalid JSON' END AS _error,
  sw_time(j->>'$.created_at') AS time,
  'Social Post' AS class_name,
  'post' AS activity,
  'unknown' AS outcome,
  j->>'$.author_id' AS user_id,
  j->>'$.username' AS user_name,
  j->>'$.text' AS message,
  lower(nullif(regexp_extract(coalesce(urls[1], regexp_extract(j->>'$.text', '(https?://\S+)', 1)), '^[a-zA-Z]+://([^/:?#\s]+)', 1), '')) AS url_host,
  json_object('post_id', j->>'$.id', 'lang', j->>'$.lang', 'urls', urls,
              'mentions', json_extract_string(j, '$.entities.mentions[*].username'),
              'hashtags', json_extract_string(j, '$.entities.hashtags[*].tag'),
              'conversation_id', j->>'$.conversation_id', 'metrics', j->'$.public_metrics') AS attributes
FROM u
