"""Two named analysts work one case in a real browser (Debian chromium, Playwright, a live uvicorn):
one signs in, assigns the case to the other and comments; the other comments and resolves it. Both see
the other's work, the history names each of them, and the list shows the result."""

from __future__ import annotations

import pytest

from storewatch import accounts
from tests.report.support import SCRIPT, chromium_or_skip
from tests.web.test_browser import ARGS, server  # noqa: F401  (the live server fixture)

pytestmark = pytest.mark.browser
PASSWORD = "correct horse battery staple"


@pytest.fixture
def browser():
    chromium = chromium_or_skip()
    from playwright.sync_api import sync_playwright

    with sync_playwright() as p:
        launched = p.chromium.launch(executable_path=str(chromium), args=ARGS)
        yield launched
        launched.close()


def sign_in(browser, base: str, name: str):
    page = browser.new_context(viewport={"width": 1280, "height": 900}).new_page()
    page.goto(f"{base}/")
    page.fill("input[name=name]", name)
    page.fill("input[name=password]", PASSWORD)
    page.click("#password-login button[type=submit]")
    page.wait_for_url(f"{base}/")
    return page


def test_two_analysts_assign_comment_and_resolve(fresh_ws, server, browser, tmp_path):  # noqa: F811
    from playwright.sync_api import expect

    for name in ("kim", "lee"):
        accounts.add(fresh_ws, name, "analyst", PASSWORD)
    kim, lee = sign_in(browser, server, "kim"), sign_in(browser, server, "lee")
    expect(kim.locator("header .who")).to_have_text("kim (analyst)")

    kim.goto(f"{server}/incidents")
    kim.locator("table.incidents tbody tr").first.locator("a").click()
    incident = kim.url
    kim.select_option("form[data-action=assign] select[name=user]", "lee")
    kim.click("form[data-action=assign] button")
    expect(kim.locator("#case-assignee")).to_have_text("lee")
    kim.fill("form[data-action=comment] textarea", f"lee, this is yours: {SCRIPT}")
    kim.click("form[data-action=comment] button")
    expect(kim.locator("#case-comments")).to_contain_text(f"kim: lee, this is yours: {SCRIPT}")  # as text

    lee.goto(incident)
    expect(lee.locator("#case-comments")).to_contain_text("kim: lee, this is yours")
    lee.select_option("form[data-action=status] select[name=status]", "in_progress")
    lee.click("form[data-action=status] button")
    expect(lee.locator("#case-status")).to_have_text("in progress")
    lee.fill("form[data-action=comment] textarea", "blocked at the firewall, closing")
    lee.click("form[data-action=comment] button")
    expect(lee.locator("#case-comments li")).to_have_count(2)
    lee.select_option("form[data-action=status] select[name=status]", "resolved")
    lee.click("form[data-action=status] button")
    expect(lee.locator("#case-message")).to_contain_text("needs a resolution")  # refused, said why
    lee.select_option("form[data-action=status] select[name=resolution]", "true_positive")
    lee.click("form[data-action=status] button")
    expect(lee.locator("#case-status")).to_have_text("resolved: true positive")

    kim.reload()
    expect(kim.locator("#case-status")).to_have_text("resolved: true positive")
    history = kim.locator("#case-history tbody tr")
    expect(history).to_have_count(5)
    assert [history.nth(i).locator("td").nth(1).inner_text() for i in range(5)] == ["lee", "lee", "lee", "kim", "kim"]
    kim.screenshot(path=str(tmp_path / "case.png"), full_page=True)

    kim.goto(f"{server}/incidents?status=resolved")
    rows = kim.locator("table.incidents tbody tr")
    expect(rows).to_have_count(1)
    expect(rows.first).to_contain_text("resolved: true positive")
    expect(rows.first).to_contain_text("lee")
