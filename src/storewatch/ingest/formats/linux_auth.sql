-- Linux authentication and syslog as the systems and shippers write it (docs/sources/linux.md):
--   text:   BSD syslog (auth.log, /var/log/secure; `Nov 16 03:00:01 host prog[pid]: msg`, optional <PRI>),
--           rsyslog's RFC 3339 timestamps (high precision, with or without a zone), journalctl short forms;
--   5424:   RFC 5424 (`<34>1 2026-11-16T03:00:01.003Z host app procid msgid [sd]|- msg`);
--   json:   journald's `journalctl -o json` (MESSAGE may be an array of bytes), Fluent Bit's syslog parser
--           (host, ident, pid, message, time/date), Vector's syslog source (hostname, appname, procid,
--           message, timestamp), rsyslog JSON templates (programname); and any of the line shapes forwarded
--           whole in a JSON envelope (Filebeat / Elastic Agent, Vector file source, Fluent Bit tail).
-- Each shape yields (time, host, prog, pid, msg); one shared part below parses msg.
-- A year-less timestamp takes the year of the file's modification time (`sw_year_ref`), minus one when
-- that would put it more than a day after the file was last written (December lines read in January).
-- Addresses: sshd writes the client as ` from <addr> port <n>` AFTER the user name the client chose, so
-- every pattern takes the LAST such address (greedy user, tail anchored at the end): a user name that
-- contains ` from 10.1.2.3 port 1` does not move src_ip. src_ip holds only IP literals; a host name
-- (UseDNS, PAM rhost=) goes to attributes.rhost.
WITH e AS (
  -- A shipper that forwards whole lines wraps them: Filebeat / Elastic Agent and Vector's file source in
  -- `message`, Fluent Bit's tail and Docker in `log`. Such a line is read as the line itself.
  SELECT line_no, line, CASE WHEN starts_with(line, '{') AND json_valid(line)
                             THEN coalesce(json_extract_string(line, '$.message'), json_extract_string(line, '$.log')) END AS wrapped
  FROM batch
), l AS (
  SELECT line_no, line,
    CASE WHEN starts_with(line, '{') THEN 'json'
         WHEN regexp_matches(line, '^<\d{1,3}>\d{1,2} ') THEN '5424' ELSE 'text' END AS shape
  FROM (SELECT line_no, CASE WHEN regexp_matches(wrapped, '^(?:<\d{1,3}>\d{0,2} ?)?(?:[A-Z][a-z]{2} +\d{1,2} |\d{4}-\d\d-\d\d[T ])\d\d:\d\d:\d\d\S* \S+ \S')
                             THEN wrapped ELSE line END AS line
        FROM e)
), s AS (
  SELECT line_no, shape,
    -- `journalctl --no-hostname` leaves the host out: a first word that is a `tag[pid]: ` is no host.
    CASE WHEN shape = 'text' THEN regexp_extract(line,
      '(?s)^(?:<(\d{1,3})>\d? ?)?(?:([A-Z][a-z]{2} +\d{1,2} \d\d:\d\d:\d\d(?:\.\d+)?)|(\d{4}-\d\d-\d\d[T ]\d\d:\d\d:\d\d(?:[.,]\d+)?(?:Z|[+-]\d\d:?\d\d)?)) (?:([^\s\[:]+)(?:\[(\d+)\])?: (.*)|(\S+) (?:([^\s\[:]+)(?:\[(\d+)\])?: ?)?(.*))$',
      ['pri', 'bsd', 'iso', 'prog0', 'pid0', 'msg0', 'host', 'prog', 'pid', 'msg']) END AS t,
    CASE WHEN shape = '5424' THEN regexp_extract(line,
      '(?s)^<(\d{1,3})>\d{1,2} (\S+) (\S+) (\S+) (\S+) \S+ (-|(?:\[(?:[^\]\\]|\\.)*\])+)(?: (.*))?$',
      ['pri', 'ts', 'host', 'app', 'procid', 'sd', 'msg']) END AS r,
    CASE WHEN shape = 'json' AND json_valid(line) THEN json_extract_string(line, [
      '$.__REALTIME_TIMESTAMP', '$.timestamp', '$.time', '$.date', '$."@timestamp"',
      '$._HOSTNAME', '$.hostname', '$.host',
      '$.SYSLOG_IDENTIFIER', '$._COMM', '$.ident', '$.appname', '$.programname', '$.app_name',
      '$.SYSLOG_PID', '$._PID', '$.pid', '$.procid',
      '$.MESSAGE', '$.message', '$.msg', '$.PRIORITY', '$.severity',
      '$.__CURSOR', '$._SOURCE_REALTIME_TIMESTAMP']) END AS j,
    CASE WHEN shape = 'json' AND json_valid(line) AND json_type(line, '$.MESSAGE') = 'ARRAY'
         THEN from_json(json_extract(line, '$.MESSAGE'), '["UTINYINT"]') END AS jbytes
  FROM l
), f AS (
  SELECT line_no, shape, t.bsd,
    CASE shape WHEN 'text' THEN t.iso WHEN '5424' THEN nullif(r.ts, '-')
         -- journald's 16-digit microsecond stamps can look like card numbers to the PAN scrubber; the
         -- cursor's `t=` field holds the same time in hex, which it leaves alone
         ELSE coalesce(CASE WHEN regexp_full_match(j[1], '\d+') THEN j[1] END,
                       (try_cast('0x' || nullif(regexp_extract(j[24], '(?:^|;)t=([0-9a-f]+)', 1), '') AS BIGINT))::VARCHAR,
                       CASE WHEN regexp_full_match(j[25], '\d+') THEN j[25] END, j[2], j[3], j[4], j[5]) END AS stamp,
    CASE shape WHEN 'text' THEN nullif(t.host, '') WHEN '5424' THEN nullif(r.host, '-') ELSE coalesce(j[6], j[7], j[8]) END AS host,
    CASE shape WHEN 'text' THEN coalesce(nullif(t.prog0, ''), nullif(t.prog, '')) WHEN '5424' THEN nullif(r.app, '-')
         ELSE coalesce(j[9], j[10], j[11], j[12], j[13], j[14]) END AS prog,
    CASE shape WHEN 'text' THEN coalesce(nullif(t.pid0, ''), nullif(t.pid, '')) WHEN '5424' THEN nullif(r.procid, '-')
         ELSE coalesce(j[15], j[16], j[17], j[18]) END AS pid,
    CASE shape WHEN 'text' THEN CASE WHEN t.prog0 <> '' THEN t.msg0 ELSE t.msg END WHEN '5424' THEN regexp_replace(coalesce(r.msg, ''), '^\x{FEFF}', '')
         ELSE coalesce(
           -- journald writes a MESSAGE that is not valid UTF-8 as an array of its bytes
           try(decode(unhex(array_to_string(list_transform(jbytes, lambda b: printf('%02x', b)), '')))),
           try(array_to_string(list_transform(jbytes, lambda b: chr(b)), '')), j[19], j[20], j[21]) END AS msg0,
    CASE shape WHEN 'text' THEN nullif(t.pri, '') WHEN '5424' THEN r.pri END AS pri,
    CASE WHEN shape = 'json' THEN coalesce(j[22], j[23]) END AS severity,
    CASE WHEN shape = '5424' AND r.sd <> '-' THEN r.sd END AS sd,
    CASE shape WHEN 'text' THEN t.bsd = '' AND t.iso = '' WHEN '5424' THEN r.ts = '' ELSE j IS NULL END AS unparsed
  FROM s
), g AS (
  -- sysklogd's repeat compression, `last message repeated N times` (no program), stands for N more of the
  -- line before; rsyslog's `message repeated N times: [ <msg>]` for N of <msg>.
  SELECT * REPLACE (CASE WHEN last_n IS NULL THEN msg0 ELSE prev.msg0 END AS msg0,
                    CASE WHEN last_n IS NULL THEN prog ELSE prev.prog END AS prog,
                    CASE WHEN last_n IS NULL THEN pid ELSE prev.pid END AS pid)
  FROM (SELECT *, CASE WHEN prog IS NULL THEN try_cast(regexp_extract(msg0, '^last message repeated (\d+) times?$', 1) AS INTEGER) END AS last_n,
               lag({'msg0': msg0, 'prog': prog, 'pid': pid}) OVER (ORDER BY line_no) AS prev
        FROM f)
), m AS (
  SELECT *,
    coalesce(last_n, try_cast(regexp_extract(msg0, '^message repeated (\d+) times: \[', 1) AS INTEGER)) AS repeat,
    CASE WHEN regexp_matches(msg0, '^message repeated \d+ times: \[')
         THEN regexp_extract(msg0, '^message repeated \d+ times: \[ ?(.*?)\]?$', 1) ELSE msg0 END AS msg,
    -- old PAM writes through syslog as `sshd(pam_unix)[pid]:`; the program is the part before the module
    regexp_replace(prog, '\(pam_\w+\)$', '') IN ('sshd', 'sshd-session', 'sshd-auth') AS ssh,
    regexp_replace(prog, '\(pam_\w+\)$', '') AS base
  FROM g
), p AS (
  SELECT *,
    -- Each pattern runs only on the lines its fixed start (or a cheap test) selects: extracting a struct is
    -- the costly part.
    CASE WHEN ssh AND starts_with(msg, 'Accepted ') THEN regexp_extract(msg,
      '^Accepted (\S+) for (.*) from (\S+) port (\d+)(?: ssh2)?(?:: .*)?$', ['method', 'user', 'addr', 'port']) END AS ok,
    CASE WHEN ssh AND (starts_with(msg, 'Failed ') OR contains(msg, 'uthentication')) THEN regexp_extract(msg,
      '^(?:Failed (\S+) for |(?:error: )?maximum authentication attempts exceeded for |(?:error: )?PAM: Authentication failure for )((?:invalid|illegal) user )?(.*) from (\S+?)(?: port (\d+))?(?: ssh2)?(?:: \S.*)?(?: \[preauth\])?$',
      ['method', 'invalid', 'user', 'addr', 'port']) END AS bad,
    CASE WHEN ssh AND (starts_with(msg, 'Invalid user ') OR starts_with(msg, 'Illegal user ')) THEN regexp_extract(msg,
      '^(?:Invalid|Illegal) user (.*) from (\S+?)(?: port (\d+))?(?: \[preauth\])?$', ['user', 'addr', 'port']) END AS inv,
    CASE WHEN ssh AND starts_with(msg, 'User ') THEN regexp_extract(msg,
      '^User (.*) from (\S+) not allowed because (.*)$', ['user', 'addr', 'why']) END AS deny,
    CASE WHEN ssh AND (starts_with(msg, 'Disconnect') OR starts_with(msg, 'Connection ')) THEN regexp_extract(msg,
      '^(?:Disconnected from|Connection closed by|Connection reset by|Disconnecting) (?:(?:authenticating |invalid )?user (.*) )?(\S*[.:]\S*[0-9A-Za-z])(?: port (\d+))?(?:: (.*?))?(?: \[preauth\])?$',
      ['user', 'addr', 'port', 'why']) END AS bye,
    CASE WHEN ssh AND contains(msg, 'Received disconnect ') THEN regexp_extract(msg,
      '^(?:error: )?Received disconnect from (\S*[0-9A-Za-z])(?: port (\d+))?: ?\d+:', ['addr', 'port']) END AS rcv,
    -- Connections that never reached authentication (scanners, incompatible clients, time-outs).
    CASE WHEN ssh AND regexp_matches(msg, '^(?:error: |fatal: )?(?:Did not|Unable to|banner|Timeout|ssh_dispatch|Connection from|Bad protocol|Protocol major)')
    THEN regexp_extract(msg,
      '^(?:error: |fatal: )?(Did not receive identification string from|Unable to negotiate with|banner exchange: Connection from|Timeout before authentication for|ssh_dispatch_run_fatal: Connection from|Connection from|Bad protocol version identification .* from|Protocol major versions differ for) (\S*[0-9A-Za-z])(?: port (\d+))?(?: on \S+ port \d+(?: rdomain \S*)?)?(?:[:,] .*| \[preauth\])?$',
      ['what', 'addr', 'port']) END AS conn,
    -- sshd's notes on the client's address itself: reverse DNS that does not match, MaxStartups drops.
    CASE WHEN ssh AND (contains(msg, 'POSSIBLE BREAK-IN ATTEMPT') OR starts_with(msg, 'drop connection #')) THEN regexp_extract(msg,
      '^(?:reverse mapping checking getaddrinfo for \S+ \[(\S+)\] failed|Address (\S+) maps to .*, but this does not map back to the address|drop connection #\d+ from \[(\S+)\]:(\d+) on )',
      ['dns1', 'dns2', 'drop', 'port']) END AS note,
    -- PAM's auth failure line (pam_unix and look-alikes) and sshd's summary of further ones.
    CASE WHEN contains(msg, 'authentication failure') THEN
      regexp_extract(msg, '^(?:pam_\w+\(([^:)]+):\w+\): |PAM (\d+) more )?authentication failures?;(.*)$',
      ['service', 'more', 'kv']) END AS pam,
    CASE WHEN contains(msg, ':auth): ') THEN regexp_extract(msg, '^pam_\w+\((sudo[^:)]*|su|su-l):auth\): (conversation failed|auth could not identify password for \[(.*)\])$',
      ['service', 'why', 'user']) END AS pamconv,
    CASE WHEN contains(msg, 'session ') THEN regexp_extract(msg, '^(?:pam_\w+\(([^:)]+):session\): )?session (opened|closed) for user (.+?)(?:\(uid=\d+\))?(?: by (.*?)(?:\(uid=(\d+)\))?)?$',
      ['service', 'what', 'user', 'by', 'by_uid']) END AS sess,
    -- Account changes (shadow-utils, passwd through PAM).
    CASE WHEN regexp_matches(msg, '^(?:new |delete |removed |pam_\w+\(\S+:chauthtok\): password changed)') THEN
    regexp_extract(msg, '^(?:(new user|new group): name=([^,]+),|(delete user|delete group|removed group) ''([^'']+)''|pam_\w+\(\S+:chauthtok\): (password changed) for (\S+))',
      ['new', 'new_name', 'del', 'del_name', 'chpw', 'chpw_user']) END AS acct,
    -- sudo: `user : [refusal ; ]TTY=.. ; PWD=.. ; USER=.. ; [GROUP=.. ; ][TSID=.. ; ][ENV=.. ; ]COMMAND=..`
    CASE WHEN prog = 'sudo' THEN regexp_extract(msg,
      '^\s*(\S+) : (?:([^=;]*?) ; )?(?:HOST=\S+ ; )?(?:TTY=(\S+) ; )?(?:PWD=(.*?) ; )?USER=(\S+) ; (?:GROUP=(\S+) ; )?(?:TSID=(\S+) ; )?(?:ENV=(.*?) ; )?COMMAND=(.*)$',
      ['user', 'why', 'tty', 'pwd', 'target', 'group', 'tsid', 'env', 'cmd']) END AS sudo,
    CASE WHEN prog = 'pkexec' THEN regexp_extract(msg,
      '^(\S+): (.*?):? \[USER=([^\]]*)\] \[TTY=([^\]]*)\] \[CWD=([^\]]*)\] \[COMMAND=(.*)\]$',
      ['user', 'what', 'target', 'tty', 'pwd', 'cmd']) END AS pk,
    -- Console logins (shadow-utils login): `FAILED LOGIN (N) on '/dev/tty1' FOR 'root', <reason>`, `ROOT LOGIN  on ...`.
    CASE WHEN base = 'login' THEN regexp_extract(msg,
      '^(?:FAILED LOGIN \(\d+\) on ''([^'']*)''(?: from ''([^'']*)'')? FOR ''(.*)'', (.*)|(ROOT) LOGIN +on ''([^'']*)''(?: from ''([^'']*)'')?|LOGIN ON (\S+) BY (\S+)(?: FROM (\S+))?)$',
      ['tty', 'from', 'user', 'why', 'root', 'root_tty', 'root_from', 'ok_tty', 'ok_user', 'ok_from']) END AS lg,
    -- su: shadow-utils (`Successful su for root by alice`, `+ pts/0 alice:root`) and util-linux (`(to root) alice on pts/0`).
    CASE WHEN prog = 'su' THEN regexp_extract(msg,
      '^(?:(Successful|FAILED) su for (\S+) by (\S+)|([+-]) (\S+) (\S+?):(\S+)|(FAILED SU )?\(to (\S+)\) (\S+) on (\S+))$',
      ['ok1', 'target1', 'user1', 'ok2', 'tty2', 'user2', 'target2', 'bad3', 'target3', 'user3', 'tty3']) END AS su
  FROM m
), k AS (
  SELECT *,
    coalesce(nullif(pam.service, ''), base) IN ('su', 'su-l') OR pamconv.service IN ('su', 'su-l') AS pam_su,
    coalesce(nullif(pam.service, ''), base) LIKE 'sudo%' OR pamconv.service LIKE 'sudo%' AS pam_sudo,
    coalesce(nullif(sess.service, ''), base) IN ('su', 'su-l') AND sess.what = 'opened' AS su_session,
    nullif(regexp_extract(pam.kv, ' ruser=(\S*)', 1), '') AS pam_ruser,
    nullif(regexp_extract(pam.kv, '\suser=(.*)$', 1), '') AS pam_user,
    nullif(regexp_extract(pam.kv, ' tty=(\S*)', 1), '') AS pam_tty,
    nullif(coalesce(nullif(ok.addr, ''), nullif(bad.addr, ''), nullif(inv.addr, ''), nullif(deny.addr, ''),
                    nullif(bye.addr, ''), nullif(rcv.addr, ''), nullif(conn.addr, ''), nullif(note.dns1, ''),
                    nullif(note.dns2, ''), nullif(note.drop, ''), nullif(lg.from, ''), nullif(lg.root_from, ''), nullif(lg.ok_from, ''),
                    -- PAM's key=value list: the client's user= comes last, so the first rhost= is PAM's
                    nullif(regexp_extract(pam.kv, ' rhost=(\S*)', 1), '')), '') AS addr,
    CASE WHEN ok.user <> '' THEN 'ssh_ok' WHEN bad.addr <> '' THEN 'ssh_bad' WHEN inv.addr <> '' THEN 'ssh_invalid'
         WHEN deny.addr <> '' THEN 'ssh_denied'
         -- A connection dropped before authentication ends (`[preauth]`) is a failed logon when sshd names the
         -- user it was authenticating (the only trace of a failed public key at the default log level), else
         -- a failed connection; without `[preauth]` it is the end of a session.
         WHEN (bye.addr <> '' OR rcv.addr <> '') AND ends_with(msg, ' [preauth]') AND bye.user <> '' THEN 'ssh_bad'
         WHEN (bye.addr <> '' OR rcv.addr <> '') AND ends_with(msg, ' [preauth]') THEN 'ssh_conn'
         WHEN bye.addr <> '' OR rcv.addr <> '' THEN 'ssh_bye'
         WHEN conn.addr <> '' OR note.dns1 <> '' OR note.dns2 <> '' OR note.drop <> '' THEN 'ssh_conn'
         WHEN lg.user <> '' OR lg.root <> '' OR lg.ok_user <> '' THEN 'login'
         WHEN sudo.cmd <> '' THEN 'sudo' WHEN pk.cmd <> '' THEN 'pkexec'
         WHEN su.ok1 <> '' OR su.ok2 <> '' OR su.target3 <> '' THEN 'su'
         WHEN pam.kv <> '' OR pamconv.why <> '' THEN 'pam' WHEN sess.what <> '' THEN 'session'
         WHEN acct.new <> '' OR acct.del <> '' OR acct.chpw <> '' THEN 'account' END AS kind
  FROM p
), y AS (
  SELECT *,
    CASE WHEN bsd <> '' THEN sw_local(try_strptime(year(getvariable('sw_year_ref'))::VARCHAR || ' ' || regexp_replace(bsd, ' +', ' ', 'g'),
                                                   ['%Y %b %d %H:%M:%S', '%Y %b %d %H:%M:%S.%f']))
         WHEN regexp_full_match(stamp, '[A-Z][a-z]{2} +\d{1,2} \d\d:\d\d:\d\d(?:\.\d+)?') THEN
           sw_local(try_strptime(year(getvariable('sw_year_ref'))::VARCHAR || ' ' || regexp_replace(stamp, ' +', ' ', 'g'),
                                 ['%Y %b %d %H:%M:%S', '%Y %b %d %H:%M:%S.%f']))
         WHEN regexp_full_match(stamp, '\d+(?:\.\d+)?') THEN sw_epoch_seconds(CASE
           WHEN stamp::DOUBLE > 1e17 THEN stamp::DOUBLE / 1e9 WHEN stamp::DOUBLE > 1e14 THEN stamp::DOUBLE / 1e6
           WHEN stamp::DOUBLE > 1e11 THEN stamp::DOUBLE / 1e3 ELSE stamp::DOUBLE END)
         ELSE sw_time(stamp) END AS ts0,
    bsd <> '' OR regexp_full_match(stamp, '[A-Z][a-z]{2} +\d{1,2} \d\d:\d\d:\d\d(?:\.\d+)?') AS yearless,
    regexp_full_match(addr, '(?:(?:25[0-5]|2[0-4]\d|1\d\d|[1-9]?\d)\.){3}(?:25[0-5]|2[0-4]\d|1\d\d|[1-9]?\d)')
      OR (regexp_full_match(addr, '(?:[0-9A-Fa-f]{0,4}:){2,7}(?:[0-9A-Fa-f]{0,4}|(?:\d{1,3}\.){3}\d{1,3})(?:%[\w.-]+)?')
          AND (contains(addr, '::') OR length(addr) - length(replace(addr, ':', '')) = 7)) AS addr_is_ip
  FROM k
)
SELECT
  line_no,
  CASE WHEN unparsed THEN CASE shape WHEN 'json' THEN 'invalid JSON' ELSE 'not a syslog line' END
       WHEN msg0 IS NULL THEN 'no message in the record' END AS _error,
  CASE WHEN yearless AND ts0 > getvariable('sw_year_ref') + INTERVAL 1 DAY THEN ts0 - INTERVAL 1 YEAR ELSE ts0 END AS time,
  CASE WHEN kind = 'account' THEN 'Account Change'
       WHEN kind IS NOT NULL OR ssh OR base IN ('sudo', 'su', 'pkexec', 'login', 'sshd', 'polkitd', 'systemd-logind')
            OR prog LIKE 'pam%' THEN 'Authentication'
       WHEN base IN ('useradd', 'usermod', 'userdel', 'groupadd', 'groupmod', 'groupdel', 'passwd', 'chpasswd', 'chage', 'gpasswd')
       THEN 'Account Change' ELSE 'Process Activity' END AS class_name,
  CASE WHEN kind IN ('ssh_ok', 'ssh_bad', 'ssh_invalid', 'ssh_denied', 'login') THEN 'logon'
       WHEN kind = 'ssh_bye' THEN 'logoff'
       WHEN kind = 'ssh_conn' THEN 'connect'
       WHEN kind IN ('sudo', 'pkexec', 'su') THEN kind
       WHEN kind = 'pam' AND pam_su THEN 'su'
       WHEN kind = 'pam' AND pam_sudo THEN 'sudo'
       WHEN kind = 'pam' THEN 'pam_failure'
       WHEN su_session THEN 'su'
       WHEN kind = 'session' THEN 'session_' || sess.what
       WHEN kind = 'account' THEN CASE WHEN acct.chpw <> '' THEN 'password_change' WHEN acct.new = 'new user' THEN 'create_user'
                                       WHEN acct.new = 'new group' THEN 'create_group' WHEN acct.del = 'delete user' THEN 'delete_user'
                                       ELSE 'delete_group' END
       ELSE 'log' END AS activity,
  CASE WHEN kind IN ('ssh_ok', 'session', 'account') OR su_session THEN 'success'
       WHEN kind IN ('ssh_bad', 'ssh_invalid', 'ssh_denied', 'pam') THEN 'failure'
       WHEN kind = 'ssh_conn' THEN CASE WHEN conn.what = 'Connection from' OR note.dns1 <> '' OR note.dns2 <> '' THEN 'unknown'
                                        ELSE 'failure' END
       WHEN kind = 'login' THEN CASE WHEN lg.user <> '' THEN 'failure' ELSE 'success' END
       WHEN kind = 'sudo' THEN CASE WHEN sudo.why = '' THEN 'success' ELSE 'failure' END
       WHEN kind = 'pkexec' THEN CASE WHEN pk.what = 'Executing command' THEN 'success' ELSE 'failure' END
       WHEN kind = 'su' THEN CASE WHEN su.ok1 = 'Successful' OR su.ok2 = '+' OR (su.target3 <> '' AND su.bad3 = '') THEN 'success' ELSE 'failure' END
       ELSE 'unknown' END AS outcome,
  CASE kind WHEN 'ssh_ok' THEN ok.method
       WHEN 'ssh_bad' THEN CASE WHEN bad.method <> '' THEN bad.method WHEN bye.addr <> '' THEN coalesce(nullif(bye.why, ''), 'disconnected before authentication')
                                WHEN msg LIKE '%maximum authentication attempts%'
                                THEN 'maximum authentication attempts exceeded' ELSE 'PAM authentication failure' END
                           || CASE WHEN bad.invalid <> '' THEN ' (invalid user)' ELSE '' END
       WHEN 'ssh_invalid' THEN 'invalid user'
       WHEN 'ssh_denied' THEN 'not allowed because ' || deny.why
       WHEN 'ssh_bye' THEN nullif(bye.why, '')
       WHEN 'ssh_conn' THEN coalesce(nullif(conn.what, ''), CASE WHEN bye.addr <> '' OR rcv.addr <> '' THEN 'disconnected before authentication'
                                                                 WHEN note.drop <> '' THEN 'dropped past MaxStartups'
                                                                 ELSE 'reverse DNS does not match' END)
       WHEN 'sudo' THEN nullif(sudo.why, '')
       WHEN 'login' THEN nullif(lg.why, '')
       WHEN 'pkexec' THEN CASE WHEN pk.what <> 'Executing command' THEN pk.what END
       WHEN 'pam' THEN coalesce(nullif(pamconv.why, ''), 'authentication failure')
  END AS reason,
  CASE WHEN ssh THEN 'sshd' ELSE base END AS event_code,
  host,
  nullif(CASE kind WHEN 'ssh_ok' THEN ok.user WHEN 'ssh_bad' THEN coalesce(nullif(bad.user, ''), bye.user) WHEN 'ssh_invalid' THEN inv.user
       WHEN 'ssh_denied' THEN deny.user WHEN 'ssh_bye' THEN bye.user
       WHEN 'sudo' THEN sudo.user WHEN 'pkexec' THEN pk.user
       WHEN 'login' THEN coalesce(nullif(lg.user, ''), nullif(lg.ok_user, ''), CASE WHEN lg.root <> '' THEN 'root' END)
       WHEN 'su' THEN coalesce(nullif(su.user1, ''), nullif(su.user2, ''), su.user3)
       WHEN 'pam' THEN CASE WHEN pam_su OR pam_sudo THEN coalesce(pam_ruser, nullif(pamconv.user, ''), CASE WHEN pam_sudo THEN pam_user END)
                            ELSE pam_user END
       WHEN 'session' THEN CASE WHEN su_session THEN sess.by ELSE sess.user END
       WHEN 'account' THEN coalesce(nullif(acct.new_name, ''), nullif(acct.del_name, ''), acct.chpw_user) END, '') AS user_name,
  CASE WHEN addr_is_ip THEN addr END AS src_ip,
  try_cast(coalesce(nullif(ok.port, ''), nullif(bad.port, ''), nullif(inv.port, ''), nullif(bye.port, ''),
                    nullif(rcv.port, ''), nullif(conn.port, ''), nullif(note.port, '')) AS INTEGER) AS src_port,
  CASE WHEN ssh THEN 'ssh' END AS protocol,
  nullif(coalesce(nullif(sudo.cmd, ''), pk.cmd), '') AS command_line,
  msg AS message,
  json_object(
    'pid', pid, 'program', CASE WHEN prog <> CASE WHEN ssh THEN 'sshd' ELSE base END THEN prog END,
    'repeat', repeat, 'failures', try_cast(nullif(pam.more, '') AS INTEGER),
    'rhost', CASE WHEN NOT addr_is_ip THEN addr END,
    'target_user', nullif(CASE kind WHEN 'sudo' THEN sudo.target WHEN 'pkexec' THEN pk.target
                        WHEN 'su' THEN coalesce(nullif(su.target1, ''), nullif(su.target2, ''), su.target3)
                        WHEN 'pam' THEN CASE WHEN pam_su THEN pam_user END
                        WHEN 'session' THEN CASE WHEN su_session THEN sess.user END END, ''),
    'tty', nullif(coalesce(nullif(sudo.tty, ''), nullif(pk.tty, ''), nullif(su.tty2, ''), nullif(su.tty3, ''),
                           nullif(lg.tty, ''), nullif(lg.root_tty, ''), nullif(lg.ok_tty, ''), pam_tty), ''),
    'pwd', nullif(coalesce(nullif(sudo.pwd, ''), pk.pwd), ''),
    'group', nullif(sudo."group", ''), 'tsid', nullif(sudo.tsid, ''), 'env', nullif(sudo.env, ''),
    'pam_service', nullif(coalesce(nullif(pam.service, ''), nullif(pamconv.service, ''), nullif(sess.service, ''),
                                   regexp_extract(prog, '\((pam_\w+)\)$', 1)), ''),
    'by_uid', nullif(sess.by_uid, ''),
    'priority', coalesce(pri, severity), 'structured_data', sd) AS attributes
FROM y
