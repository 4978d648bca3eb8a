-- X / Twitter API v2 post objects (id, text, author_id, created_at, lang, entities), one per record: lines
-- of posts, or posts opened out of responses and filtered-stream messages by documents.py, which also joins
-- the author's username and name from `includes.users` (`author_username`, `author_name`) and carries the
-- stream's `matching_rules`. With default fields only (id, text, edit_history_tweet_ids) the time is read
-- from the post id, a snowflake: milliseconds since the epoch = (id >> 22) + 1288834974657.
WITH e AS (
  SELECT line_no, CASE WHEN json_valid(line) THEN line::JSON END AS j FROM batch
), u AS (
  SELECT *,
    [coalesce(x.unwound_url, x.expanded_url) FOR x IN from_json(j->'$.entities.urls', '[{"expanded_url": "VARCHAR", "unwound_url": "VARCHAR"}]')
     IF coalesce(x.unwound_url, x.expanded_url) IS NOT NULL] AS urls,
    try_cast(j->>'$.id' AS UBIGINT) AS post_id
  FROM e
)
SELECT
  line_no,
  CASE WHEN j IS NULL THEN 'invalid JSON' END AS _error,
  coalesce(sw_time(j->>'$.created_at'),
           CASE WHEN post_id > (1::UBIGINT << 40) THEN to_timestamp(((post_id >> 22) + 1288834974657) / 1000) END) AS time,
  'Social Post' AS class_name,
  'post' AS activity,
  'unknown' AS outcome,
  j->>'$.author_id' AS user_id,
  coalesce(j->>'$.username', j->>'$.author_username') AS user_name,
  j->>'$.text' AS message,
  lower(nullif(regexp_extract(coalesce(urls[1], regexp_extract(j->>'$.text', '(https?://\S+)', 1)), '^[a-zA-Z]+://([^/:?#\s]+)', 1), '')) AS url_host,
  json_object('post_id', j->>'$.id', 'lang', j->>'$.lang', 'urls', urls,
              'mentions', json_extract_string(j, '$.entities.mentions[*].username'),
              'hashtags', json_extract_string(j, '$.entities.hashtags[*].tag'),
              'author_name', j->>'$.author_name',
              'matching_rules', json_extract_string(j, '$.matching_rules[*].tag'),
              'conversation_id', j->>'$.conversation_id', 'metrics', j->'$.public_metrics') AS attributes
FROM u
