"""The overview, the ATT&CK view, the filtered list, the incident page's timeline views and approval by id."""

from __future__ import annotations

import re

from tests.report.support import ATTACKER, SCRIPT


def _section(html: str, section_id: str) -> str:
    return html.split(f'id="{section_id}"', 1)[1].split("</section>", 1)[0]


def test_overview_counts_open_incidents_and_draws_accessible_csp_clean_charts(client):
    html = client.get("/").text
    cards = re.findall(r'<a class="card (\w+)"[^>]*><span class="figure">(\d+)</span>', html)
    assert dict(cards[:4]) == {"critical": "1", "high": "1", "medium": "0", "low": "1"}
    svgs = re.findall(r"<svg.*?</svg>", html, re.S)
    assert len(svgs) == 4  # incidents and alerts over time, by channel, by store
    for svg in svgs:
        assert svg.startswith('<svg role="img" aria-label="') and "<title>" in svg
        assert "style" not in svg  # presentation attributes only: the CSP forbids inline styles
    assert "Incidents by channel" in html and "Incidents by store" in html
    detections = _section(html, "health").split("</table>")[0]
    assert "nginx" in detections  # the one ingested source, with its last event
    assert "2026-11-16 10:00:30" in detections
    assert "test.hostile" in html  # among the detections that fired


def test_attack_view_marks_what_fired_and_what_is_only_covered(client):
    html = client.get("/attack").text
    fired = re.search(r'<div role="cell" class="tech (\w+)"[^>]*>\s*<span class="mono">T1110.001</span>', html)
    assert fired and fired.group(1) == "fired"  # a shipped detection covers it, and the hostile alert fired it
    covered = re.search(r'<div role="cell" class="tech (\w+)"[^>]*>\s*<span class="mono">T1003.001</span>', html)
    assert covered and covered.group(1) == "covered"
    assert html.index("Reconnaissance") < html.index("Credential Access") < html.index("Impact")


def test_old_list_links_are_sent_to_the_list(client):
    moved = client.get("/?min_severity=high&sort=recent", follow_redirects=False)
    assert moved.status_code == 308 and moved.headers["location"] == "/incidents?min_severity=high&sort=recent"
    assert client.get("/", follow_redirects=False).status_code == 200  # the overview itself stays


def test_list_filters_by_status_store_and_channel(client):
    def ids(query: str) -> list[str]:
        return re.findall(r'<a href="/incidents/(INC-[0-9A-F]+)">', client.get(f"/incidents?{query}").text)

    assert len(ids("")) == 3
    assert len(ids("channel=payments")) == 1 and ids("channel=payments") == ids("store=S001")
    assert ids("status=open") == ids("") and ids("status=false_positive") == []
    api = client.get("/api/incidents", params={"channel": "pos"}).json()
    assert [i["scenario"] for i in api] == ["sweethearting"]


def test_incident_page_leads_with_the_decision_and_pages_the_timeline(client):
    first = client.get("/api/incidents").json()[0]
    html = client.get(f"/incidents/{first['id']}").text
    assert html.index('id="respond"') < html.index('id="entities"') < html.index('id="timeline"')
    assert "Events 1–6 of 6" in html  # the pager's line (6 ingested events)
    grouped = client.get(f"/incidents/{first['id']}?group=source").text
    groups = _section(grouped, "timeline")
    assert "?group=source&amp;key=nginx#timeline" in groups and "Events 1–" not in groups
    one = client.get(f"/incidents/{first['id']}", params={"group": "entity", "key": f"ip {ATTACKER}"}).text
    assert f"entity: ip {ATTACKER}" in one and "Events 1–6 of 6" in one
    assert client.get(f"/incidents/{first['id']}?group=nonsense").status_code == 422
    assert SCRIPT not in grouped


def test_approval_names_its_actions_and_runs_only_those(fresh_client):
    first = fresh_client.get("/api/incidents").json()[0]
    base = f"/api/incidents/{first['id']}"
    planned = fresh_client.post(f"{base}/plan", json={}).json()
    refused = fresh_client.post(f"{base}/execute", json={"approved": True})
    assert refused.status_code == 400 and "pick them" in refused.json()["detail"]
    pick = next(a for a in planned if a["target"] == ATTACKER)
    done = fresh_client.post(f"{base}/execute", json={"approved": True, "action_ids": [pick["action_id"]]})
    assert done.status_code == 200, done.text
    assert [r["action_id"] for r in done.json()] == [pick["action_id"]]
    stored = {a["action_id"]: a["status"] for a in fresh_client.get(f"{base}/actions").json()}
    assert stored[pick["action_id"]] in ("executed", "failed")
    assert all(s == "planned" for aid, s in stored.items() if aid != pick["action_id"])
    unknown = fresh_client.post(f"{base}/execute", json={"approved": True, "action_ids": ["ACT-FFFFFFFFFFFF"]})
    assert unknown.status_code == 400 and "not in this incident's plan" in unknown.json()["detail"]
