"""The dashboard's learning pages: "never alert on this again" from an incident (preview, then confirm), the
benign verdict, and the detections page with its scorecard; in a real browser and through the API."""

from __future__ import annotations

import yaml

from storewatch import audit
from storewatch.learn import exceptions
from tests.report.support import ATTACKER, SCRIPT
from tests.web.conftest import TOKEN
from tests.web.test_browser import page, server  # noqa: F401  (fixtures)


def _first_incident(client) -> str:
    return client.get("/api/incidents").json()[0]["id"]


def test_exception_preview_saves_nothing_and_bad_conditions_are_refused(fresh_client, fresh_ws) -> None:
    inc = _first_incident(fresh_client)
    url = f"/api/incidents/{inc}/exceptions"
    body = {"condition": f"ip in {ATTACKER}/32", "scope": "all", "reason": "lab", "expires_days": 7}
    preview = fresh_client.post(url + "/preview", json=body)
    assert preview.status_code == 200, preview.text
    assert preview.json()["text"].startswith("would have closed ") and preview.json()["alerts"] >= 1
    assert not exceptions.folder(fresh_ws).exists()
    # an event field the alert does not carry is read from the events it recorded (the hostile log's user agents)
    by_agent = fresh_client.post(url + "/preview", json={**body, "condition": 'user_agent contains "curl/8"'}).json()
    assert by_agent["alerts"] == 1 and by_agent["detections"] == ["test.hostile"]
    assert fresh_client.post(url + "/preview", json={**body, "condition": "user_agent contains wget"}).json()["alerts"] == 0
    bad = fresh_client.post(url + "/preview", json={**body, "condition": "ip in 11.9.8.7/99"})
    assert bad.status_code == 400 and "not a network" in bad.json()["detail"]
    assert fresh_client.post(url, json=body, headers={"X-Storewatch-CSRF": ""}).status_code == 403
    saved = fresh_client.post(url, json=body)
    assert saved.status_code == 200, saved.text
    doc = yaml.safe_load((exceptions.folder(fresh_ws) / saved.json()["saved"]).read_text())
    assert doc["condition"] == f"ip in {ATTACKER}/32" and doc["reason"] == f"lab (from {inc})" and doc["expires"]
    assert [e["action"] for e in audit.entries(fresh_ws)][-1] == "exception.add"
    detections = fresh_client.get("/api/detections").json()["detections"]
    assert {"id", "source", "enabled", "alerts", "last_fired", "suggestion"} <= set(detections[0])


def test_incident_exception_form_and_detections_page_in_a_browser(server, page, fresh_ws, tmp_path) -> None:  # noqa: F811
    from playwright.sync_api import expect

    dialogs: list[str] = []
    page.on("dialog", lambda d: (dialogs.append(d.message), d.dismiss()))
    page.goto(f"{server}/incidents?token={TOKEN}")
    page.locator("table.incidents tbody tr").first.locator("a").click()
    condition = page.locator("#exception-condition")
    expect(condition).to_have_value(f'user = "{SCRIPT}" and ip in 11.9.8.0/24')  # suggested from the entities, as text
    page.fill("#exception-reason", "our own pen test")
    expect(page.locator("#exception-save")).to_be_hidden()
    page.click("#exception-preview")
    expect(page.locator("#exception-message")).to_contain_text("would have closed 1 alert in 1 incident")
    expect(page.locator("#exception-save")).to_be_visible()
    page.fill("#exception-reason", "our own pen test, changed")  # a change needs a new preview
    expect(page.locator("#exception-save")).to_be_hidden()
    page.click("#exception-preview")
    page.click("#exception-save")
    expect(page.locator("#exception-message")).to_contain_text("Saved as exc-")
    files = list(exceptions.folder(fresh_ws).glob("*.yml"))
    assert len(files) == 1 and yaml.safe_load(files[0].read_text())["reason"].startswith("our own pen test, changed")

    page.click("button[data-verdict=benign]")
    expect(page.locator("#status")).to_have_text("resolved")  # a verdict on the incident resolves its case
    page.screenshot(path=str(tmp_path / "incident.png"), full_page=True)

    page.click("header nav a[href='/detections']")
    expect(page.locator("h1")).to_contain_text("Detections")
    ssh = page.locator("tr[data-detection='window.ssh.bruteforce']")
    expect(ssh).to_contain_text("min_failures=20")
    expect(ssh).to_contain_text("keep")
    expect(ssh).to_contain_text("shipped")
    page.screenshot(path=str(tmp_path / "detections.png"), full_page=False)
    assert (tmp_path / "detections.png").stat().st_size > 10_000
    assert dialogs == []
