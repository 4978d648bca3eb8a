"""Format variants beyond the samples: what the specifications allow, mapped to the right columns."""

from __future__ import annotations

from pathlib import Path

ZEEK_TSV = """#separator \\x09
#set_separator\t,
#empty_field\t(empty)
#unset_field\t-
#path\tconn
#open\t2026-11-16-00-00-00
#fields\tts\tuid\tid.orig_h\tid.orig_p\tid.resp_h\tid.resp_p\tproto\tservice\tduration\torig_bytes\tresp_bytes\tconn_state
#types\ttime\tstring\taddr\tport\taddr\tport\tenum\tstring\tinterval\tcount\tcount\tstring
1794787200.500000\tCabc\t10.0.0.5\t51000\t192.0.2.80\t443\ttcp\tssl\t2.5\t1200\t56000\tSF
1794787201.000000\tCdef\t10.0.0.6\t51001\t10.0.0.9\t22\ttcp\t-\t-\t-\t-\tREJ
#close\t2026-11-16-01-00-00
"""


def test_zeek_tsv_uses_the_fields_header(run, query, tmp_path: Path) -> None:
    (tmp_path / "conn.log").write_text(ZEEK_TSV)
    report = run(tmp_path / "conn.log")
    assert report.files[0].source_format == "zeek_tsv" and report.totals["stored"] == 2
    rows = query("SELECT src_ip, dst_port, bytes_out, bytes_in, outcome, protocol FROM events ORDER BY time")
    assert rows[0] == {"src_ip": "10.0.0.5", "dst_port": 443, "bytes_out": 1200, "bytes_in": 56000, "outcome": "success", "protocol": "ssl"}
    assert rows[1]["bytes_out"] is None and rows[1]["outcome"] == "failure" and rows[1]["protocol"] == "tcp"


def test_people_counter_header_synonyms_and_order(run, query, tmp_path: Path) -> None:
    (tmp_path / "counts.csv").write_text("timestamp,site,out,in,sensor\n2026-11-16T10:00:00Z,S7,4,9,door-1\n2026-11-16T10:15:00Z,S7,x,y,door-1\n")
    report = run(tmp_path / "counts.csv")
    assert (report.totals["stored"], report.totals["quarantined"]) == (1, 1)
    row = query("SELECT store_id, device, attributes->>'$.entries' AS entries, attributes->>'$.exits' AS exits FROM events")[0]
    assert row == {"store_id": "S7", "device": "door-1", "entries": "9", "exits": "4"}


def test_postgres_multiline_records_logins_and_rows(run, query, tmp_path: Path) -> None:
    (tmp_path / "pg.log").write_text(
        "2026-11-16 02:00:00.000 UTC [7] etl@shop LOG:  AUDIT: SESSION,3,1,READ,SELECT,TABLE,public.customers,\"SELECT * FROM customers\",<not logged>,184223\n"
        "2026-11-16 02:00:00.500 UTC [7] etl@shop LOG:  AUDIT: SESSION,4,1,READ,SELECT,TABLE,public.orders,\"SELECT *\n"
        "\tFROM orders\",<not logged>\n"
        "2026-11-16 02:00:01.000 UTC [8] [unknown]@[unknown] LOG:  connection received: host=10.0.0.7 port=5000\n"
        "2026-11-16 02:00:01.100 UTC [8] mallory@shop FATAL:  password authentication failed for user \"mallory\"\n")
    report = run(tmp_path / "pg.log")
    assert (report.totals["read"], report.totals["stored"]) == (4, 4)  # the statement's second line is part of its record
    rows = query("SELECT source_line, activity, outcome, user_name, src_ip, query, attributes->>'$.rows' AS rows FROM events ORDER BY source_line")
    assert [(r["source_line"], r["activity"]) for r in rows] == [(1, "select"), (2, "select"), (4, "connect"), (5, "logon")]
    assert rows[0]["rows"] == "184223" and rows[1]["query"] == "SELECT *\nFROM orders"
    assert (rows[2]["src_ip"], rows[2]["user_name"]) == ("10.0.0.7", None)  # `[unknown]` is no user
    assert (rows[3]["outcome"], rows[3]["user_name"]) == ("failure", "mallory")


def test_auth_log_ssh_and_sudo(run, query, tmp_path: Path) -> None:
    (tmp_path / "auth.log").write_text(
        "Nov 16 03:00:01 web-01 sshd[11]: Failed password for invalid user admin from 203.0.113.4 port 4242 ssh2\n"
        "Nov 16 03:00:02 web-01 sshd[11]: Invalid user oracle from 203.0.113.4 port 4243\n"
        "Nov 16 03:00:09 web-01 sshd[12]: Accepted password for root from 203.0.113.4 port 4250 ssh2\n"
        "Nov 16 03:01:00 web-01 sudo:   deploy : TTY=pts/0 ; PWD=/home/deploy ; USER=root ; COMMAND=/usr/bin/systemctl restart nginx\n"
        "Nov 16 03:02:00 web-01 sudo:   eve : 3 incorrect password attempts ; TTY=pts/1 ; PWD=/tmp ; USER=root ; COMMAND=/bin/bash\n")
    run(tmp_path / "auth.log")
    rows = query("SELECT activity, outcome, user_name, src_ip, command_line FROM events ORDER BY source_line")
    assert [(r["activity"], r["outcome"]) for r in rows] == [
        ("logon", "failure"), ("logon", "failure"), ("logon", "success"), ("sudo", "success"), ("sudo", "failure")]
    assert rows[0]["user_name"] == "admin" and rows[2]["src_ip"] == "203.0.113.4"
    assert rows[3]["command_line"] == "/usr/bin/systemctl restart nginx"


def test_apache_common_and_malformed_requests(run, query, tmp_path: Path) -> None:
    (tmp_path / "access.log").write_text(
        '192.0.2.7 - alice [16/Nov/2026:10:00:00 +0000] "POST /admin/login HTTP/1.1" 401 12\n'
        '192.0.2.8 - - [16/Nov/2026:10:00:01 +0000] "\\x16\\x03\\x01" 400 157 "-" "-"\n')
    report = run(tmp_path / "access.log")
    assert report.totals["stored"] == 2
    rows = query("SELECT user_name, http_method, http_status, outcome, activity FROM events ORDER BY source_line")
    assert rows[0] == {"user_name": "alice", "http_method": "POST", "http_status": 401, "outcome": "failure", "activity": "post"}
    assert rows[1]["activity"] == "malformed_request"


def test_stripe_dispute_and_early_fraud_warning(run, query, tmp_path: Path) -> None:
    (tmp_path / "stripe.jsonl").write_text(
        '{"id": "evt_1", "object": "event", "created": 1794787200, "type": "charge.dispute.created", "data": {"object": {"id": "dp_1", "object": "dispute", "amount": 5000, "currency": "usd", "charge": "ch_9", "reason": "fraudulent", "status": "needs_response"}}}\n'
        '{"id": "evt_2", "object": "event", "created": 1794787300, "type": "radar.early_fraud_warning.created", "data": {"object": {"id": "issfr_1", "object": "radar.early_fraud_warning", "charge": "ch_9", "fraud_type": "made_with_stolen_card"}}}\n'
        '{"id": "evt_3", "object": "event", "created": 1794787400, "type": "charge.succeeded", "data": {"object": {"id": "ch_jp", "object": "charge", "amount": 5000, "currency": "jpy", "status": "succeeded"}}}\n')
    run(tmp_path / "stripe.jsonl")
    rows = query("SELECT activity, transaction_id, reason, amount FROM events ORDER BY time")
    assert [(r["activity"], r["transaction_id"], r["reason"]) for r in rows[:2]] == [
        ("dispute", "ch_9", "fraudulent"), ("early_fraud_warning", "ch_9", "made_with_stolen_card")]
    assert rows[0]["amount"] == 50 and rows[2]["amount"] == 5000


COUNTER_EXPORTS = {
    # SenSource/Vea style: European separator, a date and an hour-of-day column, CRLF
    "vea.csv": ("Date;Time;Site;Zone;Ins;Outs\r\n2026-11-16;09:00;Store 12;Main door;14;9\r\n"
                "2026-11-16;10:00;Store 12;Main door;31;22\r\n2026-11-16;25:00;Store 12;Main door;1;1\r\n"),
    # Hella APS: one IN/OUT column pair per counting line, summed
    "hella.csv": ("record_id;timestamp;period;status;Door1_SUM_IN;Door1_SUM_OUT;Door2_SUM_IN;Door2_SUM_OUT\n"
                  "1;2026-11-16 09:00:00;900;0;3;1;2;0\n"),
    # one row per direction, epoch seconds
    "dir.csv": "timestamp,site,direction,count\n1794819600,S7,in,12\n1794819600,S7,out,10\n",
    # AXIS People Counter `.api?export-csv` columns
    "axis.csv": ("Interval start,Interval stop,Camera serial number,Counter name,Pedestrians coming in,Pedestrians going out\n"
                 "2026-11-16 09:00,2026-11-16 09:15,ACCC8E000001,Exit south,4,7\n"),
    # Xovis forward/backward counts, tab-separated, times with an offset
    "xovis.tsv": "Name\tTimestamp\tfw\tbw\nEntrance\t2026-11-16T09:00:00+01:00\t8\t3\n",
}


def test_people_counter_vendor_exports(run, query, tmp_path: Path) -> None:
    for name, text in COUNTER_EXPORTS.items():
        (tmp_path / name).write_text(text, newline="")
    report = run(*(tmp_path / name for name in COUNTER_EXPORTS))
    assert {f.source_format for f in report.files} == {"people_counter"}
    assert (report.totals["stored"], report.totals["quarantined"]) == (7, 1)  # 25:00 is no time
    rows = query("SELECT source_file, strftime(time, '%Y-%m-%d %H:%M') AS t, store_id, device, "
                 "(attributes->>'$.entries')::INT AS i, (attributes->>'$.exits')::INT AS o FROM events ORDER BY source_file, time, i")
    got = {(Path(r["source_file"]).name, r["t"], r["store_id"], r["device"], r["i"], r["o"]) for r in rows}
    assert got == {
        ("vea.csv", "2026-11-16 09:00", "Store 12", "Main door", 14, 9), ("vea.csv", "2026-11-16 10:00", "Store 12", "Main door", 31, 22),
        ("hella.csv", "2026-11-16 09:00", None, None, 5, 1),
        ("dir.csv", "2026-11-16 09:00", "S7", None, 12, 0), ("dir.csv", "2026-11-16 09:00", "S7", None, 0, 10),
        ("axis.csv", "2026-11-16 09:00", None, "Exit south", 4, 7),
        ("xovis.tsv", "2026-11-16 08:00", None, "Entrance", 8, 3),
    }
    [bad] = query("SELECT reason FROM quarantine")
    assert bad["reason"] == "unreadable time"
