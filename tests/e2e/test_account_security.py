"""Accounts in a real browser (issue 13, items 4-5): sign-in never sends anyone off the site,
however the ``next`` address is dressed up, and a session cookie copied before sign-out opens
nothing after it."""

from __future__ import annotations

from urllib.parse import quote, urlparse

import pytest
from playwright.sync_api import Browser, Page, Route

from tests.e2e.conftest import log_in, log_out, new_context
from tests.e2e.site import LiveSite

pytestmark = pytest.mark.e2e

CITIZEN = "0912345678"  # a demo account (README.md)

# what browsers turn into another site: a tab or newline dropped, a backslash read as a slash,
# a scheme-relative or absolute address
TARGETS = ["/\t/evil.example", "/\n/evil.example", "//evil.example", "/\\evil.example", "\\\\evil.example",
           "https://evil.example/", "javascript:alert(1)", "/%2F/evil.example", "///evil.example"]


@pytest.mark.parametrize("target", TARGETS)
def test_sign_in_stays_on_the_site(browser: Browser, site: LiveSite, target: str) -> None:
    context = new_context(browser, site)
    elsewhere: list[str] = []
    home = urlparse(site.url).netloc

    def _guard(route: Route) -> None:
        if urlparse(route.request.url).netloc != home:
            elsewhere.append(route.request.url)
            route.abort()
        else:
            route.continue_()

    context.route("**/*", _guard)
    page: Page = context.new_page()
    dialogs: list[str] = []
    page.on("dialog", lambda d: (dialogs.append(d.message), d.dismiss()))
    page.goto("/login?next=" + quote(target, safe=""))
    page.fill("input[name=login]", CITIZEN)
    page.fill("input[name=password]", "Demo-2026!")
    with page.expect_navigation():
        page.click("main form button[type=submit]")
    page.wait_for_load_state()
    assert urlparse(page.url).netloc == home, page.url
    assert elsewhere == [] and dialogs == []
    context.close()


def test_a_cookie_copied_before_sign_out_opens_nothing_after(browser: Browser, site: LiveSite) -> None:
    mine = new_context(browser, site)
    page = mine.new_page()
    log_in(page, CITIZEN)
    page.goto("/me")
    assert urlparse(page.url).path == "/me"
    copied = mine.cookies()
    assert any(c["name"] == "session" for c in copied)
    log_out(page)
    page.goto("/me")
    assert urlparse(page.url).path == "/login"
    # someone who copied the cookie (a shared computer, a stolen backup) replays it
    thief = new_context(browser, site)
    thief.add_cookies(copied)  # type: ignore[arg-type]
    stolen = thief.new_page()
    stolen.goto("/me")
    assert urlparse(stolen.url).path == "/login"
    assert stolen.locator("input[name=password]").count() == 1
    thief.close()
    mine.close()
