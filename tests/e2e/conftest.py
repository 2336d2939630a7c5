"""Browser fixtures: one live site for the whole run (tests/e2e/site.py) and Debian's Chromium
driven by Playwright at a phone's size, in Vietnamese. Every page a test opens is watched: a
response of 5xx fails the test."""

from __future__ import annotations

import re
import shutil
from collections.abc import Iterator
from datetime import date
from pathlib import Path

import pytest
from playwright.sync_api import (
    Browser,
    BrowserContext,
    Page,
    Playwright,
    Response,
    ViewportSize,
    expect,
    sync_playwright,
)

from lms.config import PROJECT_ROOT
from tests.e2e.site import LiveSite, serve

CHROMIUM = Path("/usr/bin/chromium")
CHROMIUM_ARGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking", "--disable-component-update",
                 "--disable-sync", "--no-first-run"]
PHONE: ViewportSize = {"width": 360, "height": 740}
SCREENSHOTS = PROJECT_ROOT / "test-artifacts" / "screenshots"
DEMO_PASSWORD = "Demo-2026!"
OFFICIAL_COURSE = "chuyen-doi-so-can-bo"
# How long one Playwright action may wait for an element before reporting it missing: a guard
# against a hang, generous enough that a slow machine is never the reason a test fails.
ACTION_GUARD_MS = 120_000
expect.set_options(timeout=ACTION_GUARD_MS)


@pytest.fixture(scope="session")
def site(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LiveSite]:
    with serve(tmp_path_factory.mktemp("e2e-site")) as live:
        yield live


@pytest.fixture(scope="session")
def playwright_driver() -> Iterator[Playwright]:
    if not CHROMIUM.exists():
        pytest.fail("Debian's chromium is not installed: run `make test-e2e`, which installs it")
    with sync_playwright() as driver:
        yield driver


@pytest.fixture(scope="session")
def browser(playwright_driver: Playwright) -> Iterator[Browser]:
    chromium = playwright_driver.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS)
    yield chromium
    chromium.close()


@pytest.fixture(scope="session", autouse=True)
def _fresh_screenshots() -> None:
    shutil.rmtree(SCREENSHOTS, ignore_errors=True)
    SCREENSHOTS.mkdir(parents=True)


def new_context(browser: Browser, site: LiveSite) -> BrowserContext:
    context = browser.new_context(base_url=site.url, viewport=PHONE, locale="vi-VN", accept_downloads=True,
                                  timezone_id="Asia/Ho_Chi_Minh")
    context.set_default_timeout(ACTION_GUARD_MS)
    context.set_default_navigation_timeout(ACTION_GUARD_MS)
    return context


class ServerErrors:
    """Responses of 5xx seen by the pages of one test."""

    def __init__(self) -> None:
        self.seen: list[str] = []

    def watch(self, page: Page) -> Page:
        page.on("response", self._record)
        return page

    def _record(self, response: Response) -> None:
        if response.status >= 500:
            self.seen.append(f"{response.status} {response.request.method} {response.url}")


@pytest.fixture()
def server_errors() -> Iterator[ServerErrors]:
    errors = ServerErrors()
    yield errors
    assert not errors.seen, "the server answered with an error:\n" + "\n".join(errors.seen)


@pytest.fixture()
def context(browser: Browser, site: LiveSite) -> Iterator[BrowserContext]:
    ctx = new_context(browser, site)
    yield ctx
    ctx.close()


@pytest.fixture()
def page(context: BrowserContext, server_errors: ServerErrors) -> Page:
    return server_errors.watch(context.new_page())


class Camera:
    """Screenshots of a journey's steps, named `<journey>-<nn>-<step>.png`."""

    def __init__(self, journey: str) -> None:
        self.journey = journey
        self.count = 0
        self.taken: list[Path] = []

    def __call__(self, page: Page, step: str) -> Path:
        self.count += 1
        slug = re.sub(r"[^a-z0-9]+", "-", step.lower()).strip("-")
        path = SCREENSHOTS / f"{self.journey}-{self.count:02d}-{slug}.png"
        page.screenshot(path=str(path), full_page=True)
        self.taken.append(path)
        return path


@pytest.fixture()
def shot(request: pytest.FixtureRequest) -> Camera:
    name = request.node.name.removeprefix("test_")
    return Camera(re.sub(r"[^a-z0-9]+", "-", name.lower()).strip("-"))


@pytest.fixture(scope="session")
def mandated_course(browser: Browser, site: LiveSite) -> Iterator[date]:
    """The manager of Vĩnh Long assigns the officials' course, due at the end of this year."""
    due = date(date.today().year, 12, 31)
    context = new_context(browser, site)
    page = context.new_page()
    camera = Camera("manager-assigns-mandated-course")
    log_in(page, "quanly@demo.vn")
    page.goto("/manager")
    page.get_by_role("link", name="Giao khóa học bắt buộc").click()
    page.select_option("#course", OFFICIAL_COURSE)
    page.select_option("#unit", label="Tỉnh Vĩnh Long")  # by name: nobody types a unit code
    page.fill("#due", due.isoformat())
    camera(page, "mandate form")
    page.get_by_role("button", name="Giao", exact=True).click()
    expect(page.locator(".flash.success")).to_contain_text("Đã giao khóa học bắt buộc.")
    camera(page, "mandate saved")
    context.close()
    yield due


def log_in(page: Page, login: str, password: str = DEMO_PASSWORD) -> None:
    page.goto("/login")
    page.fill("input[name=login]", login)
    page.fill("input[name=password]", password)
    with page.expect_navigation():
        page.click("main form button[type=submit]")
    assert "/login" not in page.url, f"could not log in as {login}"


def log_out(page: Page) -> None:
    with page.expect_navigation():
        page.get_by_role("button", name="Đăng xuất").click()
