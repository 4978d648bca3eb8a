-- The stderr log as the server wrote it: each record's text is the record.
WITH src AS (SELECT line_no, line, line AS text FROM batch)
