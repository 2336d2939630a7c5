from __future__ import annotations

import io
from pathlib import Path

from flask.testing import FlaskClient
from sqlalchemy.orm import Session

from lms.store import Question, Quiz
from tests import factories
from tests.conftest import csrf_token
from tests.shared_dir import SHARED

SAMPLE = SHARED / "accept" / "sample_quiz.gift"
FIXTURES = SHARED / "fixtures" / "moodle-question-formats"


def _login(client: FlaskClient, session: Session, role: str) -> int:
    user = factories.user(session, role=role)
    session.commit()
    client.post("/login", data={"csrf_token": csrf_token(client, "/login"), "login": user.login,
                                "password": factories.PASSWORD})
    return user.id


def _upload(client: FlaskClient, path: Path, course: str = "tri-tue-nhan-tao"):
    return client.post("/trainer/import", data={
        "csrf_token": csrf_token(client, "/trainer/import"), "course": course, "format": "",
        "file": (io.BytesIO(path.read_bytes()), path.name)}, content_type="multipart/form-data")


def test_learners_cannot_author(client: FlaskClient, session: Session) -> None:
    _login(client, session, "citizen")
    assert client.get("/trainer").status_code == 403
    assert client.get("/trainer/import").status_code == 403


def test_trainer_imports_previews_and_edits_a_bank(client: FlaskClient, session: Session) -> None:
    trainer_id = _login(client, session, "trainer")
    r = _upload(client, SAMPLE)
    assert r.status_code == 302 and "/preview" in r.headers["Location"]
    quiz = session.get(Quiz, "tri-tue-nhan-tao-sample-quiz")
    assert quiz is not None and quiz.owner_id == trainer_id
    preview = client.get(r.headers["Location"]).get_data(as_text=True)
    assert "căn cước và mật khẩu" in preview and "fraction" not in preview
    edit = client.get(f"/trainer/quizzes/{quiz.id}/edit")
    assert edit.status_code == 200 and "::" in edit.get_data(as_text=True)
    bad = client.post(f"/trainer/quizzes/{quiz.id}/edit", data={
        "csrf_token": csrf_token(client, f"/trainer/quizzes/{quiz.id}/edit"), "gift": "::A:: Câu hỏi {=đúng ~sai"})
    assert bad.status_code == 422 and "Dòng 1" in bad.get_data(as_text=True)
    before = session.query(Question).filter_by(quiz_id=quiz.id, active=True).count()
    assert before == 6  # nothing changed by the bad text
    good = client.post(f"/trainer/quizzes/{quiz.id}/edit", data={
        "csrf_token": csrf_token(client, f"/trainer/quizzes/{quiz.id}/edit"),
        "gift": "::A:: Mật khẩu mạnh có nên dùng chung cho nhiều tài khoản? {F}\n\n::B:: 2 + 2 = ? {#4}\n"})
    assert good.status_code == 302
    session.expire_all()
    assert session.query(Question).filter_by(quiz_id=quiz.id, active=True).count() == 2
    assert "Mật khẩu mạnh" in client.get(f"/trainer/quizzes/{quiz.id}/preview").get_data(as_text=True)


def test_broken_upload_shows_lines_and_stores_nothing(client: FlaskClient, session: Session) -> None:
    _login(client, session, "trainer")
    r = _upload(client, FIXTURES / "aiken" / "aiken_errors.txt")
    html = r.get_data(as_text=True)
    assert r.status_code == 422 and "aiken_errors.txt:" in html
    assert session.get(Quiz, "tri-tue-nhan-tao-aiken-errors") is None


def test_toml_banks_are_read_only_in_the_browser(client: FlaskClient, session: Session) -> None:
    _login(client, session, "admin")
    assert client.get("/trainer/quizzes/an-toan-so-cuoi-khoa/edit").status_code == 403
    assert client.get("/trainer/quizzes/an-toan-so-cuoi-khoa/statistics").status_code == 200
    page = client.get("/trainer").get_data(as_text=True)
    assert "/trainer/quizzes/an-toan-so-cuoi-khoa/preview" in page


def test_trainer_sees_the_lessons_due_for_review(app, client: FlaskClient, session: Session,  # type: ignore[no-untyped-def]
                                                 tmp_path: Path) -> None:
    import dataclasses
    import re
    import shutil

    from lms.config import PROJECT_ROOT

    root = tmp_path / "course_content"
    shutil.copytree(PROJECT_ROOT / "course_content", root)
    for lesson in root.glob("*/*.md"):  # nothing due for centuries, but one lesson long overdue
        text = re.sub(r"^review_by: .*$", "review_by: 2999-01-01", lesson.read_text(encoding="utf-8"), flags=re.M)
        lesson.write_text(text, encoding="utf-8")
    state = app.extensions["lms"]
    state.settings = dataclasses.replace(state.settings, content_path=root)
    _login(client, session, "trainer")
    page = client.get("/trainer").get_data(as_text=True)
    assert "Không có bài học nào cần rà soát trong 30 ngày tới." in page
    overdue = root / "dich-vu-cong" / "05-thanh-toan.md"
    overdue.write_text(overdue.read_text(encoding="utf-8").replace("review_by: 2999-01-01", "review_by: 2025-01-31"),
                       encoding="utf-8")
    page = client.get("/trainer").get_data(as_text=True)
    assert "Bài học cần rà soát lại" in page and "quá hạn rà soát từ 31/01/2025" in page
    assert 'href="/lessons/dich-vu-cong-05"' in page and page.count("quá hạn rà soát") == 1
