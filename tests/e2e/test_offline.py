"""Offline, in a real browser: a lesson visited once reads without a connection (the service
worker's copy), a page never visited shows the offline page, and an answer given offline waits
("Đang chờ gửi") and is saved once the connection returns."""

from __future__ import annotations

import pytest
from playwright.sync_api import BrowserContext, Page, expect

from lms.services import catalogue
from lms.store import Attempt, AttemptAnswer
from tests.e2e.answers import attempt_id_of
from tests.e2e.conftest import log_in
from tests.e2e.site import LiveSite

pytestmark = pytest.mark.e2e

COURSE = "an-toan-so"


def _lessons(site: LiveSite) -> list[tuple[str, str]]:
    with site.session() as s:
        return [(le.id, le.title) for le in catalogue.published_lessons(s, COURSE)]


def _controlled(page: Page) -> None:
    """Wait until the service worker controls the page (it claims it once activated)."""
    # Polled with evaluate (run by the browser's debugger, not by eval in the page, which the
    # CSP forbids); the test has no deadline of its own.
    while not page.evaluate("() => !!(navigator.serviceWorker && navigator.serviceWorker.controller)"):
        page.wait_for_timeout(100)


def _go_offline(context: BrowserContext) -> None:
    context.set_offline(True)
    # The service worker's own fetches must fail too, as on a phone without signal.
    context.route("**/*", lambda route: route.abort("internetdisconnected"))


def _go_online(context: BrowserContext) -> None:
    context.unroute("**/*")
    context.set_offline(False)


def test_a_visited_lesson_is_readable_offline(page: Page, context: BrowserContext, site: LiveSite) -> None:
    (first_id, first_title), (second_id, _) = _lessons(site)[:2]
    page.goto(f"/courses/{COURSE}")
    _controlled(page)
    page.goto(f"/lessons/{first_id}")  # visited while online, through the service worker
    expect(page.locator("h1")).to_have_text(first_title)
    _go_offline(context)
    try:
        page.goto(f"/lessons/{first_id}")
        expect(page.locator("h1")).to_have_text(first_title)
        expect(page.locator("article.lesson")).not_to_be_empty()
        page.goto(f"/lessons/{second_id}")  # never visited: the offline page
        expect(page.locator("h1")).to_have_text("Không có kết nối mạng")
    finally:
        _go_online(context)


def test_an_answer_given_offline_is_sent_when_the_connection_returns(page: Page, context: BrowserContext,
                                                                     site: LiveSite) -> None:
    log_in(page, "0912345678")
    with site.session() as s:
        course = catalogue.get_course(s, COURSE)
        quiz_id = course.final_quiz_id
    assert quiz_id
    page.goto(f"/quizzes/{quiz_id}")
    page.get_by_role("button", name="Bắt đầu làm bài").click()
    # attempt.js is deferred: an answer given before it runs is kept by the form, not autosaved
    page.wait_for_load_state("load")
    attempt_id = attempt_id_of(page)
    with site.session() as s:
        attempt = s.get(Attempt, attempt_id)
        assert attempt is not None
        number, snap = next((n, q) for n, q in enumerate(attempt.layout, start=1) if q["type"] == "single")
    choice = snap["spec"]["choices"][0]["id"]
    state = page.locator(f"fieldset#q-{number} [data-save-state]")

    context.set_offline(True)
    try:
        page.check(f'input[name="q-{number}"][value="{choice}"]')
        expect(state).to_have_text("Đang chờ gửi")
        with site.session() as s:
            assert s.query(AttemptAnswer).filter_by(attempt_id=attempt_id, question_id=snap["id"]).count() == 0
    finally:
        context.set_offline(False)
    page.evaluate("window.dispatchEvent(new Event('online'))")  # what the browser fires on reconnecting
    expect(state).to_have_text("Đã lưu")
    with site.session() as s:
        saved = s.query(AttemptAnswer).filter_by(attempt_id=attempt_id, question_id=snap["id"]).one()
        assert saved.response == choice
