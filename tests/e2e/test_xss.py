"""Stored XSS in a real browser. The Content-Security-Policy lets inline script run (so that
audit tools can be injected, docs/decisions/0003), so escaping and the nh3 allow-list are the
only walls: every payload of tests/e2e/xss_payloads.py is planted where people's text is shown
(lesson Markdown, question text and feedback, a learner's full name, a class title) and every
page showing it is opened in Chromium. Nothing may run: no dialog, no `window.__xss`, no request
to /xss…, and no 5xx."""

from __future__ import annotations

import json
import re
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from urllib.parse import urlparse

import pytest
from playwright.sync_api import Browser, Dialog, Page, Request, expect
from sqlalchemy import select

from lms.config import PROJECT_ROOT
from lms.content.rendering import render_markdown
from lms.services import classes
from lms.store import Certificate, Lesson, TrainingClass, User
from tests import factories
from tests.e2e.conftest import Camera, ServerErrors, log_in, new_context
from tests.e2e.site import LiveSite
from tests.e2e.xss_payloads import PAYLOADS, TEMPLATE_RESULT

pytestmark = pytest.mark.e2e

COURSE = "thu-xss"
PASSWORD = "Hoc-so-moi-ngay-2026"
COMMUNE = "28756"


def _gift_escape(text: str) -> str:
    return re.sub(r"([\\~=#{}:])", r"\\\1", text.replace("\n", " "))


def _lesson_id(n: int) -> str:
    return f"thu-xss-{n:02d}"


def _plant_lessons(site: LiveSite, folder: Path) -> None:
    """One lesson per payload, loaded with `lms content sync PATH`. The content check refuses
    some (Markdown images that are not course assets): those lessons are synced with a plain
    body and then given the payload rendered by the same Markdown renderer and sanitiser."""
    course = folder / COURSE
    course.mkdir(parents=True)
    stems = [f"{n:02d}-bai-thu" for n in range(len(PAYLOADS))]
    (course / "course.toml").write_text("\n".join([
        f'id = "{COURSE}"',
        "title = " + json.dumps("Khóa thử <img src=x onerror=alert(1)> {{7*1337}}"),
        'title_en = "XSS trial course"',
        'summary = "Khóa học dùng cho kiểm thử an toàn."',
        'summary_en = "A course for security testing."',
        'audience = ["citizen"]', 'competences = ["1.1"]', 'version = "1"', "sequential = false",
        "minutes = 5", "lessons = " + json.dumps(stems), ""]), encoding="utf-8")
    for n, payload in enumerate(PAYLOADS):
        front = "\n".join(["---", f"id: {_lesson_id(n)}", "title: " + json.dumps(f"Bài thử {n}: {payload}"),
                           'competences: ["1.1"]', "minutes: 1", "---"])
        (course / f"{stems[n]}.md").write_text(f"{front}\nMở đầu.\n\n{payload}\n\nKết thúc.\n", encoding="utf-8")
    check = site.lms_run("content", "check", str(folder))
    refused = {int(m.group(1)) for m in re.finditer(r"/(\d\d)-bai-thu\.md:\d+:", check.stdout + check.stderr)}
    for n in refused:
        text = (course / f"{stems[n]}.md").read_text(encoding="utf-8")
        (course / f"{stems[n]}.md").write_text(text.replace(PAYLOADS[n], "Nội dung tạm."), encoding="utf-8")
    site.lms("content", "sync", str(folder))
    site.lms("content", "co-owner", COURSE, "--login", "giangvien@demo.vn")  # lessons are edited by co-owners
    with site.session() as s:
        for n in refused:
            lesson = s.get(Lesson, _lesson_id(n))
            assert lesson is not None
            lesson.html = render_markdown(f"Mở đầu.\n\n{PAYLOADS[n]}\n\nKết thúc.\n")


def _gift(payloads: list[str]) -> str:
    out = []
    for n, payload in enumerate(payloads):
        p = _gift_escape(payload)
        for fmt in ("html", "markdown"):
            out.append(f"::xss-{n}-{fmt[0]}::[{fmt}]Câu {n}\\: {p} {{\n=[{fmt}]Đúng {p}#[{fmt}]{p}\n"
                       f"~[{fmt}]Sai {p}#[{fmt}]{p}\n####[{fmt}]{p}\n}}\n")
    return "\n".join(out)


@dataclass
class Watch:
    """What a page did that it should not have."""

    origin: str
    executed: list[str] = field(default_factory=list)
    visited: int = 0

    def attach(self, page: Page) -> Page:
        page.on("dialog", self._dialog)
        page.on("request", self._request)
        return page

    def _dialog(self, dialog: Dialog) -> None:
        self.executed.append(f"{dialog.page.url if dialog.page else '?'}: {dialog.type}({dialog.message!r})")
        dialog.dismiss()

    def _request(self, request: Request) -> None:
        url = urlparse(request.url)
        if request.url.startswith(("data:", "blob:")):
            return
        if f"{url.scheme}://{url.netloc}" != self.origin or url.path.startswith("/xss"):
            self.executed.append(f"request to {request.url} from {request.frame.url}")

    def visit(self, page: Page, path: str) -> None:
        response = page.goto(path)
        self.visited += 1
        assert response is not None and response.status < 500, f"{path}: {response and response.status}"
        self.check(page)

    def check(self, page: Page) -> None:
        # Handlers such as onerror and ontoggle fire after load: let two frames pass first.
        flagged, evaluated = page.evaluate(
            """(result) => new Promise(done => requestAnimationFrame(() => requestAnimationFrame(() =>
                 done([window.__xss !== undefined, document.body.innerText.includes(result)]))))""",
            TEMPLATE_RESULT)
        if flagged:
            self.executed.append(f"{page.url}: window.__xss was set")
        if evaluated:
            self.executed.append(f"{page.url}: a template expression was evaluated")


@pytest.fixture()
def watch(site: LiveSite) -> Watch:
    return Watch(origin=site.url)


@pytest.fixture()
def learner_page(browser: Browser, site: LiveSite, server_errors: ServerErrors,
                 watch: Watch) -> Iterator[Page]:
    context = new_context(browser, site)
    yield watch.attach(server_errors.watch(context.new_page()))
    context.close()


@pytest.fixture()
def trainer_page(browser: Browser, site: LiveSite, server_errors: ServerErrors, watch: Watch) -> Iterator[Page]:
    context = new_context(browser, site)
    page = watch.attach(server_errors.watch(context.new_page()))
    log_in(page, "giangvien@demo.vn")
    yield page
    context.close()


def test_the_watch_sees_script_that_runs(watch: Watch, learner_page: Page) -> None:
    """The control: script injected into a live page trips every detector."""
    learner_page.goto("/courses")
    injected = f"<img src=x onerror=\"window.__xss=1;alert(1);fetch('/xss-hit')\"><p>{TEMPLATE_RESULT}</p>"
    with learner_page.expect_request(lambda r: r.url.endswith("/xss-hit")):
        learner_page.evaluate("(html) => document.querySelector('main').insertAdjacentHTML('beforeend', html)",
                              injected)
    watch.check(learner_page)
    kinds = " | ".join(watch.executed)
    assert "alert('1')" in kinds and "window.__xss" in kinds and "template" in kinds and "/xss-hit" in kinds, kinds


def _register(site: LiveSite, n: int) -> tuple[int, object]:
    return site.post_json("/api/v1/registrations", {
        "full_name": PAYLOADS[n], "login": f"xss{n}@example.vn", "password": PASSWORD, "birth_year": 1980,
        "unit_code": COMMUNE})


def test_payloads_never_run(site: LiveSite, watch: Watch, learner_page: Page, trainer_page: Page,
                            tmp_path: Path, shot: Camera) -> None:
    now = datetime.now(UTC)
    _plant_lessons(site, tmp_path / "content")

    # Names: every payload registers through the API, one more through the form in the browser.
    with ThreadPoolExecutor(max_workers=4) as pool:
        registered = list(pool.map(lambda n: _register(site, n), range(len(PAYLOADS))))
    assert [status for status, _ in registered] == [201] * len(PAYLOADS), registered
    page = learner_page
    page.goto("/register?province=86")
    page.get_by_label("Họ và tên", exact=True).fill(PAYLOADS[0])
    page.get_by_label("Số điện thoại hoặc email (dùng để đăng nhập)").fill("xss-form@example.vn")
    page.get_by_label("Mật khẩu (ít nhất 8 ký tự)").fill(PASSWORD)
    page.get_by_label("Năm sinh", exact=True).fill("1979")
    page.get_by_label("Xã, phường nơi bạn sinh sống").select_option(COMMUNE)
    page.locator("#consent").check()
    with page.expect_navigation():
        page.get_by_role("button", name="Tạo tài khoản").click()
    watch.check(page)
    watch.visit(page, "/me")
    shot(page, "name on my page")

    # Questions: a GIFT file of every payload in text, choices and feedback, imported by the trainer.
    gift = tmp_path / "cau-hoi-xss.gift"
    gift.write_text(_gift(PAYLOADS), encoding="utf-8")
    trainer = trainer_page
    trainer.goto("/trainer/import")
    trainer.select_option("#course", COURSE)
    trainer.select_option("#format", "gift")
    trainer.set_input_files("#file", str(gift))
    with trainer.expect_navigation():
        trainer.get_by_role("button", name="Nhập", exact=True).click()
    if "/jobs/" in trainer.url:  # the import runs as a job whose page refreshes itself until it is over
        expect(trainer.locator("#job-state")).to_have_text(re.compile("Đã xong|Không thành công"))
        assert trainer.locator("#job-state").inner_text() == "Đã xong", trainer.locator("main").inner_text()
        with trainer.expect_navigation():
            trainer.get_by_role("link", name="Xem trước bài kiểm tra").click()
    assert "/preview" in trainer.url, trainer.locator("main").inner_text()
    quiz_id = trainer.url.split("/trainer/quizzes/")[1].split("/")[0]
    watch.check(trainer)
    shot(trainer, "question preview")
    with trainer.expect_navigation():  # a browser import is a draft until its author publishes it
        trainer.get_by_role("button", name="Xuất bản").click()
    watch.check(trainer)
    for path in (f"/trainer/quizzes/{quiz_id}/edit", f"/trainer/quizzes/{quiz_id}/statistics", "/trainer"):
        watch.visit(trainer, path)

    # Class titles: one through the form, the rest through the service; the names attend.
    trainer.goto("/trainer/classes")
    trainer.fill("#title", PAYLOADS[1])
    trainer.fill("#held_on", now.date().isoformat())
    trainer.fill("#place", PAYLOADS[2])
    trainer.fill("#unit_code", COMMUNE)
    trainer.select_option("#course_id", COURSE)
    with trainer.expect_navigation():
        trainer.get_by_role("button", name="Lưu lớp").click()
    watch.check(trainer)
    with site.session() as s:
        teacher = s.scalars(select(User).where(User.login == "giangvien@demo.vn")).one()
        made = [classes.create_class(s, teacher, title=p, held_on=now, place=p, unit_code=COMMUNE,
                                     course_id=COURSE) for p in PAYLOADS]
        class_ids = [c.id for c in made]
        for n in range(len(PAYLOADS)):
            classes.record_attendance(s, teacher, class_ids[0], f"xss{n}@example.vn", passed=None,
                                      score=90.0 if n % 8 == 0 else None, now=now, **factories.PDFS_LATER)
    with site.session() as s:
        codes = list(s.scalars(select(Certificate.code).join(User, User.id == Certificate.user_id)
                               .where(User.login.like("xss%@example.vn"))))
        all_classes = list(s.scalars(select(TrainingClass.id).where(TrainingClass.course_id == COURSE)))
    watch.visit(trainer, "/trainer/classes")
    shot(trainer, "class titles")
    for class_id in all_classes:
        watch.visit(trainer, f"/trainer/classes/{class_id}")
    watch.visit(trainer, f"/trainer/classes/{class_ids[0]}")
    shot(trainer, "attendee names")

    # The learner reads every lesson, takes the quiz and reads its feedback; names on verify pages.
    watch.visit(page, "/")
    watch.visit(page, "/courses")
    watch.visit(page, f"/courses/{COURSE}")
    for n in range(len(PAYLOADS)):
        watch.visit(page, f"/lessons/{_lesson_id(n)}")
    shot(page, "lesson")
    watch.visit(page, f"/quizzes/{quiz_id}")
    with page.expect_navigation():
        page.get_by_role("button", name="Bắt đầu làm bài").click()
    watch.check(page)
    shot(page, "attempt")
    with page.expect_navigation():
        page.get_by_role("button", name="Nộp bài").click()
    assert page.url.endswith("/result"), page.url
    watch.check(page)
    shot(page, "result feedback")
    for code in codes:
        watch.visit(page, f"/verify/{code}")
    log_in(page, "xss0@example.vn", PASSWORD)
    watch.visit(page, "/me")
    watch.visit(page, "/me/certificates")
    shot(page, "holder name")

    # The lesson editor's preview renders a draft as learners would see it.
    editor = PROJECT_ROOT / "lms" / "web" / "lesson_pages.py"
    if editor.exists():
        watch.visit(trainer, f"/trainer/lessons/{_lesson_id(0)}/edit")
        trainer.locator("textarea[name=body]").fill("\n\n".join(PAYLOADS))
        with trainer.expect_navigation():
            trainer.get_by_role("button", name="Xem trước").click()
        watch.check(trainer)
        shot(trainer, "editor preview")

    assert watch.visited > 2 * len(PAYLOADS)
    assert not watch.executed, "payloads ran in the browser:\n" + "\n".join(watch.executed)
