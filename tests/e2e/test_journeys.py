"""Journeys through the real site in Chromium, at a phone's size: a citizen from registration to
a verified certificate, an official's mandated course, a trainer publishing a lesson, and a
manager exporting the report. Every step leaves a screenshot in test-artifacts/screenshots/."""

from __future__ import annotations

import csv
import io
import re
import secrets
from datetime import date
from pathlib import Path

import openpyxl
import pytest
from playwright.sync_api import Browser, BrowserContext, Page, expect

from lms.config import PROJECT_ROOT
from lms.services import catalogue
from tests.e2e.answers import answer_correctly, attempt_id_of
from tests.e2e.conftest import OFFICIAL_COURSE, Camera, ServerErrors, log_in, new_context
from tests.e2e.site import LiveSite

pytestmark = pytest.mark.e2e

CITIZEN_COURSE = "dich-vu-cong"
STILL_VALID = "Còn hiệu lực"


def _lesson_ids(site: LiveSite, course_id: str) -> list[str]:
    with site.session() as s:
        return [le.id for le in catalogue.published_lessons(s, course_id)]


def _final_quiz(site: LiveSite, course_id: str) -> tuple[str, str]:
    with site.session() as s:
        course = catalogue.get_course(s, course_id)
        assert course.final_quiz_id
        from lms.services import quizzes

        return course.final_quiz_id, quizzes.get_quiz(s, course.final_quiz_id).title


def _study_every_lesson(page: Page, site: LiveSite, course_id: str, shot: Camera) -> None:
    """From the course page: open the first lesson, read it page by page with "Tiếp", mark it
    done, and land on the next lesson (after the last one, on the final assessment)."""
    lessons = _lesson_ids(site, course_id)
    page.goto(f"/courses/{course_id}")
    shot(page, "course page")
    page.locator("ol.lessons a").first.click()
    for number, lesson_id in enumerate(lessons, start=1):
        expect(page).to_have_url(re.compile(f"/lessons/{lesson_id}$"))
        if number == 1:
            shot(page, "first lesson")
        read_to_the_end(page)
        page.get_by_role("button", name="Tôi đã học xong bài này").click()
        expect(page.locator(".flash.success").first).to_contain_text(f"{number}/{len(lessons)}")
    final_id, _ = _final_quiz(site, course_id)
    expect(page).to_have_url(re.compile(f"/quizzes/{final_id}$"))
    shot(page, "last lesson done, on to the final")
    page.goto(f"/courses/{course_id}")
    expect(page.locator("label[for=progress]")).to_contain_text(f"{len(lessons)}/{len(lessons)}")


def read_to_the_end(page: Page) -> int:
    """Turn a lesson's pages with "Tiếp" until its last; how many pages it has."""
    pages = 1
    while page.locator("a[rel=next]").count():
        page.locator("a[rel=next]").click()
        pages += 1
    return pages


def _pass_final(page: Page, site: LiveSite, course_id: str, shot: Camera) -> None:
    quiz_id, title = _final_quiz(site, course_id)
    page.get_by_role("link", name=title).click()
    expect(page).to_have_url(re.compile(f"/quizzes/{quiz_id}$"))
    shot(page, "final assessment")
    page.get_by_role("button", name="Bắt đầu làm bài").click()
    expect(page).to_have_url(re.compile("/attempts/[0-9a-f]+$"))
    answered = answer_correctly(page, site, attempt_id_of(page))
    assert answered > 0
    shot(page, "answers filled in")
    with page.expect_navigation():  # grading, and for a final the certificate and its PDF, take a moment
        page.get_by_role("button", name="Nộp bài").click()
    assert page.url.endswith("/result"), f"{page.url}\n{page.locator('main').inner_text()}"
    expect(page.locator("main")).to_contain_text("Chúc mừng! Bạn đã đạt yêu cầu.")
    expect(page.locator("main .lead")).to_contain_text("(100")
    shot(page, "passed")


def test_citizen_registers_studies_and_verifies_certificate(page: Page, browser: Browser, site: LiveSite,
                                                            shot: Camera, tmp_path: Path,
                                                            server_errors: ServerErrors) -> None:
    phone = "09" + f"{secrets.randbelow(10 ** 8):08d}"
    full_name = "Đặng Thị Thu Hà"
    page.goto("/")
    shot(page, "home")
    page.get_by_role("link", name="Đăng ký học").first.click()
    page.select_option("#province", "86")
    shot(page, "choose province")
    page.get_by_role("button", name="Tiếp tục").click()
    page.get_by_label("Họ và tên", exact=True).fill(full_name)
    page.get_by_label("Số điện thoại hoặc email (dùng để đăng nhập)").fill(phone)
    page.get_by_label("Mật khẩu (ít nhất 8 ký tự)").fill("Hoc-so-moi-ngay-2026")
    page.get_by_label("Năm sinh", exact=True).fill("1961")
    page.get_by_label("Xã, phường nơi bạn sinh sống").select_option("28756")
    page.locator("#consent").check()
    shot(page, "registration form filled")
    page.get_by_role("button", name="Tạo tài khoản").click()
    expect(page.locator(".flash.success")).to_contain_text("Chào mừng bạn")
    shot(page, "registered")

    _study_every_lesson(page, site, CITIZEN_COURSE, shot)
    _pass_final(page, site, CITIZEN_COURSE, shot)

    page.get_by_role("navigation").get_by_role("link", name="Chứng nhận").click()
    card = page.locator("li.card").filter(has_text="Dịch vụ công trực tuyến")
    expect(card).to_contain_text(STILL_VALID)
    shot(page, "my certificates")
    download = card.get_by_role("link", name="Tải chứng nhận (PDF)")
    expect(download).to_be_visible()  # the card updates itself once the PDF is made
    shot(page, "certificate ready")
    with page.expect_download() as download_info:
        download.click()
    pdf = tmp_path / download_info.value.suggested_filename
    download_info.value.save_as(pdf)
    assert pdf.suffix == ".pdf" and pdf.read_bytes().startswith(b"%PDF-")
    from pyhanko.pdf_utils.reader import PdfFileReader

    with pdf.open("rb") as handle:
        assert PdfFileReader(handle).embedded_signatures, "the certificate PDF is not signed"

    verify_href = card.get_by_role("link", name="Trang xác minh").get_attribute("href") or ""
    code = verify_href.rsplit("/", 1)[-1]
    assert verify_href.startswith("/verify/") and code in pdf.name
    expect(card).to_contain_text(code)
    # Whoever scans the QR code opens the address printed on the certificate, without an account.
    stranger = new_context(browser, site)
    try:
        public = server_errors.watch(stranger.new_page())
        public.goto(f"{site.url}/verify/{code}")
        expect(public.locator(".flash.success")).to_contain_text(STILL_VALID)
        expect(public.locator("dl").first).to_contain_text(full_name)
        shot(public, "verification page")
    finally:
        stranger.close()


def test_official_sees_mandated_course_first_and_completes_it(page: Page, site: LiveSite, shot: Camera,
                                                              mandated_course: date) -> None:
    due_text = mandated_course.strftime("%d/%m/%Y")
    log_in(page, "canbo@demo.vn")
    page.get_by_role("navigation").get_by_role("link", name="Trang của tôi").click()
    expect(page).to_have_url(re.compile("/me$"))
    main = page.locator("main")
    headings = main.locator("h2").all_inner_texts()
    assert headings and headings[0] == "Khóa học bắt buộc", headings
    duty = main.locator("li.card").first
    expect(duty).to_contain_text("Chuyển đổi số cho cán bộ")
    expect(duty).to_contain_text(f"Hạn hoàn thành: {due_text}")
    expect(duty).to_contain_text("Chưa hoàn thành")
    shot(page, "mandated course first")
    duty.get_by_role("link").click()
    expect(page).to_have_url(re.compile(f"/courses/{OFFICIAL_COURSE}$"))

    _study_every_lesson(page, site, OFFICIAL_COURSE, shot)
    _pass_final(page, site, OFFICIAL_COURSE, shot)

    page.get_by_role("navigation").get_by_role("link", name="Trang của tôi").click()
    expect(page.locator("main li.card").first).to_contain_text("Đã hoàn thành")
    shot(page, "mandated course completed")


def _lesson_editor_exists() -> bool:
    """Whether a view is routed at the editor's address (read from the source: no app needed)."""
    return any("/trainer/lessons/<lesson_id>/edit" in path.read_text(encoding="utf-8")
               for path in (PROJECT_ROOT / "lms" / "web").glob("*.py"))


@pytest.mark.xfail(not _lesson_editor_exists(), strict=True,
                   reason="the lesson editor at /trainer/lessons/<lesson_id>/edit is not built yet")
def test_trainer_publishes_lesson_and_learner_sees_it(page: Page, context: BrowserContext, browser: Browser,
                                                       site: LiveSite, shot: Camera,
                                                       server_errors: ServerErrors) -> None:
    lesson_id = _lesson_ids(site, "tri-tue-nhan-tao")[0]
    sentence = f"Ghi nhớ {secrets.token_hex(3)}: hỏi lại cán bộ xã khi không chắc chắn."
    log_in(page, "giangvien@demo.vn")
    response = page.goto(f"/trainer/lessons/{lesson_id}/edit")
    assert response is not None and response.status == 200, "the lesson editor page is missing"
    body = page.locator("textarea[name=body]")
    body.fill(body.input_value() + f"\n\n{sentence}\n")
    shot(page, "lesson edited")
    with page.expect_navigation():
        page.get_by_role("button", name="Xem trước").click()
    expect(page.locator("main")).to_contain_text(sentence)
    shot(page, "preview")
    with page.expect_navigation():
        page.get_by_role("button", name="Xuất bản").click()
    shot(page, "published")

    learner = new_context(browser, site)
    try:
        reader = server_errors.watch(learner.new_page())
        log_in(reader, "0912345678")
        reader.goto(f"/lessons/{lesson_id}")
        read_to_the_end(reader)  # the new sentence closes the lesson, on its last page
        expect(reader.locator("article.lesson")).to_contain_text(sentence)
        shot(reader, "learner sees new text")
    finally:
        learner.close()


def test_manager_opens_report_and_exports_it(page: Page, shot: Camera, tmp_path: Path) -> None:
    log_in(page, "quanly@demo.vn")
    page.get_by_role("navigation").get_by_role("link", name="Báo cáo").click()
    expect(page.locator("h1")).to_contain_text("Báo cáo chỉ tiêu")
    assert page.locator("section.indicator").count() >= 3
    shot(page, "report dashboard")

    with page.expect_download() as csv_download:
        page.get_by_role("link", name="CSV", exact=True).click()
    csv_path = tmp_path / csv_download.value.suggested_filename
    csv_download.value.save_as(csv_path)
    rows = [r for r in csv.reader(io.StringIO(csv_path.read_text(encoding="utf-8-sig"))) if r]
    assert csv_path.suffix == ".csv" and len(rows) >= 4 and all(rows[0]), rows

    with page.expect_download() as xlsx_download:
        page.get_by_role("link", name="Excel (XLSX)", exact=True).click()
    xlsx_path = tmp_path / xlsx_download.value.suggested_filename
    xlsx_download.value.save_as(xlsx_path)
    book = openpyxl.load_workbook(xlsx_path)
    sheet = book.active
    assert sheet is not None
    table = [list(r) for r in sheet.iter_rows(values_only=True) if any(c is not None for c in r)]
    book.close()
    assert xlsx_path.suffix == ".xlsx" and len(table) >= 4 and table[0][0] == rows[0][0], table
    shot(page, "exports downloaded")
