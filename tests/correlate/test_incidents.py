"""Correlation: which alerts become one incident, how it is scored, and that ids stay put across runs."""

from __future__ import annotations

import time
from datetime import datetime, timedelta, timezone

import orjson
import pyarrow as pa

from storewatch.correlate import scoring
from storewatch.correlate.incidents import build_incident, correlate, group_alerts, link_keys
from storewatch.store import db

T0 = datetime(2026, 11, 16, 10, tzinfo=timezone.utc)


def alert(aid: str, entities: list[tuple[str, str]], start_h: float = 0, hours: float = 1, severity: str = "high",
          rule: str = "r1", kind: str = "window", evidence: dict | None = None) -> dict:
    return {
        "alert_id": aid, "rule_id": rule, "kind": kind, "title": f"alert {aid}", "scenario": "s", "severity": severity,
        "confidence": 1.0, "first_seen": T0 + timedelta(hours=start_h), "last_seen": T0 + timedelta(hours=start_h + hours),
        "event_count": 10, "entities": [{"type": t, "value": v} for t, v in entities], "evidence": evidence or {},
        "attack": ["T1110"], "store_id": None, "channel": "web", "summary": f"summary {aid}",
    }


def groups(alerts: list[dict]) -> list[set[str]]:
    return sorted(({alerts[i]["alert_id"] for i in g} for g in group_alerts(alerts)), key=sorted)


def test_shared_entity_close_in_time_merges_far_apart_does_not() -> None:
    alerts = [alert("a", [("ip", "198.51.100.7")]), alert("b", [("ip", "198.51.100.7"), ("user", "kim")], 3),
              alert("c", [("user", "kim")], 5), alert("d", [("ip", "198.51.100.7")], 60)]
    assert groups(alerts) == [{"a", "b", "c"}, {"d"}]


def test_same_slash24_merges_and_store_only_within_two_hours() -> None:
    alerts = [alert("a", [("ip", "203.0.113.5")]), alert("b", [("ip", "203.0.113.77")], 2),
              alert("s1", [("store", "0042")], 0), alert("s2", [("store", "0042")], 4)]
    assert groups(alerts) == [{"a", "b"}, {"s1"}, {"s2"}]


def test_link_keys_are_case_insensitive_and_add_the_network() -> None:
    keys = link_keys([{"type": "email", "value": "Kim@Example.com"}, {"type": "ip", "value": "10.1.2.3"}])
    assert ("default", "email:kim@example.com") in keys and ("net24", "net24:10.1.2.0/24") in keys


def test_chained_alerts_merge_transitively() -> None:
    alerts = [alert("a", [("ip", "192.0.2.1")]), alert("b", [("ip", "192.0.2.1"), ("card", "fp1")], 1),
              alert("c", [("card", "fp1"), ("email", "x@y.z")], 2), alert("e", [("email", "x@y.z")], 3)]
    assert groups(alerts) == [{"a", "b", "c", "e"}]


def test_score_explains_itself_and_severity_follows() -> None:
    single = [alert("a", [("ip", "192.0.2.1")], severity="medium")]
    risk, factors = scoring.score(single)
    assert risk == scoring.BASE["medium"] and [f["factor"] for f in factors] == ["severity"]
    rich = single + [alert("b", [("ip", "192.0.2.1")], rule="r2", kind="intel", severity="high",
                           evidence={"success_after": True, "amount": 2500})]
    risk2, factors2 = scoring.score(rich)
    names = {f["factor"] for f in factors2}
    assert {"corroboration", "independent evidence", "success", "money"} <= names
    assert risk2 == min(100, sum(f["points"] for f in factors2)) and risk2 > risk
    assert scoring.severity_for(risk2) in ("high", "critical")


def test_incident_fields() -> None:
    inc = build_incident([alert("a", [("ip", "192.0.2.1")], severity="critical"), alert("b", [("user", "kim")], 1)])
    assert inc["scenario"] == "s" and inc["alert_count"] == 2 and inc["attack"] == ["T1110"]
    assert inc["first_seen"] == T0 and inc["last_seen"] == T0 + timedelta(hours=2)
    assert "192.0.2.1" in inc["summary"] and "T1110 Brute Force" in inc["summary"]


def test_title_counts_only_entities_of_the_lead_entity_type() -> None:
    device = [("device", "POS-0192-04"), ("user", "kim"), ("user", "lee"), ("ip", "10.1.2.3")]
    assert build_incident([alert("a", device, severity="critical")])["title"] == "alert a: POS-0192-04"
    more = build_incident([alert("a", device, severity="critical"),
                           alert("b", [("device", "POS-0192-05"), ("device", "POS-0192-06"), ("user", "kim")], 1)])
    assert more["title"] == "alert a: POS-0192-04 and 2 more devices"
    ips = build_incident([alert("a", [("ip", "192.0.2.1"), ("user", "kim")], severity="critical"),
                          alert("b", [("ip", "192.0.2.2")], 1)])
    assert ips["title"] == "alert a: 192.0.2.1 and 1 more IP"
    assert build_incident([alert("a", [])])["title"] == "alert a"


def _insert(con, alerts: list[dict]) -> None:
    rows = [{**a, "evidence": orjson.dumps(a["evidence"]).decode(), "event_ids": [], "detected_at": T0} for a in alerts]
    con.register("_a", pa.Table.from_pylist(rows))
    con.execute("INSERT INTO alerts BY NAME SELECT * REPLACE (evidence::JSON AS evidence, "
                "entities::STRUCT(type VARCHAR, value VARCHAR)[] AS entities, event_ids::VARCHAR[] AS event_ids) FROM _a")
    con.unregister("_a")


def test_ids_survive_reruns_and_growth(ws) -> None:
    with db.opened(ws) as con:
        _insert(con, [alert("a", [("ip", "192.0.2.1")]), alert("z", [("ip", "198.51.100.9")], 30)])
        assert correlate(con, time.time()) == (2, 2)
        first = dict(con.execute("SELECT alert_id, incident_id FROM incident_alerts").fetchall())
        assert correlate(con, time.time()) == (2, 0)
        # A new alert bridging nothing joins the incident of its entity; the id of that incident is kept.
        _insert(con, [alert("b", [("ip", "192.0.2.1")], 2)])
        assert correlate(con, time.time()) == (2, 0)
        after = dict(con.execute("SELECT alert_id, incident_id FROM incident_alerts").fetchall())
    assert after["a"] == first["a"] == after["b"] and after["z"] == first["z"]
