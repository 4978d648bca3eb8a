"""New incidents reach an open dashboard without a reload: /api/incidents/new, and live.js in a real browser
(Debian's chromium through Playwright) inserting a hostile title as text."""

from __future__ import annotations

from datetime import datetime, timedelta, timezone

import pytest

from storewatch.store import db
from tests.web.conftest import TOKEN
from tests.web.test_browser import page, server  # noqa: F401  (fixtures)

HOSTILE = "<img src=x onerror=alert(1)> Card testing"


def _new_incident(ws, incident_id: str, severity: str = "critical") -> None:
    """An incident as correlation would add it: a copy of a stored one, created now."""
    with db.opened(ws) as con:
        con.execute("INSERT INTO incidents SELECT * REPLACE (? AS incident_id, ? AS title, ? AS severity, "
                    "? AS created_at) FROM incidents LIMIT 1",
                    [incident_id, HOSTILE, severity, datetime.now(timezone.utc) + timedelta(seconds=1)])


def test_new_incidents_endpoint_answers_what_came_after(fresh_ws, fresh_client) -> None:
    first = fresh_client.get("/api/incidents/new").json()
    assert first["incidents"] == [] and first["until"]
    assert fresh_client.get("/api/incidents/new", params={"after": first["until"]}).json()["incidents"] == []
    _new_incident(fresh_ws, "INC-LIVE000001")
    _new_incident(fresh_ws, "INC-LIVE000002", severity="low")
    later = fresh_client.get("/api/incidents/new", params={"after": first["until"]}).json()
    assert [i["id"] for i in later["incidents"]] == ["INC-LIVE000001", "INC-LIVE000002"]
    assert later["incidents"][0]["title"] == HOSTILE and later["until"] > first["until"]
    high = fresh_client.get("/api/incidents/new", params={"after": first["until"], "min_severity": "high"}).json()
    assert [i["id"] for i in high["incidents"]] == ["INC-LIVE000001"]
    assert fresh_client.get("/api/incidents/new", params={"min_severity": "severe"}).status_code == 422


@pytest.mark.browser
def test_an_open_list_shows_a_new_incident_without_a_reload(server, page, fresh_ws) -> None:  # noqa: F811
    from playwright.sync_api import expect

    dialogs: list[str] = []
    page.on("dialog", lambda d: (dialogs.append(d.message), d.dismiss()))
    with page.expect_response(lambda r: "/api/incidents/new" in r.url):
        page.goto(f"{server}/incidents?token={TOKEN}")
    rows = page.locator("table.incidents tbody tr")
    expect(rows).to_have_count(3)
    _new_incident(fresh_ws, "INC-LIVE000001")
    fresh = page.locator("tr[data-incident='INC-LIVE000001']")
    expect(fresh).to_have_count(1, timeout=20000)
    expect(fresh.locator("td").nth(3)).to_have_text(HOSTILE)  # shown as text, not markup
    expect(fresh.locator("a")).to_have_attribute("href", "/incidents/INC-LIVE000001")
    expect(page.locator("#live")).to_contain_text("1 new incident since this page opened")
    expect(rows).to_have_count(4)
    assert page.locator("table.incidents img").count() == 0 and dialogs == []
