"""Who may use the dashboard, what it refuses, and that values from logs render as text."""

from __future__ import annotations

import re
import secrets
import stat

import pytest
from fastapi.testclient import TestClient
from typer.testing import CliRunner

from storewatch import audit
from storewatch.cli import app as cli
from storewatch.respond.config import ConfigError
from storewatch.web import create_app
from storewatch.web.limits import MAX_BODY
from storewatch.web.security import api_token, weakness
from storewatch.web.throttle import EVERYONE, GLOBAL_FAILURES, LOCKOUT, MAX_FAILURES, WINDOW, Throttle
from tests.report.support import SCRIPT, TEMPLATE
from tests.web.conftest import BASE, TOKEN

ESCAPED_SCRIPT = "&lt;script&gt;alert(1)&lt;/script&gt;"


@pytest.mark.parametrize("headers", [{}, {"Authorization": "Bearer wrong"}, {"Authorization": f"Bearer {TOKEN}x"},
                                     {"Authorization": TOKEN}])
def test_api_needs_the_token(token_client, headers):
    response = token_client.get("/api/incidents", headers=headers)
    assert response.status_code == 401
    assert response.headers["www-authenticate"] == "Bearer"


def test_api_with_the_token(token_client):
    assert token_client.get("/api/incidents", headers={"Authorization": f"Bearer {TOKEN}"}).status_code == 200
    assert token_client.get("/api/openapi.json").status_code == 401


def test_pages_send_browsers_to_the_login(token_client):
    response = token_client.get("/incidents/INC-X", headers={"Accept": "text/html"})
    assert response.status_code == 303
    assert response.headers["location"] == "/login?next=%2Fincidents%2FINC-X"
    assert token_client.get("/login").status_code == 200
    assert token_client.get("/static/app.js").status_code == 200


def test_login_form_sets_a_session(token_client):
    wrong = token_client.post("/login", data={"token": "nope", "next": "/"})
    assert wrong.status_code == 401 and "storewatch_session" not in wrong.cookies
    right = token_client.post("/login", data={"token": TOKEN, "next": "//evil.example/"})
    assert right.status_code == 303 and right.headers["location"] == "/"  # no open redirect
    assert "httponly" in right.headers["set-cookie"].lower() and "samesite=strict" in right.headers["set-cookie"].lower()
    assert token_client.get("/", headers={"Accept": "text/html"}).status_code == 200
    token_client.post("/logout")
    assert token_client.get("/api/incidents").status_code == 401


def test_token_in_the_address_is_exchanged_for_a_cookie(token_client):
    response = token_client.get(f"/?token={TOKEN}&sort=recent")
    assert response.status_code == 303 and response.headers["location"] == "/?sort=recent"
    assert token_client.get("/api/incidents").status_code == 200
    token_client.cookies.clear()
    assert token_client.get("/?token=wrong").status_code == 401


def test_cookie_sessions_need_the_csrf_header_and_same_origin(token_client):
    token_client.get(f"/?token={TOKEN}")
    incident = token_client.get("/api/incidents").json()[0]["id"]
    url = f"/api/incidents/{incident}/execute"
    assert token_client.post(url, json={"approved": True}).status_code == 403
    assert token_client.post(url, json={"approved": True}, headers={"X-Storewatch-CSRF": "1",
                                                                    "Origin": "https://evil.example"}).status_code == 403
    assert token_client.post(url, json={"approved": True}, headers={"X-Storewatch-CSRF": "1",
                                                                    "Sec-Fetch-Site": "cross-site"}).status_code == 403


def test_without_token_only_loopback_hosts_and_still_csrf(client):
    assert client.get("/api/incidents", headers={"Host": "attacker.example:8765"}).status_code == 400
    assert client.get("/api/incidents", headers={"Host": "localhost:8765"}).status_code == 200
    incident = client.get("/api/incidents").json()[0]["id"]
    assert client.post(f"/api/incidents/{incident}/feedback", json={"verdict": "false_positive"}).status_code == 403


def test_security_headers(client):
    response = client.get("/")
    csp = response.headers["content-security-policy"]
    assert "frame-ancestors 'none'" in csp and "script-src 'self'" in csp and "unsafe-inline" not in csp
    assert response.headers["x-content-type-options"] == "nosniff"
    assert response.headers["x-frame-options"] == "DENY"


def _pages(client) -> list[str]:
    rows = client.get("/api/incidents").json()
    return ([client.get("/incidents").text] + [client.get(f"/incidents/{r['id']}").text for r in rows]
            + [client.get("/").text, client.get("/attack").text]
            + [client.get(f"/incidents/{rows[0]['id']}?group={g}").text for g in ("source", "entity", "hour")])


def test_hostile_log_values_render_as_text(client):
    for html in _pages(client):
        assert SCRIPT not in html
        assert not re.search(r"<script(?![^>]*\bsrc=\"/static/[a-z]+\.js\")", html), "inline or foreign script"
        assert " style=" not in html  # the CSP allows no inline styles either
    incident_page = _pages(client)[1]
    assert ESCAPED_SCRIPT in incident_page  # title, entity, evidence and the ingested user agent
    assert TEMPLATE in incident_page  # shown as written, never evaluated
    assert "it&#39;s &#34;quoted&#34;" in incident_page
    assert "Mozilla " + ESCAPED_SCRIPT in incident_page  # from the ingested log line itself


def test_serve_refuses_other_addresses_without_a_token(hostile_ws, monkeypatch):
    monkeypatch.delenv("STOREWATCH_API_TOKEN", raising=False)
    started = []
    monkeypatch.setattr("uvicorn.run", lambda *a, **kw: started.append(kw))
    result = CliRunner().invoke(cli, ["serve", "--host", "0.0.0.0", "--home", str(hostile_ws.home)])
    assert result.exit_code == 2 and "without a token" in result.output
    assert started == []
    result = CliRunner().invoke(cli, ["serve", "--host", "0.0.0.0", "--token", TOKEN, "--home", str(hostile_ws.home)])
    assert result.exit_code == 2 and started == []  # no such option: a token never comes from the command line


def test_serve_starts_with_a_token_from_the_environment(hostile_ws, monkeypatch):
    monkeypatch.setenv("STOREWATCH_API_TOKEN", TOKEN)
    started = []
    monkeypatch.setattr("uvicorn.run", lambda app, **kw: started.append((app, kw)))
    result = CliRunner().invoke(cli, ["serve", "--host", "0.0.0.0", "--port", "9999", "--home", str(hostile_ws.home)])
    assert result.exit_code == 0, result.output
    (app, kw), = started
    assert kw["host"] == "0.0.0.0" and kw["port"] == 9999
    assert TOKEN not in result.output
    assert TestClient(app, base_url=BASE).get("/api/incidents").status_code == 401


def test_token_from_the_workspace_config_must_be_private(fresh_ws, monkeypatch):
    monkeypatch.delenv("STOREWATCH_API_TOKEN", raising=False)
    config = fresh_ws.home / "respond.yml"
    config.write_text(f"api:\n  token: {TOKEN}\n")
    config.chmod(0o644)
    with pytest.raises(ConfigError):
        api_token(fresh_ws)
    config.chmod(stat.S_IRUSR | stat.S_IWUSR)
    assert api_token(fresh_ws) == TOKEN
    assert TestClient(create_app(fresh_ws, api_token(fresh_ws)), base_url=BASE).get("/api/incidents").status_code == 401


class Clock:
    """Time the test moves by hand: a lockout ends when the test says so, not after a wait."""

    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


def _guarded(ws, address: str = "198.51.100.7") -> tuple[TestClient, Clock]:
    clock = Clock()
    app = create_app(ws, TOKEN)
    app.state.guard.throttle = Throttle(clock=clock)
    return TestClient(app, base_url=BASE, follow_redirects=False, client=(address, 40000)), clock


GUESSES = {
    "bearer": lambda c, t: c.get("/api/incidents", headers={"Authorization": f"Bearer {t}"}),
    "basic": lambda c, t: c.get("/api/incidents", auth=("firewall", t)),
    "login form": lambda c, t: c.post("/login", data={"token": t, "next": "/"}),
    "address bar": lambda c, t: c.get(f"/?token={t}"),
}


@pytest.mark.parametrize("how", GUESSES)
def test_guessing_locks_the_address_out_and_is_audited(fresh_ws, how):
    guess = GUESSES[how]
    client, clock = _guarded(fresh_ws)
    signed_in, _ = _guarded(fresh_ws)
    signed_in.app.state.guard = client.app.state.guard  # the same app, a browser that signed in earlier
    assert signed_in.get(f"/?token={TOKEN}").status_code == 303
    answers = [guess(client, f"wrong-guess-{n:04d}-{TOKEN}").status_code for n in range(MAX_FAILURES)]
    assert answers == [401] * MAX_FAILURES
    refused = guess(client, TOKEN)  # the right token too: a locked-out guesser learns nothing
    assert refused.status_code == 429 and int(refused.headers["retry-after"]) == LOCKOUT + 1
    other = TestClient(client.app, base_url=BASE, client=("203.0.113.9", 40000))
    assert other.get("/api/incidents", headers={"Authorization": f"Bearer {TOKEN}"}).status_code == 200
    assert signed_in.get("/api/incidents").status_code == 200  # a session is not a guess
    lockouts = [e for e in audit.entries(fresh_ws) if e["action"] == "auth.lockout"]
    assert [(e["what"]["client"], e["what"]["scope"], e["actor"]) for e in lockouts] == [
        ("198.51.100.7", "198.51.100.7", "dashboard:198.51.100.7")]
    assert audit.verify(fresh_ws) == []
    clock.now += LOCKOUT
    assert guess(client, TOKEN).status_code in (200, 303)


def test_wrong_tokens_spread_over_many_addresses_lock_token_sign_in():
    clock = Clock()
    throttle = Throttle(clock=clock)
    locked = [throttle.fail(f"10.0.{n // 256}.{n % 256}") for n in range(GLOBAL_FAILURES)]
    assert locked[:-1] == [[]] * (GLOBAL_FAILURES - 1) and locked[-1] == [EVERYONE]
    assert throttle.retry_after("192.0.2.1") == LOCKOUT
    clock.now += WINDOW  # failures spread wider than the window never add up
    assert throttle.retry_after("192.0.2.1") == LOCKOUT - WINDOW
    slow = Throttle(clock=clock)
    for n in range(3 * MAX_FAILURES):
        clock.now += WINDOW / (MAX_FAILURES - 1) + 1
        assert slow.fail("192.0.2.1") == []


@pytest.mark.parametrize("weak", ["a", "correct-horse", "x" * 64, "0123456789" * 3, "12" * 40])
def test_weak_tokens_are_refused(fresh_ws, monkeypatch, weak):
    monkeypatch.setenv("STOREWATCH_API_TOKEN", weak)
    with pytest.raises(ConfigError, match="token_urlsafe"):
        api_token(fresh_ws)
    with pytest.raises(ValueError):
        create_app(fresh_ws, weak)
    monkeypatch.setattr("uvicorn.run", lambda *a, **kw: pytest.fail("served with a weak token"))
    result = CliRunner().invoke(cli, ["serve", "--home", str(fresh_ws.home)])
    assert result.exit_code == 2 and "at least" in result.output
    assert not re.search(rf"\b{re.escape(weak)}\b", result.output)  # the token itself is never echoed


def test_a_generated_token_is_strong_enough(fresh_ws, monkeypatch):
    made = secrets.token_urlsafe(32)
    monkeypatch.setenv("STOREWATCH_API_TOKEN", made)
    assert api_token(fresh_ws) == made and weakness(made) is None


def _chunks(total: int, size: int = 65536):
    for _ in range(total // size):
        yield b"t" * size


@pytest.mark.parametrize("body", [lambda: b"token=" + b"a" * (MAX_BODY + 1), lambda: _chunks(4 * MAX_BODY)],
                         ids=["declared length", "chunked"])
def test_oversized_bodies_are_refused_before_being_read_whole(token_client, body):
    response = token_client.post("/login", content=body(), headers={"Content-Type": "application/x-www-form-urlencoded"})
    assert response.status_code == 413
    assert response.json() == {"detail": f"request body over {MAX_BODY} bytes"}
    assert response.headers["x-frame-options"] == "DENY"  # still answered through the guard
    fits = token_client.post("/login", data={"token": TOKEN, "next": "/", "pad": "p" * (MAX_BODY // 2)})
    assert fits.status_code == 303
