-- The stderr log as shippers forward it, one JSON object per line with the server's line in `message`
-- (Filebeat, Elastic Agent, Vector, `aws logs get-log-events`) or `log` (Fluent Bit, Docker's json-file
-- driver). A shipper with a multiline setting has joined a message's further lines into one object; one
-- without sends each as an object of its own (its text starts with the server's tab): the reader joins
-- those to the first, and their texts are joined here.
WITH e AS (
  SELECT line_no, line, list_transform(string_split(line, chr(10)), lambda o: CASE WHEN json_valid(o)
    THEN rtrim(coalesce(json_extract_string(o, '$.message'), json_extract_string(o, '$.log')), chr(10)) END) AS texts
  FROM batch
), src AS (
  SELECT line_no, line, CASE WHEN list_position(texts, NULL) IS NULL THEN array_to_string(texts, chr(10)) END AS text FROM e
)
