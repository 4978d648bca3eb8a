"""The JSON API: incidents with filters and sorting, detail, timeline, alerts, respond, feedback, audit."""

from __future__ import annotations

import pytest

from storewatch.report import sources
from tests.report.support import ATTACKER, SCRIPT, TEMPLATE



def ids(response) -> list[str]:
    assert response.status_code == 200, response.text
    return [i["id"] for i in response.json()]


def test_list_is_ranked_by_risk(client):
    rows = client.get("/api/incidents").json()
    assert [r["severity"] for r in rows] == ["critical", "high", "low"]
    assert [r["risk_score"] for r in rows] == sorted((r["risk_score"] for r in rows), reverse=True)
    assert rows[0]["title"].startswith(f"Brute force by {SCRIPT}")  # JSON carries the value as it is


def test_filters(client):
    assert len(ids(client.get("/api/incidents", params={"min_severity": "high"}))) == 2
    scenario = client.get("/api/incidents", params={"scenario": "card_testing"}).json()
    assert [r["scenario"] for r in scenario] == ["card_testing"]
    assert ids(client.get("/api/incidents", params={"since": "2026-11-18T00:00:00Z"})) == \
        ids(client.get("/api/incidents", params={"scenario": "sweethearting"}))
    assert ids(client.get("/api/incidents", params={"limit": 1})) == ids(client.get("/api/incidents"))[:1]


def test_sorts(client):
    by_first = client.get("/api/incidents", params={"sort": "first_seen"}).json()
    assert [r["first_seen"] for r in by_first] == sorted(r["first_seen"] for r in by_first)
    recent = client.get("/api/incidents", params={"sort": "recent"}).json()
    assert [r["last_seen"] for r in recent] == sorted((r["last_seen"] for r in recent), reverse=True)


@pytest.mark.parametrize("params, status", [({"min_severity": "severe"}, 400), ({"sort": "alphabet"}, 400),
                                            ({"since": "yesterday-ish"}, 422), ({"limit": 0}, 422)])
def test_bad_filters_are_refused(client, params, status):
    response = client.get("/api/incidents", params=params)
    assert response.status_code == status
    assert response.json()["detail"]


def test_detail_by_id_and_prefix(client):
    first = client.get("/api/incidents").json()[0]
    detail = client.get(f"/api/incidents/{first['id']}").json()
    assert detail["id"] == first["id"]
    assert detail["alert_details"][0]["evidence"]["query"] == TEMPLATE
    assert client.get(f"/api/incidents/{first['id'][:8]}").json()["id"] == first["id"]
    assert client.get("/api/incidents/INC-NOPE").status_code == 404


def test_alerts_carry_sample_events(client):
    first = client.get("/api/incidents").json()[0]
    alerts = client.get(f"/api/incidents/{first['id']}/alerts", params={"samples": 3}).json()
    events = alerts[0]["events"]
    assert len(events) == 3
    assert all(e["src_ip"] == ATTACKER and SCRIPT in e["user_agent"] for e in events)


def test_timeline(client):
    first = client.get("/api/incidents").json()[0]
    timeline = client.get(f"/api/incidents/{first['id']}/timeline").json()
    assert timeline["events"]
    assert timeline["source"] == ("forensics" if sources.optional_module(sources.TIMELINE_MODULE) else "alerts")


def test_openapi_describes_the_api(client):
    spec = client.get("/api/openapi.json").json()
    for path in ("/api/incidents", "/api/incidents/{incident_id}", "/api/incidents/{incident_id}/timeline",
                 "/api/incidents/{incident_id}/alerts", "/api/incidents/{incident_id}/plan",
                 "/api/incidents/{incident_id}/execute", "/api/incidents/{incident_id}/feedback",
                 "/api/actions", "/api/audit"):
        assert path in spec["paths"], path
    assert client.get("/docs").status_code == 404  # Swagger UI would load from a CDN: not offered


def test_false_positive_is_stored_and_audited(fresh_client):
    low = fresh_client.get("/api/incidents", params={"scenario": "sweethearting"}).json()[0]
    response = fresh_client.post(f"/api/incidents/{low['id']}/feedback", json={"verdict": "false_positive",
                                                                                "note": f"till test {SCRIPT}"})
    assert response.status_code == 200, response.text
    assert response.json()["suppressed"]
    assert fresh_client.get(f"/api/incidents/{low['id']}").json()["resolution"] == "false_positive"
    audit = fresh_client.get("/api/audit").json()
    assert audit["problems"] == []
    assert audit["entries"][0]["action"] == "feedback.false_positive"
    assert audit["entries"][0]["what"]["incident_id"] == low["id"]
    assert audit["entries"][0]["actor"].startswith("dashboard:")


def test_a_damaged_audit_line_is_reported_not_a_500(fresh_client, fresh_ws):
    from storewatch import audit as log

    log.append(fresh_ws, "note", {"n": 1}, "first", "ok")
    with log.log_path(fresh_ws).open("ab") as fh:
        fh.write(b"\x00 not json\n")
    log.append(fresh_ws, "note", {"n": 2}, "after the damage", "ok")
    response = fresh_client.get("/api/audit")
    assert response.status_code == 200, response.text
    body = response.json()
    assert [e["why"] for e in body["entries"][:2]] == ["after the damage", "first"]
    bad = len(log.log_path(fresh_ws).read_bytes().splitlines()) - 1
    assert body["problems"] == [f"line {bad}: not JSON"]


def test_feedback_rejects_unknown_verdicts(fresh_client):
    first = fresh_client.get("/api/incidents").json()[0]
    assert fresh_client.post(f"/api/incidents/{first['id']}/feedback", json={"verdict": "maybe"}).status_code == 422


def test_plan_is_a_dry_run(fresh_client):
    first = fresh_client.get("/api/incidents").json()[0]
    planned = fresh_client.post(f"/api/incidents/{first['id']}/plan", json={})
    assert planned.status_code == 200, planned.text
    recorded = fresh_client.get(f"/api/incidents/{first['id']}/actions").json()
    assert {a["status"] for a in recorded} <= {"planned"}  # a dry run changes nothing outside
    actions = planned.json()
    assert any(a["target"] == ATTACKER for a in actions), actions
    for action in actions:
        assert action["incident_id"] == first["id"] and action["description"]
    assert fresh_client.post(f"/api/incidents/{first['id']}/plan", json={"playbook": "no-such-book"}).status_code == 400


def test_unknown_incident_for_actions(fresh_client):
    response = fresh_client.post("/api/incidents/INC-NOPE/plan", json={})
    assert response.status_code == 404
