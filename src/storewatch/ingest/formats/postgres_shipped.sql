-- The stderr log as shippers forward it, one JSON object per line with the server's line in `message`
-- (Filebeat, Elastic Agent, Vector, AWS CloudWatch Logs exports) or `log` (Fluent Bit, Docker's json-file
-- driver); a shipper's multiline setting may already have joined a message's further lines into it.
WITH src AS (
  SELECT line_no, line,
    CASE WHEN json_valid(line) THEN coalesce(json_extract_string(line, '$.message'), json_extract_string(line, '$.log')) END AS text
  FROM batch
)
