"""Linux authentication logs as real systems and shippers write them: real auth.log / secure samples
(tests/data/real/linux, see SOURCES.md), sshd's hostile user names, rsyslog repeats, sudo refusals, su and
pkexec, OpenSSH 9.8's sshd-session, and the RFC 5424 / journald / Fluent Bit / Vector shapes."""

from __future__ import annotations

import json
import os
from datetime import datetime, timezone
from pathlib import Path

import pytest

REAL = Path(__file__).resolve().parents[1] / "data" / "real" / "linux"
UTC = timezone.utc
COLUMNS = ("activity, outcome, user_name, src_ip, src_port, reason, command_line, event_code, host, time, "
           "attributes->>'$.target_user' AS target, attributes->>'$.rhost' AS rhost, "
           "(attributes->>'$.repeat')::INT AS repeat, attributes->>'$.program' AS program")


def rows(query, where: str = "true") -> list[dict]:
    return query(f"SELECT {COLUMNS} FROM events WHERE {where} ORDER BY source_file, source_line")


def ingest_text(run, tmp_path: Path, text: str, name: str = "auth.log", year: int = 2026):
    path = tmp_path / name
    path.write_text(text)
    stamp = datetime(year, 12, 1, tzinfo=UTC).timestamp()
    os.utime(path, (stamp, stamp))
    return run(path)


def accounted(report) -> None:
    """Every record stored or quarantined, and at least 95% stored."""
    for f in report.files:
        assert f.source_format in ("linux_auth", "linux_auth+document"), f
        assert f.stored + f.quarantined + f.duplicates == f.read and f.stored >= 0.95 * f.read, f


# --- real samples ------------------------------------------------------------------------------------

def test_real_beats_auth_sample(run, query) -> None:
    path = REAL / "beats-auth-test.log"
    report = run(path)
    accounted(report)
    assert report.totals["stored"] == 10
    r = rows(query)
    assert (r[0]["activity"], r[0]["outcome"], r[0]["user_name"], r[0]["src_ip"], r[0]["src_port"], r[0]["reason"]) == (
        "logon", "success", "vagrant", "10.0.2.2", 63673, "publickey")
    assert r[0]["time"].replace(year=2000) == datetime(2000, 2, 21, 21, 54, 44, tzinfo=UTC)
    assert (r[2]["activity"], r[2]["outcome"], r[2]["user_name"], r[2]["src_ip"], r[2]["src_port"]) == (
        "logon", "failure", "test", "10.0.2.2", None)  # `Invalid user test from 10.0.2.2`: no port
    assert (r[3]["user_name"], r[3]["src_ip"], r[3]["src_port"], r[3]["host"]) == ("root", "216.160.83.57", 29160, "slave22")
    assert (r[4]["activity"], r[4]["outcome"], r[4]["user_name"], r[4]["target"], r[4]["command_line"]) == (
        "sudo", "success", "vagrant", "root", "/bin/ls")
    assert (r[5]["activity"], r[5]["outcome"], r[5]["src_ip"]) == ("connect", "failure", "2.125.160.217")
    assert r[6]["command_line"] == "/bin/cat /var/log/secure"
    # `tsg : user NOT in sudoers ; ... COMMAND=/bin/ls` is a refusal, not a sudo that ran
    assert (r[7]["activity"], r[7]["outcome"], r[7]["user_name"], r[7]["reason"], r[7]["command_line"]) == (
        "sudo", "failure", "tsg", "user NOT in sudoers", "/bin/ls")
    assert [(x["activity"], x["user_name"]) for x in r[8:]] == [("create_group", "apache"), ("create_user", "apache")]


def test_real_rhel_secure_sample(run, query) -> None:
    path = REAL / "beats-secure-rhel7.log"
    report = run(path)
    accounted(report)
    lines = path.read_text().splitlines()
    assert report.totals["stored"] == len(lines)
    r = rows(query)
    # every sshd failure line keeps its source address, checked against the raw line
    for line, row in zip(lines, r):
        if "Failed password" in line or "authentication failure" in line:
            assert row["outcome"] == "failure" and row["src_ip"] in line and row["user_name"] == "root", line
    failed = [x for x in r if x["activity"] == "logon" and x["outcome"] == "failure"]
    assert len(failed) == sum("Failed password" in line for line in lines)
    assert {x["src_ip"] for x in failed} == {"202.109.143.106", "116.31.116.27"}
    pam_more = [x for x in r if x["activity"] == "pam_failure" and x["src_ip"] == "116.31.116.27"]
    assert pam_more and all(x["user_name"] == "root" for x in pam_more)
    ok = next(x for x in r if x["outcome"] == "success" and x["activity"] == "logon")
    assert (ok["user_name"], ok["src_ip"], ok["src_port"], ok["reason"]) == ("drewr", "69.245.39.97", 34202, "publickey")
    bye = r[lines.index("Feb 22 16:48:04 slave22 sshd[2809]: Received disconnect from 69.245.39.97: 11: disconnected by user")]
    assert (bye["activity"], bye["src_ip"]) == ("logoff", "69.245.39.97")
    # benign look-alikes: PAM's `requirement ... not met` notes are no logons and carry no address
    notes = [x for line, x in zip(lines, r) if "pam_succeed_if" in line]
    assert notes and all(x["activity"] == "log" and x["src_ip"] is None for x in notes)


def test_real_rsyslog_high_precision_timestamps(run, query) -> None:
    report = run(REAL / "beats-auth-timestamp.log")
    accounted(report)
    r = rows(query)
    assert r[0]["time"] == datetime(2019, 6, 14, 10, 40, 20, 912134, tzinfo=UTC)
    assert (r[0]["activity"], r[0]["user_name"]) == ("session_opened", "root")
    assert r[1]["time"] == datetime(2019, 6, 14, 11, 31, 15, 412000, tzinfo=UTC)  # +01:30 honoured


def test_real_journald_json_exports(run, query, tmp_path: Path) -> None:
    """`journalctl -o json-pretty` of one entry, and a JSON array of entries whose MESSAGE is an array of bytes."""
    report = run(REAL / "beats-journal-sample-event.json", REAL / "beats-journal-corner-cases.json")
    accounted(report)
    r = query("SELECT time, host, event_code, message, attributes->>'$.pid' AS pid, attributes->>'$.priority' AS priority "
              "FROM events ORDER BY time")
    assert r[0] == {"time": datetime(2024, 7, 1, 18, 42, 46, 807141, tzinfo=UTC), "host": "millennium-falcon",
                    "event_code": "pulseaudio", "message": "Unable to parse indicator of AT+BIA command: AT+BIA=1,1,0,0,0\rAT+BCS=2",
                    "pid": "3728", "priority": "3"}
    assert r[1] == {"time": datetime(2024, 8, 19, 15, 20, 55, 230058, tzinfo=UTC), "host": "millennium-falcon",
                    "event_code": "TestRestartsJournalctlOnError", "message": "Count: 0000000001", "pid": "235728",
                    "priority": "6"}
    # several json-pretty entries one after another (what journalctl writes for more than one entry)
    two = (REAL / "beats-journal-sample-event.json").read_text()
    (tmp_path / "pretty.json").write_text(two + two.replace("0000000001", "0000000002"))
    report = run(tmp_path / "pretty.json")
    f = report.files[0]  # the first entry is the one already stored from the sample: a duplicate
    assert (f.source_format, f.read, f.stored, f.duplicates, f.quarantined) == ("linux_auth+document", 2, 1, 1, 0)


# --- sshd --------------------------------------------------------------------------------------------

HOSTILE = [
    # (log line after the header, the real client address, its port, the user name sshd logged)
    ("Invalid user x from 10.1.2.3 port 1 from 203.0.113.9 port 4444", "203.0.113.9", 4444, "x from 10.1.2.3 port 1"),
    ("Failed password for invalid user a from 10.9.9.9 port 22 ssh2 from 198.51.100.3 port 5000 ssh2",
     "198.51.100.3", 5000, "a from 10.9.9.9 port 22 ssh2"),
    ("Failed none for invalid user  from 1.1.1.1 port 1 from 2001:db8::5 port 61000 ssh2", "2001:db8::5", 61000,
     " from 1.1.1.1 port 1"),
    ("Connection closed by invalid user b 10.0.0.1 port 7 192.0.2.44 port 40022 [preauth]", "192.0.2.44", 40022,
     "b 10.0.0.1 port 7"),
    ("User c from 10.0.0.1 not allowed because d from 192.0.2.50 not allowed because listed in DenyUsers",
     "192.0.2.50", None, "c from 10.0.0.1 not allowed because d"),
]


@pytest.mark.parametrize("msg, ip, port, user", HOSTILE)
def test_injected_addresses_in_user_names_do_not_move_src_ip(run, query, tmp_path: Path, msg, ip, port, user) -> None:
    ingest_text(run, tmp_path, f"Nov 16 03:00:01 web-01 sshd[11]: {msg}\n")
    [r] = rows(query)
    assert (r["src_ip"], r["src_port"], r["user_name"]) == (ip, port, user)
    assert (r["activity"], r["outcome"]) == ("logon", "failure")


def test_pam_rhost_is_the_first_one_the_user_comes_last(run, query, tmp_path: Path) -> None:
    ingest_text(run, tmp_path, "Nov 16 03:00:01 web-01 sshd[11]: pam_unix(sshd:auth): authentication failure; logname= "
                               "uid=0 euid=0 tty=ssh ruser= rhost=203.0.113.5  user=x rhost=10.0.0.1\n")
    [r] = rows(query)
    assert (r["activity"], r["src_ip"], r["user_name"]) == ("pam_failure", "203.0.113.5", "x rhost=10.0.0.1")


def test_received_disconnect_takes_the_first_address_the_reason_is_the_clients(run, query, tmp_path: Path) -> None:
    ingest_text(run, tmp_path, "Nov 16 03:00:01 web-01 sshd[11]: Received disconnect from 192.0.2.8 port 22:11: "
                               "bye from 10.6.6.6 port 1 [preauth]\n")
    [r] = rows(query)
    assert (r["activity"], r["outcome"], r["src_ip"], r["src_port"]) == ("connect", "failure", "192.0.2.8", 22)


SSHD_FORMS = """\
Nov 16 03:00:01 web-01 sshd-session[11]: Accepted publickey for deploy from 198.51.100.20 port 46403 ssh2: ED25519 SHA256:q1w2e3
Nov 16 03:00:02 web-01 sshd-auth[12]: Failed password for root from 203.0.113.4 port 4242 ssh2
Nov 16 03:00:03 web-01 sshd[13]: message repeated 5 times: [ Failed password for root from 203.0.113.4 port 4242 ssh2]
Nov 16 03:00:04 web-01 sshd-session[13]: error: maximum authentication attempts exceeded for root from 203.0.113.4 port 55 ssh2 [preauth]
Nov 16 03:00:05 web-01 sshd[14]: User root from 203.0.113.5 not allowed because not listed in AllowUsers
Nov 16 03:00:06 web-01 sshd[14]: User admin from 203.0.113.5 not allowed because none of user's groups are listed in AllowGroups
Nov 16 03:00:07 web-01 sshd[15]: Did not receive identification string from 203.0.113.6 port 61000
Nov 16 03:00:08 web-01 sshd[16]: Unable to negotiate with 203.0.113.7 port 50000: no matching key exchange method found. Their offer: diffie-hellman-group1-sha1 [preauth]
Nov 16 03:00:09 web-01 sshd-session[17]: Connection closed by authenticating user root 203.0.113.8 port 40000 [preauth]
Nov 16 03:00:10 web-01 sshd-session[18]: Disconnected from invalid user oracle 203.0.113.9 port 40001 [preauth]
Nov 16 03:00:11 web-01 sshd[19]: banner exchange: Connection from 203.0.113.10 port 40002: invalid format
Nov 16 03:00:12 web-01 sshd[20]: PAM 2 more authentication failures; logname= uid=0 euid=0 tty=ssh ruser= rhost=203.0.113.11  user=root
Nov 16 03:00:13 web-01 sshd[21]: pam_unix(sshd:auth): authentication failure; logname= uid=0 euid=0 tty=ssh ruser= rhost=scanner.example.net  user=root
Nov 16 03:00:14 web-01 sshd[22]: pam_unix(sshd:auth): authentication failure; logname= uid=0 euid=0 tty=ssh ruser= rhost=::ffff:203.0.113.12
Nov 16 03:00:15 web-01 sshd[23]: Failed password for root from gw.example.org port 2222 ssh2
Nov 16 03:00:16 web-01 sshd[24]: Disconnecting invalid user admin 203.0.113.13 port 40003: Too many authentication failures [preauth]
Nov 16 03:00:17 web-01 sshd-session[11]: Disconnected from user deploy 198.51.100.20 port 46403
"""


def test_sshd_forms_keep_user_address_and_outcome(run, query, tmp_path: Path) -> None:
    report = ingest_text(run, tmp_path, SSHD_FORMS)
    accounted(report)
    r = rows(query)
    got = [(x["activity"], x["outcome"], x["user_name"], x["src_ip"], x["src_port"]) for x in r]
    assert got == [
        ("logon", "success", "deploy", "198.51.100.20", 46403),
        ("logon", "failure", "root", "203.0.113.4", 4242),
        ("logon", "failure", "root", "203.0.113.4", 4242),
        ("logon", "failure", "root", "203.0.113.4", 55),
        ("logon", "failure", "root", "203.0.113.5", None),
        ("logon", "failure", "admin", "203.0.113.5", None),
        ("connect", "failure", None, "203.0.113.6", 61000),
        ("connect", "failure", None, "203.0.113.7", 50000),
        ("logon", "failure", "root", "203.0.113.8", 40000),  # a failed public key leaves only this line
        ("logon", "failure", "oracle", "203.0.113.9", 40001),
        ("connect", "failure", None, "203.0.113.10", 40002),
        ("pam_failure", "failure", "root", "203.0.113.11", None),
        ("pam_failure", "failure", "root", None, None),
        ("pam_failure", "failure", None, "::ffff:203.0.113.12", None),
        ("logon", "failure", "root", None, 2222),
        ("logon", "failure", "admin", "203.0.113.13", 40003),
        ("logoff", "unknown", "deploy", "198.51.100.20", 46403),  # the end of the session accepted above
    ]
    assert all(x["event_code"] == "sshd" for x in r)  # sshd-session / sshd-auth are sshd to the detections
    assert [x["program"] for x in r[:4]] == ["sshd-session", "sshd-auth", None, "sshd-session"]
    assert [x["repeat"] for x in r[1:3]] == [None, 5]
    assert r[4]["reason"] == "not allowed because not listed in AllowUsers"
    assert (r[8]["reason"], r[15]["reason"]) == ("disconnected before authentication", "Too many authentication failures")
    # a host name is never an src_ip: it is kept as rhost
    assert (r[12]["rhost"], r[14]["rhost"]) == ("scanner.example.net", "gw.example.org")


OLDER_FORMS = """\
Jun 14 15:16:01 combo sshd(pam_unix)[19939]: authentication failure; logname= uid=0 euid=0 tty=NODEVssh ruser= rhost=218.188.2.4
Jun 14 15:16:02 combo sshd(pam_unix)[19937]: check pass; user unknown
Jun 15 04:06:18 combo su(pam_unix)[21416]: session opened for user cyrus by (uid=0)
Jun 15 04:06:19 combo su(pam_unix)[21417]: authentication failure; logname=alice uid=1000 euid=0 tty=pts/0 ruser=alice rhost=  user=root
Jun 15 04:06:20 combo syslogd 1.4.1: restart.
Dec 10 06:55:46 LabSZ sshd[24200]: reverse mapping checking getaddrinfo for ns.example.com [198.51.100.86] failed - POSSIBLE BREAK-IN ATTEMPT!
Dec 10 07:07:38 LabSZ sshd[24206]: error: Received disconnect from 198.51.100.122: 14: No more user authentication methods available. [preauth]
Dec 10 07:07:39 LabSZ sshd[24207]: Connection closed by 198.51.100.145 [preauth]
Dec 10 07:07:40 LabSZ sshd[24208]: drop connection #10 from [198.51.100.4]:5555 on [10.0.0.1]:22 past MaxStartups
"""


def test_older_sshd_and_pam_forms(run, query, tmp_path: Path) -> None:
    """sysklogd-era PAM tags (`sshd(pam_unix)[pid]:`), untagged lines, and sshd's notes on the address."""
    accounted(ingest_text(run, tmp_path, OLDER_FORMS))
    r = rows(query)
    got = [(x["activity"], x["outcome"], x["event_code"], x["user_name"], x["target"], x["src_ip"], x["src_port"]) for x in r]
    assert got == [
        ("pam_failure", "failure", "sshd", None, None, "218.188.2.4", None),
        ("log", "unknown", "sshd", None, None, None, None),
        ("su", "success", "su", None, "cyrus", None, None),
        ("su", "failure", "su", "alice", "root", None, None),
        ("log", "unknown", None, None, None, None, None),
        ("connect", "unknown", "sshd", None, None, "198.51.100.86", None),
        ("connect", "failure", "sshd", None, None, "198.51.100.122", None),
        ("connect", "failure", "sshd", None, None, "198.51.100.145", None),
        ("connect", "failure", "sshd", None, None, "198.51.100.4", 5555),
    ]
    assert r[0]["program"] == "sshd(pam_unix)"


def test_sysklogd_last_message_repeated_stands_for_the_line_before(run, query, tmp_path: Path) -> None:
    accounted(ingest_text(run, tmp_path,
        "Jun 14 15:16:01 combo sshd[19939]: Failed password for root from 198.51.100.4 port 4100 ssh2\n"
        "Jun 14 15:16:03 combo last message repeated 3 times\n"
        "Jun 14 15:16:04 combo sshd[19940]: Accepted password for ops from 192.0.2.9 port 4101 ssh2\n"))
    r = rows(query)
    assert [(x["activity"], x["outcome"], x["user_name"], x["src_ip"], x["repeat"]) for x in r] == [
        ("logon", "failure", "root", "198.51.100.4", None), ("logon", "failure", "root", "198.51.100.4", 3),
        ("logon", "success", "ops", "192.0.2.9", None)]
    assert r[1]["time"] == r[0]["time"].replace(second=3)


def test_console_logins(run, query, tmp_path: Path) -> None:
    accounted(ingest_text(run, tmp_path,
        "Nov 16 03:00:01 pos-07 login[812]: FAILED LOGIN (1) on '/dev/tty1' FOR 'root', Authentication failure\n"
        "Nov 16 03:00:02 pos-07 login[812]: FAILED LOGIN (2) on '/dev/pts/3' from '10.1.2.3' FOR 'UNKNOWN', "
        "User not known to the underlying authentication module\n"
        "Nov 16 03:00:03 pos-07 login[813]: ROOT LOGIN  on '/dev/tty1'\n"
        "Nov 16 03:00:04 pos-07 login[814]: LOGIN ON tty2 BY alice\n"))
    r = rows(query)
    assert [(x["activity"], x["outcome"], x["user_name"], x["src_ip"], x["reason"]) for x in r] == [
        ("logon", "failure", "root", None, "Authentication failure"),
        ("logon", "failure", "UNKNOWN", "10.1.2.3", "User not known to the underlying authentication module"),
        ("logon", "success", "root", None, None), ("logon", "success", "alice", None, None)]


# --- privilege escalation ----------------------------------------------------------------------------

PRIVILEGE = """\
Nov 16 04:00:01 web-01 sudo:   deploy : PWD=/ ; USER=root ; COMMAND=/bin/ls
Nov 16 04:00:02 web-01 sudo: alice : TTY=pts/0 ; PWD=/home/alice ; USER=postgres ; TSID=000012 ; ENV=PGDATA=/srv/pg LANG=C ; COMMAND=/usr/bin/psql -l
Nov 16 04:00:03 web-01 sudo: eve : 3 incorrect password attempts ; TTY=pts/1 ; PWD=/tmp ; USER=root ; COMMAND=/bin/bash
Nov 16 04:00:04 web-01 sudo: eve : a password is required ; PWD=/tmp ; USER=root ; COMMAND=/bin/sh
Nov 16 04:00:05 web-01 sudo: eve : command not allowed ; TTY=pts/1 ; PWD=/tmp ; USER=root ; COMMAND=/usr/bin/su -
Nov 16 04:00:06 web-01 sudo: pam_unix(sudo:auth): authentication failure; logname=eve uid=1001 euid=0 tty=/dev/pts/1 ruser=eve rhost=  user=eve
Nov 16 04:00:07 web-01 sudo: pam_unix(sudo:auth): conversation failed
Nov 16 04:00:08 web-01 pkexec[1234]: alice: Executing command [USER=root] [TTY=/dev/pts/0] [CWD=/home/alice] [COMMAND=/usr/bin/bash]
Nov 16 04:00:09 web-01 pkexec[1235]: eve: Error executing command as another user: Not authorized [USER=root] [TTY=/dev/pts/1] [CWD=/tmp] [COMMAND=/usr/bin/bash]
Nov 16 04:00:10 web-01 su[2001]: Successful su for root by alice
Nov 16 04:00:11 web-01 su[2001]: + pts/0 alice:root
Nov 16 04:00:12 web-01 su[2002]: FAILED su for root by eve
Nov 16 04:00:13 web-01 su[2002]: - pts/1 eve:root
Nov 16 04:00:14 web-01 su: pam_unix(su:auth): authentication failure; logname=eve uid=1001 euid=0 tty=/dev/pts/1 ruser=eve rhost=  user=root
Nov 16 04:00:15 web-01 su: pam_unix(su-l:session): session opened for user root(uid=0) by alice(uid=1000)
Nov 16 04:00:16 web-01 su[2003]: (to postgres) alice on pts/0
Nov 16 04:00:17 web-01 sudo: pam_unix(sudo:session): session opened for user root(uid=0) by deploy(uid=1000)
"""


def test_privilege_escalation_is_one_shape_for_sudo_su_and_pkexec(run, query, tmp_path: Path) -> None:
    report = ingest_text(run, tmp_path, PRIVILEGE)
    accounted(report)
    r = rows(query)
    got = [(x["activity"], x["outcome"], x["user_name"], x["target"], x["command_line"]) for x in r]
    assert got == [
        ("sudo", "success", "deploy", "root", "/bin/ls"),
        ("sudo", "success", "alice", "postgres", "/usr/bin/psql -l"),
        ("sudo", "failure", "eve", "root", "/bin/bash"),
        ("sudo", "failure", "eve", "root", "/bin/sh"),
        ("sudo", "failure", "eve", "root", "/usr/bin/su -"),
        ("sudo", "failure", "eve", None, None),
        ("sudo", "failure", None, None, None),
        ("pkexec", "success", "alice", "root", "/usr/bin/bash"),
        ("pkexec", "failure", "eve", "root", "/usr/bin/bash"),
        ("su", "success", "alice", "root", None),
        ("su", "success", "alice", "root", None),
        ("su", "failure", "eve", "root", None),
        ("su", "failure", "eve", "root", None),
        ("su", "failure", "eve", "root", None),
        ("su", "success", "alice", "root", None),
        ("su", "success", "alice", "postgres", None),
        ("session_opened", "success", "root", None, None),  # sudo's own line above is the sudo event
    ]
    assert [x["reason"] for x in r[2:5]] == ["3 incorrect password attempts", "a password is required", "command not allowed"]
    assert r[8]["reason"] == "Error executing command as another user: Not authorized"
    attrs = json.loads(query("SELECT attributes FROM events WHERE source_line = 2")[0]["attributes"])
    assert (attrs["tsid"], attrs["env"], attrs["tty"], attrs["pwd"]) == ("000012", "PGDATA=/srv/pg LANG=C", "pts/0", "/home/alice")


# --- shapes the shippers write -----------------------------------------------------------------------

def test_rfc5424_lines(run, query, tmp_path: Path) -> None:
    report = ingest_text(run, tmp_path,
        '<38>1 2026-11-16T03:00:01.003Z web-01 sshd 1234 - - Failed password for root from 203.0.113.4 port 22 ssh2\n'
        '<86>1 2026-11-16T04:00:01+01:00 web-02 sudo - - [meta sequenceId="1"][origin ip="10.0.0.2"] '
        '\ufeffalice : TTY=pts/0 ; PWD=/home/alice ; USER=root ; COMMAND=/bin/ls\n'
        '<38>1 - - sshd - - - Accepted password for root from 203.0.113.4 port 22 ssh2\n')
    assert (report.totals["stored"], report.totals["quarantined"]) == (2, 1)
    r = rows(query)
    assert (r[0]["time"], r[0]["host"], r[0]["activity"], r[0]["outcome"], r[0]["src_ip"]) == (
        datetime(2026, 11, 16, 3, 0, 1, 3000, tzinfo=UTC), "web-01", "logon", "failure", "203.0.113.4")
    assert (r[1]["time"], r[1]["host"], r[1]["activity"], r[1]["user_name"], r[1]["command_line"]) == (
        datetime(2026, 11, 16, 3, 0, 1, tzinfo=UTC), "web-02", "sudo", "alice", "/bin/ls")
    sd = query("SELECT attributes->>'$.structured_data' AS sd FROM events WHERE host = 'web-02'")[0]["sd"]
    assert sd == '[meta sequenceId="1"][origin ip="10.0.0.2"]'
    [q] = query("SELECT reason FROM quarantine")
    assert q["reason"] == "missing or unparseable timestamp"  # the NILVALUE timestamp


def test_journald_json_export(run, query, tmp_path: Path) -> None:
    entries = [
        {"__CURSOR": f"s=1;i=5a1;t={1794798001003000:x}", "__REALTIME_TIMESTAMP": "1794798001003000", "__MONOTONIC_TIMESTAMP": "8424376",
         "PRIORITY": "6", "SYSLOG_FACILITY": "4", "SYSLOG_IDENTIFIER": "sshd-session", "SYSLOG_PID": "812",
         "_PID": "812", "_COMM": "sshd-session", "_HOSTNAME": "web-01", "_TRANSPORT": "syslog",
         "MESSAGE": "Invalid user admin from 203.0.113.4 port 4242"},
        # a MESSAGE that is not UTF-8 comes as an array of bytes (here `é` in Latin-1: 0xE9)
        {"__CURSOR": f"s=1;i=5a2;t={1794798002000000:x}", "__REALTIME_TIMESTAMP": "1794798002000000", "SYSLOG_IDENTIFIER": "sudo", "_COMM": "sudo", "_HOSTNAME": "web-01",
         "MESSAGE": list(b"ren\xe9 : TTY=pts/0 ; PWD=/ ; USER=root ; COMMAND=/bin/id")},
        {"__CURSOR": f"s=1;i=5a3;t={1794798003000000:x}", "__REALTIME_TIMESTAMP": "1794798003000000", "_COMM": "sshd", "_PID": "9", "_HOSTNAME": "web-01",
         "MESSAGE": list("Accepted password for josé from 192.0.2.1 port 5 ssh2".encode())},
    ]
    report = ingest_text(run, tmp_path, "".join(json.dumps(e) + "\n" for e in entries), name="journal.json")
    accounted(report)
    r = rows(query)
    assert r[0]["time"] == datetime.fromtimestamp(1794798001.003, UTC)
    assert (r[0]["host"], r[0]["event_code"], r[0]["program"], r[0]["user_name"], r[0]["src_ip"], r[0]["src_port"]) == (
        "web-01", "sshd", "sshd-session", "admin", "203.0.113.4", 4242)
    assert (r[1]["activity"], r[1]["user_name"], r[1]["command_line"]) == ("sudo", "rené", "/bin/id")
    assert (r[2]["event_code"], r[2]["user_name"], r[2]["outcome"]) == ("sshd", "josé", "success")
    # 16-digit microsecond stamps can be taken for card numbers by the scrubber: the cursor's hex `t=` stands in
    assert [x["time"] for x in r] == [datetime.fromtimestamp(t / 1e6, UTC) for t in (1794798001003000, 1794798002000000, 1794798003000000)]


def test_journald_time_survives_a_scrubbed_realtime_stamp(run, query, tmp_path: Path) -> None:
    entry = {"__CURSOR": f"s=1;i=5a1;t={1794798001003000:x}", "__REALTIME_TIMESTAMP": "[PAN:last4=3000:tok=abc]",
             "SYSLOG_IDENTIFIER": "sshd", "_HOSTNAME": "web-01", "MESSAGE": "Connection closed by 192.0.2.9 port 41001"}
    accounted(ingest_text(run, tmp_path, json.dumps(entry) + "\n", name="journal.json"))
    assert rows(query)[0]["time"] == datetime.fromtimestamp(1794798001.003, UTC)


def test_fluent_bit_and_vector_syslog_json(run, query, tmp_path: Path) -> None:
    lines = [
        {"date": 1794798004.5, "pri": "38", "host": "web-02", "ident": "sshd", "pid": "77",
         "message": "Failed password for invalid user oracle from 203.0.113.8 port 5555 ssh2"},
        {"time": "Nov 16 03:00:05", "host": "web-02", "ident": "sudo",
         "message": "bob : user NOT in sudoers ; TTY=pts/2 ; PWD=/home/bob ; USER=root ; COMMAND=/bin/bash"},
        {"appname": "sshd", "facility": "auth", "hostname": "web-03", "message": "Accepted publickey for deploy from "
         "2001:db8::7 port 50022 ssh2: ED25519 SHA256:abc", "msgid": None, "procid": 1234, "severity": "info",
         "source_type": "syslog", "timestamp": "2026-11-16T03:00:06.250Z", "version": 1},
    ]
    report = ingest_text(run, tmp_path, "".join(json.dumps(x) + "\n" for x in lines), name="shipped.json")
    accounted(report)
    r = rows(query)
    assert (r[0]["time"], r[0]["host"], r[0]["user_name"], r[0]["src_ip"], r[0]["outcome"]) == (
        datetime.fromtimestamp(1794798004.5, UTC), "web-02", "oracle", "203.0.113.8", "failure")
    assert (r[1]["time"], r[1]["activity"], r[1]["outcome"], r[1]["user_name"]) == (
        datetime(2026, 11, 16, 3, 0, 5, tzinfo=UTC), "sudo", "failure", "bob")
    assert (r[2]["time"], r[2]["host"], r[2]["src_ip"], r[2]["src_port"], r[2]["outcome"]) == (
        datetime(2026, 11, 16, 3, 0, 6, 250000, tzinfo=UTC), "web-03", "2001:db8::7", 50022, "success")


def test_journalctl_short_output_and_untagged_lines(run, query, tmp_path: Path) -> None:
    report = ingest_text(run, tmp_path,
        "-- Boot 3c5b1d0e9d6b4bb7a0a1f2 --\n"
        "Nov 16 03:00:01.123456 web-01 sshd[1]: Accepted password for ops from 192.0.2.9 port 41000 ssh2\n"
        "Nov 16 03:00:02 web-01 -- MARK --\n"
        "2026-11-16T03:00:03+0000 web-01 sshd[2]: Connection closed by 192.0.2.9 port 41001\n"
        "Nov 16 03:00:04 sshd-session[3]: Accepted publickey for ops from 192.0.2.9 port 41002 ssh2\n"  # --no-hostname
        "Nov 16 03:00:05 fe80::1 sshd[4]: Accepted password for ops from 192.0.2.9 port 41003 ssh2\n")
    accounted(report)
    assert report.totals["stored"] == 5
    r = rows(query)
    assert r[0]["time"] == datetime(2026, 11, 16, 3, 0, 1, 123456, tzinfo=UTC)
    assert (r[1]["activity"], r[1]["event_code"]) == ("log", None)
    assert (r[2]["time"], r[2]["activity"], r[2]["src_ip"]) == (datetime(2026, 11, 16, 3, 0, 3, tzinfo=UTC), "logoff", "192.0.2.9")
    assert [(x["host"], x["program"], x["user_name"], x["src_port"]) for x in r[3:]] == [
        (None, "sshd-session", "ops", 41002), ("fe80::1", None, "ops", 41003)]


def test_whole_lines_forwarded_in_a_json_envelope(run, query, tmp_path: Path) -> None:
    """Filebeat / Elastic Agent and Vector's file source put the line in `message`, Fluent Bit's tail in `log`."""
    lines = [
        {"@timestamp": "2026-11-16T03:00:01.500Z", "message": "Nov 16 03:00:01 web-01 sshd-session[11]: Failed password "
         "for root from 203.0.113.4 port 4242 ssh2", "log": {"file": {"path": "/var/log/auth.log"}, "offset": 0},
         "input": {"type": "filestream"}, "host": {"name": "web-01"}, "agent": {"type": "filebeat"}},
        {"file": "/var/log/secure", "host": "collector", "source_type": "file", "timestamp": "2026-11-16T03:00:02.200Z",
         "message": "2026-11-16T03:00:02.123456+00:00 web-02 sudo: bob : user NOT in sudoers ; TTY=pts/2 ; "
                    "PWD=/home/bob ; USER=root ; COMMAND=/bin/bash"},
        {"date": 1794798003.0, "log": "<38>1 2026-11-16T03:00:03Z web-03 sshd 77 - - Accepted publickey for deploy "
                                      "from 198.51.100.20 port 46403 ssh2"},
    ]
    accounted(ingest_text(run, tmp_path, "".join(json.dumps(x) + "\n" for x in lines), name="forwarded.json"))
    r = rows(query)
    got = [(x["time"], x["host"], x["activity"], x["outcome"], x["user_name"], x["src_ip"]) for x in r]
    assert got == [
        (datetime(2026, 11, 16, 3, 0, 1, tzinfo=UTC), "web-01", "logon", "failure", "root", "203.0.113.4"),
        (datetime(2026, 11, 16, 3, 0, 2, 123456, tzinfo=UTC), "web-02", "sudo", "failure", "bob", None),
        (datetime(2026, 11, 16, 3, 0, 3, tzinfo=UTC), "web-03", "logon", "success", "deploy", "198.51.100.20"),
    ]


def test_a_message_of_several_lines_is_one_record(run, query, tmp_path: Path) -> None:
    # Indented lines go on with the message before them (macOS syslogd, kernel traces); a forwarded line
    # whose message holds newlines is read the same way. The records after them keep their own fields.
    report = ingest_text(run, tmp_path,
        'Nov 16 03:00:01 web-01 syslogd[314]: Configuration Notice:\n'
        '\tASL Module "com.apple.install" claims selected messages.\n'
        '    Those messages may not appear in standard system log files.\n'
        'Nov 16 03:00:02 web-01 sshd[9]: Failed password for root from 203.0.113.4 port 22 ssh2\n'
        + json.dumps({"message": "Nov 16 03:00:03 web-01 kernel: trace:\n\tcall 1\n\tcall 2", "host": "web-01"}) + "\n")
    accounted(report)
    assert (report.totals["read"], report.totals["stored"]) == (3, 3)
    r = query("SELECT source_line, time, host, message, activity, outcome, src_ip FROM events ORDER BY source_line")
    assert [x["source_line"] for x in r] == [1, 4, 5]
    assert r[0]["message"] == ('Configuration Notice:\n\tASL Module "com.apple.install" claims selected messages.\n'
                               '    Those messages may not appear in standard system log files.')
    assert (r[1]["time"], r[1]["activity"], r[1]["outcome"], r[1]["src_ip"]) == (
        datetime(2026, 11, 16, 3, 0, 2, tzinfo=UTC), "logon", "failure", "203.0.113.4")
    assert (r[2]["time"], r[2]["message"]) == (datetime(2026, 11, 16, 3, 0, 3, tzinfo=UTC), "trace:\n\tcall 1\n\tcall 2")


def test_real_lnav_syslog_samples(run, query, tmp_path: Path) -> None:
    # macOS syslogd's notices go on in tab-indented lines: five records of three lines each, not fifteen rows
    report = run(REAL / "lnav-macos-syslog-multiline.log")
    accounted(report)
    assert (report.totals["read"], report.totals["stored"]) == (7, 7)
    r = query("SELECT source_line, host, message FROM events ORDER BY source_line")
    assert [x["source_line"] for x in r] == [1, 2, 3, 6, 9, 12, 15]
    assert r[3]["message"] == ('Configuration Notice:\n\tASL Module "com.apple.install" claims selected messages.\n'
                               '\tThose messages may not appear in standard system log files or in the ASL database.')
    # a year-less file across New Year, written in early February: December is the year before
    copy = tmp_path / "messages"
    copy.write_bytes((REAL / "lnav-syslog-year-rollover.log").read_bytes())
    stamp = datetime(2008, 2, 1, tzinfo=UTC).timestamp()
    os.utime(copy, (stamp, stamp))
    accounted(run(copy))
    [sudo] = rows(query, f"source_file = '{copy}'" " AND activity = 'sudo'")
    assert (sudo["time"], sudo["host"], sudo["user_name"], sudo["target"], sudo["outcome"], sudo["command_line"]) == (
        datetime(2008, 1, 3, 9, 47, 2, tzinfo=UTC), "veridian", "timstack", "root", "success", "/usr/bin/tail /var/log/messages")
    first = query(f"SELECT min(time) AS t FROM events WHERE source_file = '{copy}'")[0]["t"]
    assert first == datetime(2007, 12, 3, 9, 23, 38, tzinfo=UTC)
    # host names with and without the domain; HAProxy's access lines through syslog keep their text
    report = run(REAL / "lnav-macos-syslog-mixed-hosts.log", REAL / "lnav-haproxy-syslog.log")
    accounted(report)
    hosts = query("SELECT DISTINCT host FROM events WHERE source_file LIKE '%mixed-hosts%' ORDER BY host")
    assert [h["host"] for h in hosts] == ["Tim-Stacks-iMac", "Tim-Stacks-iMac.local"]
    [proxy] = query("SELECT host, message FROM events WHERE source_file LIKE '%haproxy%' AND source_line = 4")
    assert proxy["host"] == "192.168.4.2"
    assert proxy["message"].startswith("141.35.244.171:53332 [25/Feb/2019:16:19:48.143] prod_http_in~ bk_admin/nginx_sonst ")
