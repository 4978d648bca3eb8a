-- Linux auth.log / secure (rsyslog): BSD syslog timestamps without a year, or RFC 3339 ones.
-- A year-less timestamp takes the year of the file's modification time (`sw_year_ref`), minus one when
-- that would put it more than a day after the file was last written (December lines read in January).
WITH p AS (
  SELECT line_no, regexp_extract(line,
    '^(?:<\d+>\d? ?)?(?:([A-Z][a-z]{2} +\d{1,2} \d\d:\d\d:\d\d)|(\d{4}-\d\d-\d\d[T ]\d\d:\d\d:\d\d(?:\.\d+)?(?:Z|[+-]\d\d:?\d\d)?)) (\S+) ([^\s\[:]+)(?:\[(\d+)\])?: ?(.*)$',
    ['bsd', 'iso', 'host', 'prog', 'pid', 'msg']) AS r
  FROM batch
), t AS (
  SELECT line_no, r,
    CASE WHEN r.bsd <> '' THEN sw_local(try_strptime(year(getvariable('sw_year_ref'))::VARCHAR || ' ' || regexp_replace(r.bsd, ' +', ' ', 'g'), '%Y %b %d %H:%M:%S'))
         WHEN r.iso <> '' THEN sw_time(r.iso) END AS ts,
    regexp_extract(r.msg, '^Accepted (\S+) for (\S+) from (\S+) port (\d+)', ['method', 'user', 'ip', 'port']) AS ok,
    regexp_extract(r.msg, '^Failed (\S+) for (invalid user )?(\S+) from (\S+) port (\d+)', ['method', 'invalid', 'user', 'ip', 'port']) AS bad,
    regexp_extract(r.msg, '^Invalid user (\S*) from (\S+)(?: port (\d+))?', ['user', 'ip', 'port']) AS inv,
    regexp_extract(r.msg, '^(?:Disconnected from|Connection closed by|Received disconnect from) (?:(?:authenticating |invalid )?user (\S+) )?(\S+) port (\d+)', ['user', 'ip', 'port']) AS bye,
    regexp_extract(r.msg, '^\s*(\S+) : (?:.*?(\d+) incorrect password attempts? ; )?(?:.*?)TTY=(\S+) ; PWD=(\S+) ; USER=(\S+) ; COMMAND=(.*)$', ['user', 'fails', 'tty', 'pwd', 'target', 'cmd']) AS sudo,
    regexp_extract(r.msg, 'authentication failure;.*?rhost=(\S*)(?:\s+user=(\S+))?', ['rhost', 'user']) AS pam,
    regexp_extract(r.msg, 'session (opened|closed) for user (\S+?)(?:\(uid=\d+\))?(?: by|$)', ['what', 'user']) AS sess
  FROM p
), y AS (
  SELECT *, CASE WHEN r.bsd <> '' AND ts > getvariable('sw_year_ref') + INTERVAL 1 DAY THEN ts - INTERVAL 1 YEAR ELSE ts END AS time
  FROM t
)
SELECT
  line_no,
  CASE WHEN r.host = '' THEN 'not a syslog line' END AS _error,
  time,
  CASE WHEN sess.what <> '' THEN 'Authentication'
       WHEN r.prog IN ('sshd', 'sudo', 'su', 'login', 'passwd', 'useradd', 'usermod', 'chpasswd') OR r.prog LIKE 'pam%' OR pam.rhost <> '' OR pam.user <> ''
       THEN 'Authentication' ELSE 'Process Activity' END AS class_name,
  CASE WHEN ok.user <> '' OR bad.user <> '' OR inv.ip <> '' THEN 'logon'
       WHEN bye.ip <> '' THEN 'logoff'
       WHEN sudo.cmd <> '' THEN 'sudo'
       WHEN pam.rhost <> '' OR pam.user <> '' THEN 'pam_failure'
       WHEN sess.what <> '' THEN 'session_' || sess.what
       ELSE 'log' END AS activity,
  CASE WHEN ok.user <> '' OR (sudo.cmd <> '' AND sudo.fails = '') OR sess.what <> '' THEN 'success'
       WHEN bad.user <> '' OR inv.ip <> '' OR sudo.fails <> '' OR pam.rhost <> '' OR pam.user <> '' THEN 'failure'
       ELSE 'unknown' END AS outcome,
  CASE WHEN ok.user <> '' THEN ok.method
       WHEN bad.user <> '' THEN bad.method || CASE WHEN bad.invalid <> '' THEN ' (invalid user)' ELSE '' END
       WHEN inv.ip <> '' THEN 'invalid user'
       WHEN sudo.fails <> '' THEN sudo.fails || ' incorrect password attempts' END AS reason,
  r.prog AS event_code,
  r.host AS host,
  nullif(coalesce(nullif(ok.user, ''), nullif(bad.user, ''), nullif(inv.user, ''), nullif(bye.user, ''), nullif(sudo.user, ''), nullif(pam.user, ''), nullif(sess.user, '')), '') AS user_name,
  nullif(coalesce(nullif(ok.ip, ''), nullif(bad.ip, ''), nullif(inv.ip, ''), nullif(bye.ip, ''), nullif(pam.rhost, '')), '') AS src_ip,
  try_cast(coalesce(nullif(ok.port, ''), nullif(bad.port, ''), nullif(inv.port, ''), nullif(bye.port, '')) AS INTEGER) AS src_port,
  CASE WHEN r.prog = 'sshd' THEN 'ssh' END AS protocol,
  nullif(sudo.cmd, '') AS command_line,
  r.msg AS message,
  json_object('pid', nullif(r.pid, ''), 'sudo_target_user', nullif(sudo.target, ''), 'tty', nullif(sudo.tty, ''), 'pwd', nullif(sudo.pwd, '')) AS attributes
FROM y
