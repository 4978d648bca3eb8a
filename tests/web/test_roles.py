"""Named accounts on the dashboard: roles enforced on every route, sessions that expire, the actor recorded."""

from __future__ import annotations

import re

import pytest
from fastapi.testclient import TestClient

from storewatch import accounts, audit
from storewatch.web import create_app
from storewatch.web.security import IDLE_SECONDS, SESSION_SECONDS
from tests.web.conftest import BASE, TOKEN

PASSWORD = "correct horse battery staple"
ADMIN_ONLY = {"/api/incidents/{incident_id}/execute", "/api/actions/{action_id}/rollback"}


@pytest.fixture
def team(fresh_ws):
    for name, role in (("vic", "viewer"), ("ana", "analyst"), ("adm", "admin")):
        accounts.add(fresh_ws, name, role, PASSWORD)
    return fresh_ws


def signed_in(app, name: str) -> TestClient:
    client = TestClient(app, base_url=BASE, follow_redirects=False, headers={"X-Storewatch-CSRF": "1"})
    response = client.post("/login", data={"name": name, "password": PASSWORD, "next": "/"})
    assert response.status_code == 303, response.text
    return client


def post_routes(app) -> list[str]:
    """Every POST route of the API, as the OpenAPI document lists them (routes other modules add included)."""
    return sorted(path for path, methods in app.openapi()["paths"].items() if "post" in methods)


def filled(path: str, incident_id: str) -> str:
    return re.sub(r"\{[^}]+\}", incident_id, path)


def test_roles_on_every_post_route(team):
    app = create_app(team, None)
    viewer, analyst, admin = (signed_in(app, n) for n in ("vic", "ana", "adm"))
    incident_id = viewer.get("/api/incidents").json()[0]["id"]
    routes = post_routes(app)
    assert "/api/incidents/{incident_id}/case/status" in routes and ADMIN_ONLY <= set(routes)
    for path in routes:
        url = filled(path, incident_id)
        assert viewer.post(url, json={}).status_code == 403, path
        assert (analyst.post(url, json={}).status_code == 403) == (path in ADMIN_ONLY), path
        assert admin.post(url, json={}).status_code != 403, path
    assert viewer.get(f"/api/incidents/{incident_id}/case").status_code == 200
    page = viewer.get(f"/incidents/{incident_id}", headers={"Accept": "text/html"}).text
    assert 'id="case"' in page and "case-action" not in page  # a viewer sees the case, not the controls
    assert "case-action" in analyst.get(f"/incidents/{incident_id}", headers={"Accept": "text/html"}).text


def test_the_actor_is_the_signed_in_name(team):
    app = create_app(team, None)
    ana = signed_in(app, "ana")
    incident_id = ana.get("/api/incidents").json()[0]["id"]
    assert ana.post(f"/api/incidents/{incident_id}/case/assign", json={"user": "adm"}).status_code == 200
    assert ana.post(f"/api/incidents/{incident_id}/case/status",
                    json={"status": "resolved", "resolution": "true_positive"}).status_code == 200
    assert ana.post(f"/api/incidents/{incident_id}/case/assign", json={"user": "nobody"}).status_code == 400
    case = ana.get(f"/api/incidents/{incident_id}/case").json()
    assert [(h["actor"], h["change"]) for h in case["history"]] == [("ana", "assign"), ("ana", "status")]
    assert (case["assignee"], case["status"], case["resolution"]) == ("adm", "resolved", "true_positive")
    actors = {(e["actor"], e["action"]) for e in audit.entries(team)}
    assert {("ana", "auth.signin"), ("ana", "case.assign"), ("ana", "case.status"), ("ana", "feedback.true_positive")} <= actors


def test_wrong_passwords_count_towards_the_lockout(team):
    client = TestClient(create_app(team, None), base_url=BASE, follow_redirects=False)
    for _ in range(10):
        assert client.post("/login", data={"name": "ana", "password": "wrong password!!"}).status_code == 401
    locked = client.post("/login", data={"name": "ana", "password": PASSWORD})
    assert locked.status_code == 429 and "retry-after" in locked.headers
    assert client.post("/login", data={"name": "nobody", "password": PASSWORD}).status_code == 429


def test_sessions_end_when_idle_and_after_their_lifetime(team):
    app = create_app(team, None)
    now = [1_000_000.0]
    app.state.guard.clock = lambda: now[0]
    ana = signed_in(app, "ana")
    now[0] += IDLE_SECONDS - 60
    assert ana.get("/api/incidents").status_code == 200  # activity keeps it alive...
    now[0] += IDLE_SECONDS - 60
    assert ana.get("/api/incidents").status_code == 200
    now[0] += IDLE_SECONDS + 1
    assert ana.get("/api/incidents").status_code == 401  # ...idle ends it
    ana = signed_in(app, "ana")
    started = now[0]
    while now[0] - started < SESSION_SECONDS - IDLE_SECONDS:
        now[0] += IDLE_SECONDS / 2
        assert ana.get("/api/incidents").status_code == 200
    now[0] = started + SESSION_SECONDS
    assert ana.get("/api/incidents").status_code == 401  # however active, it ends after its lifetime


def test_a_removed_account_loses_its_session_and_a_new_role_applies(team):
    app = create_app(team, None)
    ana = signed_in(app, "ana")
    incident_id = ana.get("/api/incidents").json()[0]["id"]
    accounts.set_password(team, "ana", PASSWORD, role="viewer")
    assert ana.post(f"/api/incidents/{incident_id}/case/comment", json={"text": "x"}).status_code == 403
    accounts.remove(team, "ana")
    assert ana.get("/api/incidents").status_code == 401


def test_the_token_is_a_service_credential_with_a_configurable_role(team, monkeypatch):
    bearer = {"Authorization": f"Bearer {TOKEN}"}
    client = TestClient(create_app(team, TOKEN), base_url=BASE, follow_redirects=False)
    incident_id = client.get("/api/incidents", headers=bearer).json()[0]["id"]
    assert client.post(f"/api/incidents/{incident_id}/execute", json={}, headers=bearer).status_code != 403
    monkeypatch.setenv("STOREWATCH_API_TOKEN_ROLE", "viewer")
    client = TestClient(create_app(team, TOKEN), base_url=BASE, follow_redirects=False)
    assert client.get("/api/incidents", headers=bearer).status_code == 200
    assert client.post(f"/api/incidents/{incident_id}/case/comment", json={"text": "x"}, headers=bearer).status_code == 403


def test_accounts_alone_protect_the_dashboard(team):
    client = TestClient(create_app(team, None), base_url="http://dashboard.example:8765", follow_redirects=False)
    assert client.get("/api/incidents").status_code == 401  # a host name beyond loopback, but sign-in needed
    form = client.get("/login").text
    assert 'name="password"' in form and 'name="token"' not in form
