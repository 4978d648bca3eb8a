"""Threat-intel matching: every IP, domain, URL, hash and e-mail in the events against the STIX intel table,
inside each indicator's validity window, one alert per indicator, internal entity and day. Checked on the
simulated estates (the POS malware's C2 and payload are listed among decoys that never occur) and on
hand-written events for parent domains, URLs, expired indicators and de-duplication."""

from __future__ import annotations

from datetime import timedelta

import orjson

from storewatch.detect import intel
from storewatch.evaluate import matches
from tests.detect.test_behaviour import T0, at, conn, events_store

RULE = intel.DETECTION.id


# --- simulated estates -------------------------------------------------------------------------------

def test_intel_listed_malware_infrastructure_is_matched(estate) -> None:
    alerts = [{"first_seen": a["first_seen"], "last_seen": a["last_seen"], "entities": a["entities"]}
              for a in estate.alerts(rule_id=RULE)]
    for lb in estate.label("pos_malware"):
        hits = [a for a in alerts if matches(a, lb)]
        assert hits, f"no intel alert for {lb['id']}"
        named = {(e["type"], e["value"]) for a in hits for e in a["entities"]}
        c2 = {(e["type"], e["value"]) for e in lb["entities"] if e["type"] == "domain" or
              (e["type"] == "ip" and not e["value"].startswith("10."))}
        assert c2 <= named


def test_intel_alerts_only_on_attacks(estate) -> None:
    attacks = [lb for lb in estate.labels if lb["severity"] != "benign"]
    for alert in estate.alerts(rule_id=RULE):
        a = {"first_seen": alert["first_seen"], "last_seen": alert["last_seen"], "entities": alert["entities"]}
        assert any(matches(a, lb) for lb in attacks), alert["key"]
        assert orjson.loads(alert["evidence"])["intel_match"] is True


# --- hand-written events -----------------------------------------------------------------------------

def _indicator(kind: str, value: str, days_valid: tuple[float, float | None] = (-30, None), **kw) -> dict:
    start, end = days_valid
    return {"indicator_id": f"indicator--{kind}-{value}", "ioc_type": kind, "value": value, "name": f"bad {kind}",
            "labels": "malicious-activity", "confidence": kw.get("confidence", 80),
            "valid_from": T0 + timedelta(days=start), "valid_until": None if end is None else T0 + timedelta(days=end)}


def _dns(t: float, host: str, name: str, answer: str = "192.0.2.1") -> dict:
    return {"time": at(t), "class_name": "DNS Activity", "channel": "endpoint", "host": host, "url_host": name,
            "attributes": {"query_results": f"::ffff:{answer};"}}


def _alerts(rows: list[dict], indicators: list[dict]) -> list[dict]:
    return intel.query(events_store(rows, indicators)).to_pylist()


def test_parent_domain_indicator_covers_subdomains_only() -> None:
    rows = [_dns(100, "POS-0001-01", "cdn.evil.example"), _dns(200, "POS-0002-01", "notevil.example"),
            _dns(300, "POS-0003-01", "evil.example.org")]
    [alert] = _alerts(rows, [_indicator("domain", "evil.example")])
    assert {(e["type"], e["value"]) for e in alert["entities"]} >= {("domain", "evil.example"), ("host", "POS-0001-01")}
    assert orjson.loads(alert["evidence"])["intel_confidence"] == 80 and alert["confidence"] == 0.8


def test_url_matches_without_scheme_or_query_and_dns_answers_match_ips() -> None:
    rows = [{"time": at(50), "class_name": "HTTP Activity", "channel": "web", "src_ip": "10.5.3.10",
             "url_host": "Bad.Example", "url_path": "/x/gate.php", "url_query": "id=1"},
            _dns(60, "BO-0005", "other.example", answer="198.51.100.7")]
    found = {orjson.loads(a["evidence"])["ioc_type"]: a for a in
             _alerts(rows, [_indicator("url", "http://bad.example/x/gate.php"), _indicator("ip", "198.51.100.7")])}
    assert set(found) == {"url", "ip"}
    assert orjson.loads(found["ip"]["evidence"])["matched_on"] == "dns_answer"


def test_indicator_outside_its_validity_window_does_not_match() -> None:
    rows = [conn(100, "10.1.2.11", "198.51.100.5"), conn(200, "10.1.2.11", "198.51.100.6")]
    alerts = _alerts(rows, [_indicator("ip", "198.51.100.5", (-30, -1)), _indicator("ip", "198.51.100.6", (1, None)),
                            _indicator("ip", "198.51.100.8")])
    assert alerts == []


def test_one_alert_per_indicator_internal_entity_and_day() -> None:
    rows = [conn(60 * k, "10.1.2.11", "198.51.100.5") for k in range(50)]  # day one, one host
    rows += [conn(86400 + 60 * k, "10.1.2.11", "198.51.100.5") for k in range(5)]  # day two
    rows += [conn(120, "10.1.2.12", "198.51.100.5")]  # another host
    rows.append({"time": at(10), "class_name": "Process Activity", "channel": "endpoint", "host": "POS-0001-01",
                 "process_name": "C:\\x.exe", "file_hash": "AB" * 32})
    alerts = _alerts(rows, [_indicator("ip", "198.51.100.5"), _indicator("hash", "ab" * 32)])
    counts = sorted((orjson.loads(a["evidence"])["inside"], a["event_count"]) for a in alerts)
    assert counts == [("10.1.2.11", 5), ("10.1.2.11", 50), ("10.1.2.12", 1), ("POS-0001-01", 1)]
    assert all(orjson.loads(a["evidence"])["intel_match"] is True for a in alerts)


def test_network_indicators_cover_every_address_inside_them() -> None:
    rows = [conn(100, "10.1.2.11", "198.51.100.77"), conn(110, "10.1.2.12", "198.51.101.1"),
            conn(120, "10.1.2.13", "2001:DB8:0:0:0:0:0:abcd"), conn(130, "10.1.2.14", "2001:db9::1"),
            _dns(140, "POS-0009-01", "cdn.example", answer="203.0.113.200"),
            {"time": at(150), "class_name": "DNS Activity", "channel": "endpoint", "host": "POS-0010-01",
             "url_host": "v6.example", "attributes": {"query_results": "type:  5 edge.example;2001:db8:0:1::53;"}}]
    alerts = _alerts(rows, [_indicator("ip", "198.51.100.0/24"), _indicator("ip", "2001:db8::/32"),
                            _indicator("ip", "203.0.113.128/25")])
    found = sorted((orjson.loads(a["evidence"])["indicator"], orjson.loads(a["evidence"])["inside"]) for a in alerts)
    assert found == [("198.51.100.0/24", "10.1.2.11"), ("2001:db8::/32", "10.1.2.13"), ("2001:db8::/32", "POS-0010-01"),
                     ("203.0.113.128/25", "POS-0009-01")]


def test_every_hash_an_event_carries_is_matched_whatever_the_algorithm() -> None:
    md5, sha1, sha256 = "d41d8cd98f00b204e9800998ecf8427e", "da39a3ee5e6b4b0d3255bfef95601890afd80709", "e3" * 32
    rows = [{"time": at(10), "class_name": "Process Activity", "channel": "endpoint", "host": "POS-0001-01",
             "file_hash": sha256.upper(), "attributes": {"md5": md5.upper(), "sha1": sha1, "sha256": sha256}},
            {"time": at(20), "class_name": "File Activity", "channel": "network", "host": "zeek",
             "attributes": {"md5": "00" * 16, "sha1": sha1}}]
    alerts = _alerts(rows, [_indicator("hash", md5), _indicator("hash", sha1), _indicator("hash", "ff" * 16)])
    hits = sorted((orjson.loads(a["evidence"])["indicator"], a["event_count"]) for a in alerts)
    assert hits == sorted([(md5, 1), (sha1, 1), (sha1, 1)])  # sha1 on two hosts: two alerts


def test_real_apt1_networks_and_md5_match() -> None:
    """The OASIS APT1 bundle as read by ingest: its /15 networks and file:hashes.md5 indicators fire on events."""
    from pathlib import Path

    from storewatch.ingest.intel import read_bundle

    path = Path(__file__).resolve().parents[1] / "data" / "real" / "intel" / "apt1.json"
    rows, _ = read_bundle(path.read_bytes(), str(path))
    md5 = "001dd76872d80801692ff942308c64e6"
    events = [conn(100, "10.1.2.11", "223.167.255.254"),  # inside 223.166.0.0/15
              conn(110, "10.1.2.12", "223.168.0.1"),  # just outside
              {"time": at(120), "class_name": "Process Activity", "channel": "endpoint", "host": "POS-0003-01",
               "file_hash": "ab" * 32, "attributes": {"md5": md5.upper(), "sha256": "ab" * 32}}]
    found = {(orjson.loads(a["evidence"])["indicator"], orjson.loads(a["evidence"])["inside"]) for a in _alerts(events, rows)}
    assert found == {("223.166.0.0/15", "10.1.2.11"), (md5, "POS-0003-01")}
