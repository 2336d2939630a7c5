"""The LMS inside a platform's iframe, in a real browser: the platform's course page frames the
tool's third-party login; the launch signs the learner in and shows the quiz inside the frame
(frame-ancestors names the platform); the quiz taken there sends its score to the platform."""

from __future__ import annotations

import time

import pytest
from playwright.sync_api import Page, expect

from tests.e2e.site import LiveSite
from tests.lti_platform import LEARNER, Platform, Scenario

pytestmark = pytest.mark.e2e
QUIZ = "an-toan-so-bai-01"


def test_a_quiz_launched_in_the_platforms_iframe_is_taken_there_and_scored(site: LiveSite, page: Page) -> None:
    with Platform().running() as p:
        p.tool_url, p.tool_launch_url = site.url, site.url + "/lti/launch"
        site.lms("lti", "platforms", "add", "--issuer", p.issuer, "--client-id", p.client_id,
                 "--deployment-id", p.deployment_id, "--auth-login-url", p.url + "/auth",
                 "--auth-token-url", p.url + "/token", "--keyset-url", p.url + "/jwks")
        p.scenarios["hint-e2e"] = Scenario(sub="moodle-e2e", roles=[LEARNER], ags=True,
                                           custom={"lms_target": f"quiz:{QUIZ}"})
        page.goto(p.url + "/course?hint=hint-e2e")
        frame = page.frame_locator("iframe")
        expect(frame.get_by_role("heading", level=1)).to_contain_text("Kiểm tra nhanh bài 1")
        frame.get_by_role("button", name="Bắt đầu làm bài").click()
        frame.get_by_role("button", name="Nộp bài").first.click()
        expect(frame.get_by_role("heading", level=1)).to_be_visible()
        # the web server's drainer sends the score in the background: wait for it, with a guard
        # against a hang only (never a timing)
        for _ in range(600):
            if p.scores:
                break
            time.sleep(0.2)
        assert len(p.scores) == 1 and p.scores[0]["auth_ok"]
        assert p.scores[0]["body"]["userId"] == "moodle-e2e"
