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


def _upload(client: FlaskClient, path: Path, course: str = "tri-tue-nhan-tao", *, name: str | None = None,
            data: bytes | None = None, title: str = ""):
    return client.post("/trainer/import", data={
        "csrf_token": csrf_token(client, "/trainer/import"), "course": course, "format": "", "title": title,
        "file": (io.BytesIO(data if data is not None else path.read_bytes()), name or path.name)},
        content_type="multipart/form-data")


def test_learners_cannot_author(client: FlaskClient, session: Session) -> None:
    _login(client, session, "citizen")
    assert client.get("/trainer").status_code == 403
    assert client.get("/trainer/import").status_code == 403


def _imported(location: str) -> str:
    return location.split("/trainer/quizzes/", 1)[1].split("/", 1)[0]


def test_trainer_imports_previews_and_edits_a_bank(client: FlaskClient, session: Session) -> None:
    trainer_id = _login(client, session, "trainer")
    r = _upload(client, SAMPLE)
    assert r.status_code == 302 and "/preview" in r.headers["Location"]
    quiz = session.get(Quiz, _imported(r.headers["Location"]))
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
    before = session.query(Quiz).count()
    r = _upload(client, FIXTURES / "aiken" / "aiken_errors.txt")
    html = r.get_data(as_text=True)
    assert r.status_code == 422 and "aiken_errors.txt:" in html
    session.expire_all()
    assert session.query(Quiz).count() == before


def test_toml_banks_are_read_only_in_the_browser(client: FlaskClient, session: Session) -> None:
    _login(client, session, "admin")
    assert client.get("/trainer/quizzes/an-toan-so-cuoi-khoa/edit").status_code == 403
    assert client.get("/trainer/quizzes/an-toan-so-cuoi-khoa/statistics").status_code == 200
    page = client.get("/trainer").get_data(as_text=True)
    assert "/trainer/quizzes/an-toan-so-cuoi-khoa/preview" in page


EVERY_TYPE = """<?xml version="1.0" encoding="UTF-8"?>
<quiz>
<question type="category"><category><text>$course$/Kiểm tra mọi loại câu hỏi</text></category></question>
<question type="multichoice"><name><text>S</text></name><questiontext><text>Chọn một: thủ đô?</text></questiontext>
<single>true</single><answer fraction="100"><text>Hà Nội</text></answer><answer fraction="0"><text>Huế</text></answer>
</question>
<question type="truefalse"><name><text>TF</text></name><questiontext><text>Trời xanh?</text></questiontext>
<answer fraction="100"><text>true</text></answer><answer fraction="0"><text>false</text></answer></question>
<question type="shortanswer"><name><text>SA</text></name><questiontext><text>Gõ tên ứng dụng định danh</text>
</questiontext><answer fraction="100"><text>VNeID</text></answer></question>
<question type="numerical"><name><text>NUM</text></name><questiontext><text>Bao nhiêu chữ số trong mã OTP?</text>
</questiontext><answer fraction="100"><text>6</text><tolerance>0</tolerance></answer></question>
<question type="matching"><name><text>MATCH</text></name><questiontext><text>Ghép việc</text></questiontext>
<subquestion><text>Nộp hồ sơ</text><answer><text>Cổng dịch vụ công</text></answer></subquestion>
<subquestion><text>Định danh</text><answer><text>Ứng dụng VNeID</text></answer></subquestion></question>
<question type="ordering"><name><text>ORD</text></name><questiontext><text>Xếp theo thứ tự</text></questiontext>
<answer fraction="1"><text>Mở ứng dụng</text></answer><answer fraction="2"><text>Đăng nhập</text></answer>
<answer fraction="3"><text>Nộp hồ sơ</text></answer></question>
</quiz>
"""


def test_a_browser_import_is_a_titled_draft_previewed_with_inputs_and_key_then_published(
        client: FlaskClient, session: Session) -> None:
    _login(client, session, "trainer")
    r = _upload(client, SAMPLE, name="moi-loai.xml", data=EVERY_TYPE.encode())
    assert r.status_code == 302
    quiz_id = _imported(r.headers["Location"])
    quiz = session.get(Quiz, quiz_id)
    assert quiz is not None and quiz.published is False and quiz.kind == "practice" and quiz.pass_mark == 70
    assert quiz.title == "Kiểm tra mọi loại câu hỏi" and quiz.source != "toml"
    page = client.get(r.headers["Location"]).get_data(as_text=True)
    assert "bản nháp" in page and "Xuất bản" in page
    assert page.count('type="radio"') >= 4  # the single choice and true/false, as a learner gets them
    assert 'id="q-3-input"' in page and 'id="q-4-input"' in page  # short answer and numeric
    assert page.count("<select") >= 2 + 3  # a select per matching row and per ordering item
    for key in ("Hà Nội", "VNeID", "6 ± 0", "Nộp hồ sơ → Cổng dịch vụ công", "Đăng nhập"):
        assert key in page.replace("&gt;", ">"), key
    # a learner sees nothing of a draft, on the course or at its address
    assert quiz_id not in client.get("/courses/tri-tue-nhan-tao").get_data(as_text=True)
    assert client.get(f"/api/v1/quizzes/{quiz_id}").status_code == 404
    publish = f"/trainer/quizzes/{quiz_id}/publish"
    bad = client.post(publish, data={"csrf_token": csrf_token(client, r.headers["Location"]), "title": " ",
                                     "pass_mark": "0", "action": "publish"})
    assert bad.status_code == 422 and session.get(Quiz, quiz_id).published is False  # type: ignore[union-attr]
    ok = client.post(publish, data={"csrf_token": csrf_token(client, r.headers["Location"]),
                                    "title": "Luyện tập: dịch vụ công", "pass_mark": "80", "action": "publish"})
    assert ok.status_code == 302
    session.expire_all()
    quiz = session.get(Quiz, quiz_id)
    assert quiz is not None and quiz.published and quiz.title == "Luyện tập: dịch vụ công" and quiz.pass_mark == 80
    assert client.get(f"/api/v1/quizzes/{quiz_id}").status_code == 200


def test_an_import_named_like_a_final_never_touches_it(client: FlaskClient, session: Session) -> None:
    """The forgery of issue 13: a one-question file named like the mandated final."""
    from lms.content.gift_export import export_gift
    from lms.services import quizzes

    final = "chuyen-doi-so-can-bo-cuoi-khoa"
    before = export_gift(quizzes.question_docs(session, final), title="x")
    _login(client, session, "trainer")
    r = _upload(client, SAMPLE, course="chuyen-doi-so-can-bo", name="cuoi-khoa.gift",
                data="::q1:: Bầu trời màu xanh? {TRUE}\n".encode())
    assert r.status_code == 302 and final not in r.headers["Location"]
    session.expire_all()
    quiz = session.get(Quiz, final)
    assert quiz is not None and quiz.pass_mark == 70 and quiz.source == "toml" and quiz.published
    assert export_gift(quizzes.question_docs(session, final), title="x") == before
    assert client.post(f"/trainer/quizzes/{final}/publish", data={
        "csrf_token": csrf_token(client, "/trainer/import"), "title": "x", "pass_mark": "1"}).status_code == 403


def test_another_trainer_neither_sees_nor_publishes_a_draft(client: FlaskClient, session: Session) -> None:
    _login(client, session, "trainer")
    location = _upload(client, SAMPLE).headers["Location"]
    quiz_id = _imported(location)
    client.post("/logout", data={"csrf_token": csrf_token(client, "/")})
    _login(client, session, "trainer")
    assert client.get(location).status_code == 404
    r = client.post(f"/trainer/quizzes/{quiz_id}/publish", data={
        "csrf_token": csrf_token(client, "/trainer/import"), "title": "Của tôi", "pass_mark": "50",
        "action": "publish"})
    assert r.status_code == 404
    session.expire_all()
    assert session.get(Quiz, quiz_id).published is False  # type: ignore[union-attr]


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
