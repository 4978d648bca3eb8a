-- PostgreSQL logging to syslog (log_destination = syslog), as rsyslog writes it: a syslog header (BSD
-- timestamp without a year, or RFC 3339), `postgres[pid]: [line-part] `, then the prefix (no timestamp:
-- syslog has one) and `LEVEL:  `. Heroku's logplex has the same shape: `app[postgres.pid]: [COLOR] [n-k] ` (newer drains drop the colon). The server sends each line of a message, and each ~900-byte piece of a
-- long line, as its own syslog message numbered [n-2], [n-3]...; the reader joins them to the first, and
-- here the pieces lose their headers again: a piece that starts with a tab (`#011` once rsyslog escaped it)
-- was a new line of the message, any other piece the rest of a long line.
-- A year-less timestamp takes the year of the file's modification time (`sw_year_ref`), minus one when that
-- would put it more than a day after the file was last written.
WITH r AS (
  SELECT line_no, line, regexp_extract(line,
    '(?s)^(?:<\d+>\d? ?)?(?:([A-Z][a-z]{2} +\d{1,2} \d\d:\d\d:\d\d)|(\d{4}-\d\d-\d\d[T ]\d\d:\d\d:\d\d(?:\.\d+)?(?:Z|[+-]\d\d:?\d\d)?))(?: \S+)? [^\s\[:]+\[(?:[^\]\s]*?\.)?(\d+)\]:? (?:\[[A-Z_]+\] )?\[\d+-\d+\] ((?:.*?[\s:\]>)|\-])?)(DEBUG[1-5]?|INFO|NOTICE|WARNING|ERROR|LOG|FATAL|PANIC|STATEMENT|DETAIL|HINT|CONTEXT|QUERY|LOCATION):\s+(.*)$',
    ['bsd', 'iso', 'pid', 'prefix', 'level', 'msg']) AS r
  FROM batch
), y AS (
  SELECT *, try_strptime(year(getvariable('sw_year_ref'))::VARCHAR || ' ' || regexp_replace(r.bsd, ' +', ' ', 'g'), '%Y %b %d %H:%M:%S') AS bsd_ts
  FROM r
), s AS (
  SELECT line_no, line, r.level <> '' AS line_ok,
    CASE WHEN r.bsd <> '' THEN strftime(CASE WHEN sw_local(bsd_ts) > getvariable('sw_year_ref') + INTERVAL 1 DAY
                                             THEN bsd_ts - INTERVAL 1 YEAR ELSE bsd_ts END, '%Y-%m-%d %H:%M:%S')
         ELSE r.iso END AS ts,
    r.prefix, r.level,
    replace(regexp_replace(regexp_replace(r.msg, '\n[^\n]*?\]:? (?:\[[A-Z_]+\] )?\[\d+-\d+\] (?:#011|\t)', chr(10), 'g'),
                           '\n[^\n]*?\]:? (?:\[[A-Z_]+\] )?\[\d+-\d+\] ', '', 'g'), '#011', chr(9)) AS msg,
    r.pid
  FROM y
)
