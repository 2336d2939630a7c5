"""Issue 15, in Chromium at 360 px: the way through a course with no dead ends, officials' mandates
from the first sign-in, the header on a cheap phone, Vietnamese order and formats, a page to type
a verification code, and lessons read aloud. Each test names the problem it guards against."""

from __future__ import annotations

import re
import secrets
from datetime import UTC, date, datetime
from pathlib import Path

import pytest
from playwright.sync_api import Browser, Page, expect

from lms.services import catalogue, quizzes
from lms.store import User
from tests.e2e.answers import answer_correctly, attempt_id_of
from tests.e2e.conftest import OFFICIAL_COURSE, Camera, log_in, new_context
from tests.e2e.site import LiveSite
from tests.e2e.test_journeys import CITIZEN_COURSE, read_to_the_end

pytestmark = pytest.mark.e2e

PASSWORD = "Hoc-so-moi-ngay-2026"
SAFETY_COURSE = "an-toan-so"  # lessons with tables


def _new_learner(site: LiveSite, role: str = "citizen") -> str:
    login = "09" + f"{secrets.randbelow(10 ** 8):08d}"
    site.lms("users", "create", "--role", role, "--login", login, "--password", PASSWORD,
             "--name", "Trần Văn Bảy", "--unit", "28756")
    return login


def _lessons(site: LiveSite, course_id: str) -> list[str]:
    with site.session() as s:
        return [le.id for le in catalogue.published_lessons(s, course_id)]


def _final(site: LiveSite, course_id: str) -> str:
    with site.session() as s:
        final = catalogue.get_course(s, course_id).final_quiz_id
    assert final
    return final


def test_finishing_a_lesson_opens_the_next_at_its_top_and_the_last_leads_to_the_final(
        page: Page, site: LiveSite, shot: Camera) -> None:
    """Was: the button reloaded the same ~10,000 px lesson at its top; the last had no way on."""
    lessons = _lessons(site, CITIZEN_COURSE)
    log_in(page, _new_learner(site), PASSWORD)
    for number, lesson_id in enumerate(lessons, start=1):
        page.goto(f"/lessons/{lesson_id}")
        read_to_the_end(page)
        page.get_by_role("button", name="Tôi đã học xong bài này").click()
        if number < len(lessons):
            expect(page).to_have_url(re.compile(f"/lessons/{lessons[number]}$"))
            assert page.evaluate("window.scrollY") == 0
            expect(page.locator("main .meta").first).to_contain_text("Trang 1/")
    expect(page).to_have_url(re.compile(f"/quizzes/{_final(site, CITIZEN_COURSE)}$"))
    expect(page.locator(".flash.success")).to_contain_text(f"{len(lessons)}/{len(lessons)}")
    expect(page.locator("#certificate-needs")).to_contain_text(f"bạn đã học {len(lessons)}/{len(lessons)} bài")
    shot(page, "after the last lesson, the final")


def test_a_long_lesson_shows_one_section_at_a_time_and_remembers_the_page(page: Page, site: LiveSite,
                                                                         shot: Camera) -> None:
    """Was: one page of ~10,000 px; now a page is a `## ` section, a few phone screens at most."""
    first = _lessons(site, CITIZEN_COURSE)[0]
    log_in(page, _new_learner(site), PASSWORD)
    page.goto(f"/lessons/{first}")
    where = page.locator(".pager .where")
    total = int(where.inner_text().split("/")[1])
    assert total >= 3, "the first lesson has several sections"
    expect(where).to_have_text(f"Trang 1/{total}")
    expect(page.get_by_role("link", name="Quay lại")).to_have_count(0)
    expect(page.get_by_role("button", name="Tôi đã học xong bài này")).to_have_count(0)
    tallest = 0
    for number in range(1, total + 1):
        tallest = max(tallest, page.evaluate("document.documentElement.scrollHeight"))
        if number < total:
            page.get_by_role("link", name="Tiếp", exact=True).click()
            expect(where).to_have_text(f"Trang {number + 1}/{total}")
            if number == 1:
                shot(page, "second page of a lesson")
    assert tallest < 6 * 740, f"a lesson page is {tallest} px high at 360 px"
    expect(page.get_by_role("button", name="Tôi đã học xong bài này")).to_be_visible()
    page.get_by_role("link", name="Quay lại").click()
    expect(where).to_have_text(f"Trang {total - 1}/{total}")
    page.goto(f"/courses/{CITIZEN_COURSE}")
    page.goto(f"/lessons/{first}")  # the learner comes back later: the page they were on
    expect(where).to_have_text(f"Trang {total - 1}/{total}")


def test_a_locked_lesson_says_which_lesson_opens_it_and_links_there(page: Page, site: LiveSite,
                                                                    shot: Camera) -> None:
    """Was: a bounce back to the course with "Bài học này mở sau…" and no way to know which."""
    lessons = _lessons(site, CITIZEN_COURSE)
    log_in(page, _new_learner(site), PASSWORD)
    page.goto(f"/lessons/{lessons[2]}")
    expect(page.locator(".needs")).to_contain_text("Bài này mở khi bạn học xong bài trước")
    shot(page, "locked lesson")
    page.locator(".needs a.button").click()
    expect(page).to_have_url(re.compile(f"/lessons/{lessons[0]}$"))
    page.goto(f"/courses/{CITIZEN_COURSE}")
    locked = page.locator("ol.lessons li").nth(1)
    expect(locked).to_contain_text("Mở khi học xong bài")
    expect(locked.get_by_role("link")).to_have_attribute("href", f"/lessons/{lessons[0]}")


def test_the_final_says_what_a_certificate_needs_and_the_result_what_is_missing(page: Page, site: LiveSite,
                                                                               shot: Camera) -> None:
    """Was: "Chúc mừng!" and then no certificate and no word why; scores read "0.0/12.0 điểm (0.0%)"."""
    lessons = _lessons(site, CITIZEN_COURSE)
    log_in(page, _new_learner(site), PASSWORD)
    page.goto(f"/quizzes/{_final(site, CITIZEN_COURSE)}")
    needs = page.locator("#certificate-needs")
    expect(needs).to_contain_text(f"Học xong cả {len(lessons)} bài")
    expect(needs).to_contain_text(f"Bạn còn {len(lessons)} bài chưa học")
    shot(page, "final before any lesson")
    page.get_by_role("button", name="Bắt đầu làm bài").click()
    answer_correctly(page, site, attempt_id_of(page))
    with page.expect_navigation():
        page.get_by_role("button", name="Nộp bài").click()
    lead = page.locator("main .lead").inner_text()
    assert re.search(r"Bạn được (\d+)/\1 điểm \(100%\)\.", lead), lead
    expect(page.locator("#certificate-needs")).to_contain_text(f"Bạn còn {len(lessons)} bài chưa học")
    expect(page.locator("#certificate-needs")).to_contain_text("Chứng nhận được cấp ngay khi bạn học xong")
    expect(page.locator("#certificate-needs a").first).to_have_attribute("href", f"/lessons/{lessons[0]}")
    shot(page, "passed but lessons missing")


def test_an_official_sees_the_yearly_mandate_from_the_first_sign_in(page: Page, site: LiveSite,
                                                                    shot: Camera) -> None:
    """Was: nothing anywhere until a manager assigned it, and then only on "Trang của tôi"."""
    log_in(page, _new_learner(site, role="official"), PASSWORD)
    due = f"31/12/{date.today().year}"
    page.goto("/")
    duty = page.locator("li.card.duty").first
    expect(duty).to_contain_text("Chuyển đổi số cho cán bộ")
    expect(duty).to_contain_text(due)
    shot(page, "home with the mandate")
    duty.get_by_role("link").click()
    expect(page).to_have_url(re.compile(f"/courses/{OFFICIAL_COURSE}$"))
    expect(page.locator("main")).to_contain_text("Khóa học bắt buộc với bạn.")
    page.goto("/me")
    expect(page.locator("li.card.duty").first).to_contain_text(due)
    status, body = site.post_json("/api/v1/tokens", {"login": "canbo@demo.vn", "password": "Demo-2026!"})
    assert status == 201
    mandates = page.request.get(f"{site.url}/api/v1/me/mandates",
                                headers={"Authorization": f"Bearer {body['token']}"}).json()
    assert [m["course_id"] for m in mandates] == [OFFICIAL_COURSE]


def _boxes_below(page: Page, selector: str, minimum: int = 44) -> list[str]:
    return page.evaluate("""([selector, minimum]) => [...document.querySelectorAll(selector)]
        .filter((el) => el.offsetParent !== null)
        .map((el) => [el, el.getBoundingClientRect()])
        .filter(([el, r]) => r.height < minimum || r.width < minimum)
        .map(([el, r]) => `${el.tagName} "${el.textContent.trim().slice(0, 30)}" `
                          + `${Math.round(r.width)}x${Math.round(r.height)}`)
    """, [selector, minimum])


def test_main_controls_are_at_least_44_px_and_text_size_and_language_are_in_the_header(
        page: Page, site: LiveSite, shot: Camera) -> None:
    """Was: header links 29 px, radios 26 px, "Trang xác minh" 24 px, "Chữ lớn" only in the footer."""
    login = _new_learner(site)
    site.lms("certificates", "issue", "--login", login, "--course", SAFETY_COURSE)
    log_in(page, login, PASSWORD)
    page.goto("/")
    header = page.locator("header")
    expect(header.get_by_role("button", name="Chữ lớn")).to_be_visible()
    expect(header.get_by_role("button", name="English")).to_be_visible()
    small = _boxes_below(page, "header a, header button, nav.menu a, nav.menu button, footer a, main .button")
    page.goto(f"/quizzes/{_final(site, CITIZEN_COURSE)}")
    page.get_by_role("button", name="Bắt đầu làm bài").click()
    small += _boxes_below(page, "input[type=radio], input[type=checkbox], main button")
    shot(page, "attempt with large radios")
    page.goto("/me/certificates")
    expect(page.get_by_role("link", name="Trang xác minh")).to_be_visible()
    small += _boxes_below(page, "main a")
    assert small == []
    page.locator("header").get_by_role("button", name="Chữ lớn").click()
    expect(page.locator("body")).to_have_class("large-text")
    expect(page.locator("header").get_by_role("button", name="Chữ nhỏ lại")).to_be_visible()


@pytest.mark.parametrize("width,height", [(360, 740), (180, 370)], ids=["360px", "200pc-zoom"])
def test_no_page_scrolls_sideways_and_the_menu_leaves_the_first_screen_to_the_page(
        browser: Browser, site: LiveSite, width: int, height: int) -> None:
    """Was: at 200% zoom the menu filled the first screen; wide tables pushed pages sideways."""
    context = new_context(browser, site)
    context.set_extra_http_headers({})
    page = context.new_page()
    page.set_viewport_size({"width": width, "height": height})
    try:
        log_in(page, "quanly@demo.vn")
        lessons = _lessons(site, SAFETY_COURSE)
        code = site.lms("certificates", "issue", "--login", _new_learner(site), "--course", CITIZEN_COURSE)["code"]
        for path in ("/", "/courses", f"/lessons/{lessons[0]}", f"/lessons/{lessons[3]}", "/me", "/manager",
                     "/manager/mandates", "/verify", f"/verify/{code}"):
            page.goto(path)
            wide = page.evaluate("document.documentElement.scrollWidth - document.documentElement.clientWidth")
            assert wide <= 0, f"{path} scrolls sideways by {wide} px at {width} px"
            content = page.locator("main").bounding_box()
            assert content and content["y"] < height / 2, f"{path}: the page's content starts at {content}"
    finally:
        context.close()


def test_table_words_never_break_mid_syllable(page: Page, site: LiveSite, shot: Camera) -> None:
    """Was: "Mật khẩ u", "VNe ID" in lesson tables (overflow-wrap: anywhere on every cell)."""
    log_in(page, "quanly@demo.vn")  # a manager may open every lesson
    broken: list[str] = []
    for lesson_id in _lessons(site, SAFETY_COURSE):
        page.goto(f"/lessons/{lesson_id}")
        for _ in range(12):
            broken += page.evaluate("""() => {
              const out = [];
              for (const cell of document.querySelectorAll('main td, main th')) {
                const walker = document.createTreeWalker(cell, NodeFilter.SHOW_TEXT);
                for (let node = walker.nextNode(); node; node = walker.nextNode()) {
                  const re = /\\S+/g; let m;
                  while ((m = re.exec(node.data))) {
                    const range = document.createRange();
                    range.setStart(node, m.index); range.setEnd(node, m.index + m[0].length);
                    const tops = new Set([...range.getClientRects()].map((r) => Math.round(r.top)));
                    // a web address or e-mail longer than its column may wrap; a word may not
                    if (tops.size > 1 && !/[.@/]\\w/.test(m[0])) out.push(m[0]);
                  }
                }
              }
              return out;
            }""")
            if page.locator("a[rel=next]").count() == 0:
                break
            if page.locator("main table").count():
                shot(page, f"table in {lesson_id}")
            page.locator("a[rel=next]").click()
    assert broken == []


def test_a_verification_code_can_be_typed_and_names_sort_the_vietnamese_way(page: Page, site: LiveSite,
                                                                              shot: Camera) -> None:
    """Was: /verify a 404 though the PDF prints "Mã xác minh"; Huế listed before Hà Nội."""
    code = site.lms("certificates", "issue", "--login", _new_learner(site), "--course", CITIZEN_COURSE)["code"]
    page.goto("/")
    page.locator("footer").get_by_role("link", name="Xác minh chứng nhận").click()
    expect(page).to_have_url(re.compile("/verify$"))
    page.get_by_label("Mã xác minh").fill(f" {code.lower()} ")
    shot(page, "typing a code")
    page.get_by_role("button", name="Xác minh").click()
    expect(page).to_have_url(re.compile(f"/verify/{code}$"))
    expect(page.locator(".flash.success")).to_contain_text("Còn hiệu lực")
    page.goto(f"/verify/{code}?lang=en")
    expect(page.locator("dl").first).to_contain_text(re.compile(r"\d{1,2} [A-Z][a-z]+ \d{4}"))
    expect(page.locator("dl").first).not_to_contain_text("ngày")
    page.goto("/?lang=vi")
    page.goto("/register")
    names = page.locator("#province option").all_inner_texts()
    hanoi, hue = names.index("Thành phố Hà Nội"), names.index("Thành phố Huế")
    assert hanoi < hue, names


def test_a_lesson_is_read_aloud_with_a_vietnamese_voice_and_readable_without_javascript(
        browser: Browser, site: LiveSite) -> None:
    """Was: no way to listen; now a button where the phone has a Vietnamese voice, hidden elsewhere."""
    lesson = _lessons(site, CITIZEN_COURSE)[0]
    plain = new_context(browser, site)
    try:
        page = plain.new_page()
        page.goto(f"/lessons/{lesson}")
        has_vietnamese = page.evaluate(
            "() => speechSynthesis.getVoices().some((v) => v.lang.toLowerCase().startsWith('vi'))")
        if not has_vietnamese:
            expect(page.locator(".read-aloud")).to_be_hidden()
    finally:
        plain.close()
    # A phone with a Vietnamese voice: the browser's own voice list, as Android's would answer.
    voiced = new_context(browser, site)
    voiced.add_init_script("""
      window.__spoken = [];
      const vi = {lang: 'vi-VN', name: 'Tiếng Việt', default: true, localService: true, voiceURI: 'vi'};
      speechSynthesis.getVoices = () => [vi];
      speechSynthesis.speak = (u) => window.__spoken.push({text: u.text, lang: u.lang});
    """)
    try:
        page = voiced.new_page()
        page.goto(f"/lessons/{lesson}")
        button = page.get_by_role("button", name="Đọc to trang này")
        expect(button).to_be_visible()
        button.click()
        spoken = page.evaluate("window.__spoken")
        assert spoken and all(s["lang"] == "vi-VN" for s in spoken)
        assert spoken[0]["text"] == page.locator("main h1").inner_text()
        expect(page.get_by_role("button", name="Dừng đọc")).to_be_visible()
    finally:
        voiced.close()
    no_script = browser.new_context(base_url=site.url, viewport={"width": 360, "height": 740},
                                    java_script_enabled=False)
    try:
        page = no_script.new_page()
        page.goto(f"/lessons/{lesson}")
        assert len(page.locator("article.lesson").inner_text()) > 300
    finally:
        no_script.close()


def test_trainer_preview_opens_at_the_preview_with_vietnamese_box_titles(page: Page, site: LiveSite,
                                                                         shot: Camera) -> None:
    """Was: the preview rendered below a 24-row box, out of sight; "!!! tip" showed English "Tip"."""
    lesson = _lessons(site, SAFETY_COURSE)[0]
    log_in(page, "giangvien@demo.vn")
    page.goto(f"/trainer/lessons/{lesson}/edit")
    body = page.locator("textarea")
    body.fill(body.input_value() + "\n\n!!! tip\n    Gọi lại số tổng đài chính thức.\n")
    page.get_by_role("button", name="Xem trước").click()
    expect(page).to_have_url(re.compile("#preview$"))
    expect(page.locator("#preview-heading")).to_be_in_viewport()
    tip = page.locator("#preview .admonition.tip .admonition-title")
    expect(tip).to_have_text("Mẹo")
    shot(page, "preview in view")


def test_the_jobs_page_lists_a_persons_work(page: Page, site: LiveSite, shot: Camera) -> None:
    """Was: the job page pointed to "Việc đang chạy", and /jobs was a 404."""
    log_in(page, "quanly@demo.vn")
    page.goto("/jobs")
    expect(page.locator("h1")).to_have_text("Việc đang chạy")
    expect(page.locator("main")).to_contain_text("Đã xong")
    shot(page, "jobs page")


def test_the_managers_dashboard_reads_well_on_a_phone(page: Page, site: LiveSite, shot: Camera) -> None:
    """Was: a 13-column month table one letter per line, a line chart without axes or legend, an
    unnamed target, slugs ("dich-vu-cong"), and 30 rows of "chưa có cán bộ trong danh sách"."""
    log_in(page, "quanly@demo.vn")
    page.goto("/manager")
    main = page.locator("main")
    shot(page, "dashboard")
    assert page.evaluate("document.documentElement.scrollWidth") <= 360
    charts = page.locator("svg.chart")
    expect(charts).to_have_count(4)
    for i in range(3):
        expect(charts.nth(i).locator("text").first).to_contain_text("Mục tiêu")
    trend = charts.nth(3)
    expect(trend.locator("text")).to_contain_text(["1", "2", "3", "4", "5", "6", "7", "8", "9", "10", "11", "12",
                                                   "Tháng"])
    expect(page.locator(".legend li")).to_have_count(2)
    smallest_text = page.evaluate("""() => Math.min(...[...document.querySelectorAll('svg.chart text')]
        .map((t) => t.getBoundingClientRect().height))""")
    assert smallest_text >= 10, f"chart text is {smallest_text} px high at 360 px"
    expect(main).to_contain_text("người dùng đã đăng ký")
    expect(main).not_to_contain_text("chưa có cán bộ trong danh sách")
    text = main.inner_text()
    for slug in ("dich-vu-cong", "chuyen-doi-so-can-bo", "citizen", "classes_held"):
        assert slug not in text, slug
    months = page.locator("table.months tbody tr")
    expect(months).to_have_count(12)
    page.emulate_media(media="print")
    shot(page, "dashboard printed")
    expect(page.locator("nav.menu")).to_be_hidden()
    expect(charts.first).to_be_visible()


def test_the_bank_editor_shows_plain_questions_without_markup(page: Page, site: LiveSite, shot: Camera,
                                                              tmp_path: Path) -> None:
    """Was: "[html]" at the start of every stem, choice and feedback in the bank editor."""
    gift = tmp_path / "on-tap.gift"
    gift.write_text("::mat-khau::Mật khẩu an toàn có ít nhất mấy ký tự? {=8 ~4#Quá ngắn. ~6}\n\n"
                    "::otp::Có nên gửi mã OTP cho người lạ? {F#Không bao giờ gửi.}\n", encoding="utf-8")
    with site.session() as s:
        trainer = s.query(User).filter_by(login="giangvien@demo.vn").one()
        quiz_id, _, _ = quizzes.import_file(s, gift, course_id=SAFETY_COURSE, fmt="gift", now=datetime.now(UTC),
                                            owner_id=trainer.id)
    log_in(page, "giangvien@demo.vn")
    page.goto(f"/trainer/quizzes/{quiz_id}/edit")
    bank = page.locator("textarea").input_value()
    assert "Mật khẩu an toàn có ít nhất mấy ký tự?" in bank and "[html]" not in bank, bank
    shot(page, "bank editor in plain text")
