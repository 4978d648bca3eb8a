"""`storewatch search` over a small simulated estate: one address hunted across sources, saved searches,
and a saved search promoted to a detection that fires on a burst and not on its slow look-alike."""

from __future__ import annotations

import csv
import json
from datetime import datetime, timedelta, timezone
from pathlib import Path

import pytest
from typer.testing import CliRunner

from storewatch.cli import app
from storewatch.ingest.engine import ingest
from storewatch.simulate import simulate
from storewatch.store import reader
from storewatch.workspace import Workspace

IP = "203.0.113.77"  # the one address the hunt follows
SLOW = "203.0.113.88"  # same failures, spread over hours: a user who keeps mistyping, not an attack
DAY = datetime(2026, 11, 16, tzinfo=timezone.utc)  # the simulator's first day (seed 3)


def _access(ip: str, at: datetime, status: int) -> str:
    return (f'{ip} - - [{at:%d/%b/%Y:%H:%M:%S} +0000] "POST /account/login HTTP/1.1" {status} 512 "-" '
            '"Mozilla/5.0 (X11; Linux x86_64)"\n')


def _firewall(ip: str, at: datetime) -> dict:
    """A Windows Filtering Platform 'connection blocked' (Security 5157) in the estate's JSON event shape."""
    return {"Event": {"System": {"Provider": {"#attributes": {"Name": "Microsoft-Windows-Security-Auditing"}},
                                 "EventID": 5157, "Channel": "Security", "Computer": "POS-0004-01",
                                 "TimeCreated": {"#attributes": {"SystemTime": at.isoformat().replace("+00:00", "Z")}}},
                      "EventData": {"SourceAddress": ip, "SourcePort": "51000", "DestAddress": "10.4.1.20",
                                    "DestPort": "3389", "Protocol": "6", "Application": "System"}}}


@pytest.fixture(scope="module")
def estate(tmp_path_factory) -> Workspace:
    root = tmp_path_factory.mktemp("hunt")
    raw = root / "raw"
    simulate(raw, days=1, scale=0.01, seed=3)
    t = DAY + timedelta(hours=9)
    with (raw / "web" / "access.log").open("a") as fh:
        fh.writelines(_access(IP, t + timedelta(seconds=10 * i), 401) for i in range(25))  # a burst: 4 minutes
        fh.write(_access(IP, t + timedelta(minutes=5), 302))
        fh.writelines(_access(SLOW, t + timedelta(minutes=9 * i), 401) for i in range(25))  # 3.6 hours
    with (raw / "network" / "conn.log").open("a") as fh:
        fh.write(json.dumps({"ts": (t + timedelta(minutes=6)).timestamp(), "uid": "Chunt1", "id.orig_h": IP,
                             "id.orig_p": 40000, "id.resp_h": "10.0.1.5", "id.resp_p": 22, "proto": "tcp",
                             "service": "ssh", "duration": 3.5, "orig_bytes": 2100, "resp_bytes": 3300,
                             "conn_state": "SF"}) + "\n")
    with (raw / "linux" / "auth.log").open("a") as fh:
        fh.write(f"{t + timedelta(minutes=7):%b %d %H:%M:%S} web-02 sshd[4242]: "
                 f"Failed password for root from {IP} port 40000 ssh2\n")
    (raw / "endpoint" / "firewall.jsonl").write_text(json.dumps(_firewall(IP, t + timedelta(minutes=8))) + "\n")
    ws = Workspace.at(root / "ws")
    ingest([raw], ws)
    return ws


def sw(*args: str) -> tuple[int, str]:
    out = CliRunner().invoke(app, list(args), catch_exceptions=False)
    return out.exit_code, out.output


def test_one_address_across_sources(estate):
    code, out = sw("search", f"src_ip:{IP}", "--home", str(estate.home), "--json", "--limit", "100")
    assert code == 0, out
    rows = json.loads(out)
    assert len(rows) == 29 and all(r["src_ip"] == IP for r in rows)
    assert [r["time"] for r in rows] == sorted((r["time"] for r in rows), reverse=True)  # newest first
    by_format = {r["source_format"]: r for r in rows}
    assert {"nginx", "zeek_json", "linux_auth", "windows"} <= set(by_format), set(by_format)
    zeek, ssh, fw = by_format["zeek_json"], by_format["linux_auth"], by_format["windows"]
    assert (zeek["channel"], zeek["dst_ip"], zeek["dst_port"], zeek["bytes_out"]) == ("network", "10.0.1.5", 22, 2100)
    assert (ssh["class_name"], ssh["outcome"], ssh["user_name"], ssh["host"]) == ("Authentication", "failure", "root", "web-02")
    assert (fw["event_code"], fw["dst_ip"], fw["dst_port"], fw["class_name"]) == ("5157", "10.4.1.20", 3389, "Network Activity")
    web = [r for r in rows if r["source_format"] == "nginx"]
    assert sorted({r["http_status"] for r in web}) == [302, 401] and {r["url_path"] for r in web} == {"/account/login"}
    # the same address as a network, and counted per source
    code, out = sw("search", f"src_ip:203.0.113.64/26 AND NOT channel:web | count by channel", "--home",
                   str(estate.home), "--json")
    assert code == 0, out
    assert json.loads(out) == [{"channel": "endpoint", "count": 2}, {"channel": "network", "count": 1}]  # sshd, firewall


def test_paging_csv_and_table(estate, tmp_path):
    home = str(estate.home)
    first = json.loads(sw("search", f"src_ip:{IP}", "--home", home, "--json", "--limit", "10")[1])
    second = json.loads(sw("search", f"src_ip:{IP}", "--home", home, "--json", "--limit", "10", "--offset", "10")[1])
    assert len(first) == len(second) == 10 and not {r["event_id"] for r in first} & {r["event_id"] for r in second}
    assert first[-1]["time"] >= second[0]["time"]
    out = tmp_path / "hits.csv"
    code, text = sw("search", f"src_ip:{IP} AND http_status:302", "--home", home, "--csv", str(out))
    assert code == 0 and "1-1 of 1" in text and IP in text
    rows = list(csv.DictReader(out.open()))
    assert len(rows) == 1 and rows[0]["http_status"] == "302" and rows[0]["url_path"] == "/account/login"


def test_bad_query_exits_2_with_the_reason(estate):
    code, out = sw("search", "src_adress:1.2.3.4", "--home", str(estate.home))
    assert code == 2 and "unknown field 'src_adress'" in out


def test_since_until(estate):
    home = str(estate.home)
    rows = json.loads(sw("search", f"src_ip:{IP}", "--home", home, "--json", "--since", "2026-11-16T09:05:00",
                         "--until", "2026-11-16T09:07:30")[1])
    assert len(rows) == 3 and {r["source_format"] for r in rows} == {"nginx", "zeek_json", "linux_auth"}


def test_saved_search_promoted_fires_on_the_burst_only(estate, tmp_path):
    home = str(estate.home)
    query = "http_status:401 AND url_path:/account/login*"
    assert sw("search", "save", "login-failures", query, "--home", home)[0] == 0
    listed = json.loads(sw("search", "list", "--home", home, "--json")[1])
    assert listed["login-failures"]["query"] == query
    code, out = sw("search", "promote", "login-failures", "--threshold", "20", "--window", "10m",
                   "--group-by", "src_ip", "--home", home)
    assert code == 0, out
    code, out = sw("detect", "--home", home, "--json")
    assert code == 0, out
    assert not [e for e in json.loads(out)["errors"] if "search." in e["detection"]]
    with reader.opened(estate) as con:
        alerts = con.execute("SELECT entities, event_count, evidence FROM alerts WHERE rule_id = 'search.login-failures'").fetchall()
    assert len(alerts) == 1  # the burst; the slow look-alike's 25 failures never reach 20 in 10 minutes
    entities, count, evidence = alerts[0]
    assert entities == [{"type": "ip", "value": IP}] and count == 25
    assert json.loads(evidence)["query"] == query
    assert sw("search", "delete", "login-failures", "--home", home)[0] == 0
    assert json.loads(sw("search", "list", "--home", home, "--json")[1]) == {}
    assert [e["action"] for e in __import__("storewatch.audit", fromlist=["entries"]).entries(estate)][-3:] == \
        ["search.save", "search.promote", "search.delete"]
