"""Accessibility and markup of every main page, as Chromium renders it at a phone's size:
axe-core (WCAG 2.0/2.1 A and AA rules) must find no violation, and the Nu HTML Checker no
error in the HTML the server sent. Both tools are npm packages that `make test-e2e` installs
into .cache/node. The transfer weight of each page (everything but images) is written to
test-artifacts/page-weights.json."""

from __future__ import annotations

import gzip
import json
import re
import subprocess
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path

import pytest
from playwright.sync_api import Browser, Page, Response

from lms.config import PROJECT_ROOT
from lms.services import classes, quizzes
from lms.store import User
from tests import factories
from tests.e2e.conftest import ServerErrors, log_in, new_context
from tests.e2e.site import LiveSite

pytestmark = pytest.mark.e2e

NODE = PROJECT_ROOT / ".cache" / "node" / "node_modules"
AXE = NODE / "axe-core" / "axe.min.js"
VNU = NODE / "vnu-jar" / "build" / "dist" / "vnu.jar"
AXE_TAGS = ["wcag2a", "wcag2aa", "wcag21a", "wcag21aa"]
WEIGHTS = PROJECT_ROOT / "test-artifacts" / "page-weights.json"
LEARNER = "a11y-hoc-vien@example.vn"
PASSWORD = "Hoc-so-moi-ngay-2026"

GIFT = """::so-sanh::Ghép mỗi việc với nơi làm {
=Cấp căn cước -> Công an xã, phường
=Nộp hồ sơ khai sinh trực tuyến -> Cổng Dịch vụ công quốc gia
}

::ma-otp::Mã OTP có mấy chữ số? {#6}

::chia-se::Có nên gửi mã OTP cho người gọi tự xưng cán bộ? {F#Không bao giờ gửi.#Đúng vậy.}
"""


@dataclass
class Audit:
    status: int
    violations: list[dict[str, object]]
    html: Path
    weight: dict[str, int] = field(default_factory=dict)


def _start_final(page: Page) -> None:
    page.goto("/quizzes/dich-vu-cong-cuoi-khoa")
    with page.expect_navigation():
        page.get_by_role("button", name="Bắt đầu làm bài").click()


def _result(page: Page) -> None:
    page.goto("/quizzes/dich-vu-cong-bai-01")
    with page.expect_navigation():
        page.get_by_role("button", name="Bắt đầu làm bài").click()
    with page.expect_navigation(url=re.compile("/result$")):
        page.get_by_role("button", name="Nộp bài").click()


def _register_errors(page: Page) -> None:
    page.goto("/register?province=86")
    with page.expect_navigation():
        page.get_by_role("button", name="Tạo tài khoản").click()


def _login_error(page: Page) -> None:
    page.goto("/login")
    page.fill("input[name=login]", "khong-co@example.vn")
    page.fill("input[name=password]", "sai-mat-khau-2026")
    with page.expect_navigation():
        page.get_by_role("main").get_by_role("button", name="Đăng nhập").click()


# name, who looks at it, and a path ({placeholders} filled from the fixture data) or an action
PAGES: list[tuple[str, str, str | Callable[[Page], None]]] = [
    ("home", "anonymous", "/"),
    ("catalogue", "anonymous", "/courses"),
    ("course", "anonymous", "/courses/dich-vu-cong"),
    ("lesson", "anonymous", "/lessons/dich-vu-cong-01"),
    ("quiz-start", "anonymous", "/quizzes/dich-vu-cong-cuoi-khoa"),
    ("verify", "anonymous", "/verify/{code}"),
    ("verify-unknown", "anonymous", "/verify/KHONGCOMA"),
    ("verify-form", "anonymous", "/verify"),
    ("locked-lesson", "anonymous", "/lessons/dich-vu-cong-03"),
    ("lesson-page-2", "anonymous", "/lessons/dich-vu-cong-01?trang=2"),
    ("login", "anonymous", "/login"),
    ("login-error", "anonymous", _login_error),
    ("register-province", "anonymous", "/register"),
    ("register", "anonymous", "/register?province=86"),
    ("register-errors", "anonymous", _register_errors),
    ("not-found", "anonymous", "/khong-co-trang-nay"),
    ("learner-course", "learner", "/courses/dich-vu-cong"),
    ("learner-lesson", "learner", "/lessons/dich-vu-cong-01"),
    ("attempt", "learner", _start_final),
    ("result", "learner", _result),
    ("my-certificates", "learner", "/me/certificates"),
    ("learner-me", "learner", "/me"),
    ("official-me", "official", "/me"),
    ("manager", "manager", "/manager"),
    ("manager-mandates", "manager", "/manager/mandates"),
    ("manager-teams", "manager", "/manager/teams"),
    ("jobs", "manager", "/jobs"),
    ("official-home", "official", "/"),
    ("trainer", "trainer", "/trainer"),
    ("trainer-quiz-edit", "trainer", "/trainer/quizzes/{quiz}/edit"),
    ("trainer-quiz-preview", "trainer", "/trainer/quizzes/{quiz}/preview"),
    ("trainer-quiz-statistics", "trainer", "/trainer/quizzes/{quiz}/statistics"),
    ("trainer-import", "trainer", "/trainer/import"),
    ("trainer-classes", "trainer", "/trainer/classes"),
    ("trainer-class", "trainer", "/trainer/classes/{klass}"),
    ("trainer-lesson-edit", "trainer", "/trainer/lessons/dich-vu-cong-01/edit"),
]
LOGINS = {"learner": (LEARNER, PASSWORD), "official": ("canbo@demo.vn", None), "manager": ("quanly@demo.vn", None),
          "trainer": ("giangvien@demo.vn", None)}


def _prepare(site: LiveSite, folder: Path) -> dict[str, str]:
    """A learner with a certificate, a question bank the trainer owns, and a class with attendance."""
    status, body = site.post_json("/api/v1/registrations", {
        "full_name": "Lý Thị Mai", "login": LEARNER, "password": PASSWORD, "birth_year": 1970, "unit_code": "28756"})
    assert status == 201, body
    code = site.lms("certificates", "issue", "--login", LEARNER, "--course", "an-toan-so")["code"]
    gift = folder / "on-tap.gift"
    gift.write_text(GIFT, encoding="utf-8")
    now = datetime.now(UTC)
    with site.session() as s:
        trainer = s.query(User).filter_by(login="giangvien@demo.vn").one()
        quiz_id, _, _ = quizzes.import_file(s, gift, course_id="dich-vu-cong", fmt="gift", now=now,
                                            owner_id=trainer.id)
        klass = classes.create_class(s, trainer, title="Lớp VNeID tại nhà văn hóa khóm 3", held_on=now,
                                     place="Nhà văn hóa khóm 3", unit_code="28756", course_id="dich-vu-cong")
        classes.record_attendance(s, trainer, klass.id, LEARNER, passed=None, now=now, **factories.PDFS_LATER)
        return {"code": code, "quiz": quiz_id, "klass": str(klass.id)}


def _sizes(body: bytes) -> dict[str, int]:
    return {"bytes": len(body), "gzip_bytes": len(gzip.compress(body, compresslevel=6))}


def _weigh(responses: list[Response], assets: dict[str, dict[str, int]]) -> dict[str, int]:
    """The page's HTML as sent and gzip-compressed (as a front proxy would send it); the static
    files it loads (images aside) are weighed once in ``assets``, as the browser caches them."""
    weight: dict[str, int] = {}
    for r in responses:
        if r.request.resource_type == "image" or 300 <= r.status < 400:
            continue
        if r.request.resource_type == "document":
            weight.update(_sizes(r.body()), status=r.status)
        else:
            assets.setdefault(r.url.split("?")[0].split("/", 3)[-1], _sizes(r.body()))
    return weight


def _axe(page: Page) -> list[dict[str, object]]:
    page.add_script_tag(path=str(AXE))
    violations: list[dict[str, object]] = page.evaluate(
        """async (tags) => (await axe.run(document, {runOnly: {type: 'tag', values: tags},
                                                      resultTypes: ['violations']})).violations.map(v => ({
             id: v.id, impact: v.impact, help: v.help,
             nodes: v.nodes.map(n => ({target: n.target.join(' '), html: n.html, summary: n.failureSummary}))}))""",
        AXE_TAGS)
    return violations


@pytest.fixture(scope="module")
def audits(browser: Browser, site: LiveSite, tmp_path_factory: pytest.TempPathFactory,
           mandated_course: object) -> Iterator[dict[str, Audit]]:
    if not AXE.exists() or not VNU.exists():
        pytest.fail("axe-core and vnu-jar are missing from .cache/node: run `make test-e2e`, which installs them")
    folder = tmp_path_factory.mktemp("audit")
    data = _prepare(site, folder)
    errors = ServerErrors()
    pages: dict[str, Page] = {}
    contexts = []
    results: dict[str, Audit] = {}
    assets: dict[str, dict[str, int]] = {}
    for name, role, how in PAGES:
        if role not in pages:
            context = new_context(browser, site)
            contexts.append(context)
            pages[role] = errors.watch(context.new_page())
            if role in LOGINS:
                login, password = LOGINS[role]
                log_in(pages[role], login, *(p for p in [password] if p))
        page = pages[role]
        seen: list[Response] = []

        def listener(response: Response, seen: list[Response] = seen) -> None:
            seen.append(response)

        page.on("response", listener)
        if callable(how):
            how(page)
        else:
            page.goto(how.format(**data))
        page.remove_listener("response", listener)
        # The page as finally shown: its document and what it loaded (an action may pass other pages first).
        last = max(i for i, r in enumerate(seen)
                   if r.request.resource_type == "document" and r.frame == page.main_frame)
        document, seen = seen[last], seen[last:]
        html = folder / f"{name}.html"
        html.write_bytes(document.body())
        results[name] = Audit(status=document.status, violations=_axe(page), html=html,
                              weight=_weigh(seen, assets))
    for context in contexts:
        context.close()
    WEIGHTS.parent.mkdir(parents=True, exist_ok=True)
    WEIGHTS.write_text(json.dumps({"pages": {n: a.weight for n, a in results.items()},
                                   "assets": assets}, indent=1), encoding="utf-8")
    assert not errors.seen, "the server answered with an error:\n" + "\n".join(errors.seen)
    yield results


def _explain(violations: list[dict[str, object]]) -> str:
    lines = []
    for v in violations:
        lines.append(f"- {v['id']} ({v['impact']}): {v['help']}")
        for node in v["nodes"]:  # type: ignore[attr-defined]
            lines.append(f"    at {node['target']}: {node['html'][:160]}")
            lines.append("      " + re.sub(r"\s+", " ", node["summary"] or "")[:300])
    return "\n".join(lines)


@pytest.mark.parametrize("name", [name for name, _, _ in PAGES])
def test_axe_finds_no_violations(audits: dict[str, Audit], name: str) -> None:
    audit = audits[name]
    assert audit.status < 500
    assert not audit.violations, f"axe-core on {name}:\n{_explain(audit.violations)}"


def test_nu_html_checker_finds_no_errors(audits: dict[str, Audit]) -> None:
    files = [str(a.html) for a in audits.values()]
    done = subprocess.run(["java", "-jar", str(VNU), "--errors-only", "--format", "json", *files],
                          capture_output=True, text=True)
    messages = json.loads(done.stderr or '{"messages": []}')["messages"]
    errors = [m for m in messages if m.get("type") in ("error", "non-document-error")]
    report = "\n".join(f"- {Path(m.get('url', '')).name}:{m.get('lastLine', '?')}: {m.get('message')}\n"
                       f"    {(m.get('extract') or '').strip()[:160]}" for m in errors)
    assert not errors, f"Nu HTML Checker:\n{report}"
