"""Signing in with the identity provider in Chromium: the site's button, the provider's own login and
consent forms (oidc-provider on loopback), the site's one question page, the same person again, and
signing out with the offer to end the provider's session."""

from __future__ import annotations

import re
from collections.abc import Iterator
from pathlib import Path

import pytest
from playwright.sync_api import Browser, Page, expect

from tests.e2e.conftest import Camera, ServerErrors, new_context
from tests.e2e.site import LiveSite, serve
from tests.e2e.test_accessibility import _axe, _explain
from tests.sso.partner import CLIENT_ID, CLIENT_SECRET, ProviderControl, provider

pytestmark = [pytest.mark.e2e, pytest.mark.sso]
__all__ = ["provider"]


@pytest.fixture(scope="module")
def sso_site(tmp_path_factory: pytest.TempPathFactory, provider: ProviderControl) -> Iterator[LiveSite]:
    env = {"LMS_OIDC_ISSUER": provider.issuer, "LMS_OIDC_CLIENT_ID": CLIENT_ID,
           "LMS_OIDC_CLIENT_SECRET": CLIENT_SECRET, "LMS_OIDC_NAME": "VNeID"}
    with serve(tmp_path_factory.mktemp("sso-site"), port=provider.browser_site_port, extra_env=env) as live:
        yield live


def _no_axe_violations(page: Page, where: str) -> None:
    violations = _axe(page)
    assert not violations, f"axe-core on {where}:\n{_explain(violations)}"


def _at_provider(page: Page, login: str) -> None:
    """The provider's development forms: any login name signs in; then its consent form."""
    page.locator("input[name=login]").fill(login)
    page.locator("input[name=password]").fill("any password")
    page.locator("button[type=submit]").first.click()
    page.locator("button[type=submit]").first.click()  # consent: "Continue"


def test_citizen_signs_in_with_the_provider_in_a_browser(browser: Browser, sso_site: LiveSite,
                                                         provider: ProviderControl, shot: Camera,
                                                         server_errors: ServerErrors, tmp_path: Path) -> None:
    provider.people(**{"browser-an": {"name": "Huỳnh Thị Ánh", "phone_number": "+84918000111",
                                      "phone_number_verified": True}})
    context = new_context(browser, sso_site)
    try:
        page = server_errors.watch(context.new_page())
        page.goto("/login")
        button = page.get_by_role("link", name="Đăng nhập bằng VNeID")
        expect(button).to_be_visible()
        shot(page, "sign-in page with the provider first")
        _no_axe_violations(page, "/login with the provider's button")
        button.click()
        _at_provider(page, "browser-an")
        expect(page.get_by_role("heading", level=1)).to_contain_text("Huỳnh Thị Ánh")
        shot(page, "one more step")
        _no_axe_violations(page, "the completion page, first step")
        page.select_option("#province", "86")
        page.get_by_role("button", name="Tiếp tục").click()
        _no_axe_violations(page, "the completion page, with the communes")
        page.select_option("#unit_code", "28756")
        page.locator("#consent").check()
        page.get_by_role("button", name="Tiếp tục").click()
        page.goto("/me")
        expect(page.get_by_role("heading", level=1)).to_contain_text("Huỳnh Thị Ánh")
        expect(page.get_by_text("browser-an")).to_be_visible()
        shot(page, "my page lists the linked identity")
        _no_axe_violations(page, "/me with a linked identity")
        page.get_by_role("button", name="Đăng xuất").click()
        expect(page.get_by_role("heading", level=1)).to_contain_text("Bạn đã đăng xuất khỏi trang học")
        expect(page.get_by_role("link", name="Kết thúc phiên VNeID")).to_have_attribute(
            "href", f"{provider.issuer}/session/end?" + "id_token_hint=" + page.get_by_role(
                "link", name="Kết thúc phiên VNeID").get_attribute("href").split("id_token_hint=")[1])  # type: ignore[union-attr]
        shot(page, "signed out")
        _no_axe_violations(page, "the signed-out page")
        # The same person again: the provider remembers them; the site asks nothing more.
        page.goto("/login/oidc?next=/courses")
        if page.locator("input[name=login]").count():
            _at_provider(page, "browser-an")
        elif page.locator("button[type=submit]").count() and "/interaction/" in page.url:
            page.locator("button[type=submit]").first.click()
        expect(page).to_have_url(f"{sso_site.url}/courses")
        expect(page.get_by_role("button", name="Đăng xuất")).to_be_visible()
        # A callback this browser did not start: the refusal page.
        page.goto("/login/oidc/callback?code=stolen&state=forged-state-forged-state")
        expect(page.get_by_role("heading", level=1)).to_have_text("Phiên đăng nhập không khớp")
        _no_axe_violations(page, "a refusal page")
        shot(page, "refusal page")
        # Closing the account, signed in through the provider only: no password to ask for, the
        # sign-in just made stands in for it
        page.goto("/me")
        page.get_by_role("link", name="Dữ liệu của tôi").first.click()
        expect(page.get_by_text("Tài khoản của bạn không có mật khẩu")).to_be_visible()
        expect(page.locator("input[name=password]")).to_have_count(0)
        shot(page, "my data without a password")
        _no_axe_violations(page, "/me/data of an account without a password")
        page.locator("#confirm").check()
        page.get_by_role("button", name="Đóng tài khoản").click()
        expect(page.get_by_role("status")).to_contain_text("Tài khoản đã được đóng")
        shot(page, "account closed")
        page.goto("/me")
        expect(page).to_have_url(re.compile(r"/login"))  # signed out with it
    finally:
        context.close()
