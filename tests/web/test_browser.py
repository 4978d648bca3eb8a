"""The dashboard in a real browser: Debian's chromium driven by Playwright against a live uvicorn.

Signs in with the token the way a person would (the token in the address once), opens the overview, the
ATT&CK view, the list with filters and an incident, runs a playbook dry run, approves one action of the
plan after the confirmation, rolls it back, marks a false positive, pages the timeline and takes screenshots. Missing chromium skips
here but fails in CI (.ci/run installs it and sets STOREWATCH_REQUIRE_BROWSER).
"""

from __future__ import annotations

import socket
import threading
from typing import Iterator

import pytest
import uvicorn

from storewatch.web import create_app
from tests.report.support import ATTACKER, SCRIPT, chromium_or_skip
from tests.web.conftest import TOKEN

pytestmark = pytest.mark.browser
ARGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking", "--disable-component-update",
        "--disable-sync", "--no-first-run"]


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.fixture
def server(fresh_ws) -> Iterator[str]:
    port = _free_port()
    live = uvicorn.Server(uvicorn.Config(create_app(fresh_ws, TOKEN), host="127.0.0.1", port=port, log_level="warning"))
    thread = threading.Thread(target=live.run, daemon=True)
    thread.start()
    while not live.started:
        if not thread.is_alive():
            pytest.fail("uvicorn did not start")
        threading.Event().wait(0.05)
    yield f"http://127.0.0.1:{port}"
    live.should_exit = True
    thread.join()


@pytest.fixture
def page(tmp_path):
    chromium = chromium_or_skip()
    from playwright.sync_api import sync_playwright  # a test dependency: pip install -e '.[test]'

    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=str(chromium), args=ARGS)
        context = browser.new_context(viewport={"width": 1280, "height": 900})
        yield context.new_page()
        context.close()
        browser.close()


def test_dashboard_end_to_end(server, page, tmp_path):
    from playwright.sync_api import expect

    dialogs: list[str] = []
    page.on("dialog", lambda d: (dialogs.append(d.message), d.dismiss()))
    violations: list[str] = []
    page.on("console", lambda m: violations.append(m.text) if "Content Security Policy" in m.text else None)
    page.set_viewport_size({"width": 1366, "height": 768})
    page.goto(f"{server}/?token={TOKEN}")
    assert page.url == f"{server}/"  # the token left the address bar for a session cookie
    expect(page.locator("h1")).to_contain_text("Overview")
    expect(page.locator("figure svg")).to_have_count(4)
    assert page.locator("figure svg").first.bounding_box()["width"] > 300  # drawn, not blocked by the CSP
    page.screenshot(path=str(tmp_path / "overview.png"))

    page.click("text=ATT&CK coverage")
    expect(page.locator(".matrix .tech.fired").first).to_contain_text("T1110.001")
    page.screenshot(path=str(tmp_path / "attack.png"))

    page.click("header nav >> text=Incidents")
    rows = page.locator("table.incidents tbody tr")
    expect(rows).to_have_count(3)
    expect(rows.first.locator("td").nth(3)).to_contain_text(f"Brute force by {SCRIPT}")  # shown as text

    page.select_option("select[name=min_severity]", "high")
    page.click("form.filters button[type=submit]")
    expect(rows).to_have_count(2)
    page.select_option("select[name=channel]", "payments")
    page.click("form.filters button[type=submit]")
    expect(rows).to_have_count(1)
    page.goto(f"{server}/incidents?min_severity=high")

    rows.first.locator("a").click()
    expect(page.locator("h1")).to_contain_text(SCRIPT)
    assert page.locator("#respond").bounding_box()["y"] < 768  # the decision is above the fold
    page.click("#evidence summary >> nth=0")
    expect(page.locator("#evidence")).to_contain_text(f"Mozilla {SCRIPT}")

    page.click("#dry-run")
    expect(page.locator("#respond-message")).to_contain_text("Nothing was changed")
    expect(page.locator("#plan tbody")).to_contain_text(ATTACKER)
    ticks = page.locator("#plan tbody input[type=checkbox]")
    total = ticks.count()
    assert total >= 2 and page.locator("#plan tbody input:checked").count() == 0  # nothing ticked for the analyst
    expect(page.locator("#review")).to_be_disabled()
    page.locator("#plan tbody tr", has_text=ATTACKER).first.locator("input").check()
    page.click("#review")
    expect(page.locator("#confirm-question")).to_have_text(f"Execute 1 of {total} actions?")
    expect(page.locator("#confirm-list li")).to_have_count(1)
    page.screenshot(path=str(tmp_path / "confirm.png"))
    page.click("#confirm-execute")
    expect(page.locator("#respond-message")).to_contain_text(f"Executed 1 of {total}")
    executed = page.locator("#actions tbody tr", has_text="executed")
    expect(executed).to_have_count(1)
    expect(executed).to_contain_text(ATTACKER)
    expect(page.locator("#actions tbody tr", has_text="planned")).to_have_count(total - 1)  # the rest untouched

    rollback = executed.locator("button.rollback")
    rollback.click()
    expect(rollback).to_have_text("Confirm roll back")  # asks on the page, no dialog
    rollback.click()
    expect(page.locator("#respond-message")).to_contain_text("rolled_back")
    expect(page.locator("#actions tbody tr", has_text="rolled_back")).to_have_count(1)

    page.fill("#note", "lab traffic")
    page.click("button[data-verdict=false_positive]")
    expect(page.locator("#feedback-message")).to_contain_text("Recorded as a false positive")
    expect(page.locator("#status")).to_have_text("resolved")
    page.reload()
    expect(page.locator("#status")).to_have_text("resolved")  # stored, not just shown
    expect(page.locator("#case-status")).to_have_text("resolved: false positive")

    page.select_option("select[name=group]", "source")
    page.click("#timeline button[type=submit]")
    page.locator("table.groups a", has_text="nginx").click()
    expect(page.locator("nav.pager")).to_contain_text("Events 1–6 of 6")

    shot = tmp_path / "incident.png"
    page.screenshot(path=str(shot), full_page=True)
    assert shot.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n" and shot.stat().st_size > 10_000
    assert dialogs == []  # no injected script ever ran
    assert violations == []  # nothing the page draws is refused by its own policy
