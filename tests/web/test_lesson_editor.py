"""The lesson editor in the browser: a trainer edits a lesson, previews it, publishes it, and a
learner sees the new version at once."""

from __future__ import annotations

import re

import pytest
from flask.testing import FlaskClient
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from lms.store import AuditEvent, Lesson, LessonVersion
from tests import factories
from tests.conftest import csrf_token

LESSON = "an-toan-so-01"
EDIT = f"/trainer/lessons/{LESSON}/edit"


def _login(client: FlaskClient, session: Session, role: str, *, co_owner: bool = True) -> int:
    user = factories.user(session, role=role, unit_code="86" if role == "manager" else factories.VINH_LONG_COMMUNE)
    if role == "trainer" and co_owner:
        factories.co_owner(session, user, "course", "an-toan-so")
    session.commit()
    client.post("/login", data={"csrf_token": csrf_token(client, "/login"), "login": user.login,
                                "password": factories.PASSWORD})
    return user.id


def _logout(client: FlaskClient) -> None:
    client.post("/logout", data={"csrf_token": csrf_token(client, "/")})


def _stored(session: Session) -> tuple[str, int, int]:
    session.expire_all()
    lesson = session.get(Lesson, LESSON)
    assert lesson is not None
    count = session.scalar(select(func.count()).select_from(LessonVersion).where(LessonVersion.lesson_id == LESSON))
    return lesson.html, lesson.version, count or 0


def _post(client: FlaskClient, button: str, body: str, title: str = "Cuộc gọi giả danh", **extra: str):
    data = {"csrf_token": csrf_token(client, EDIT), "title": title, "body": body, button: "1", **extra}
    return client.post(EDIT, data=data)


def test_trainer_opens_the_editor_with_the_markdown_source(client: FlaskClient, session: Session) -> None:
    _login(client, session, "trainer")
    lesson = session.get(Lesson, LESSON)
    assert lesson is not None
    r = client.get(EDIT)
    html = r.get_data(as_text=True)
    assert r.status_code == 200
    assert '<textarea' in html and 'name="body"' in html and 'name="title"' in html
    assert "## Vì sao bài này quan trọng?" in html and "competences:" not in html
    assert 'for="body"' in html and 'for="title"' in html
    assert ">Xem trước</button>" in html and ">Xuất bản</button>" in html
    assert f'name="base_version" type="hidden" value="{lesson.version}"' in html
    trainer_home = client.get("/trainer").get_data(as_text=True)
    assert EDIT in trainer_home
    assert EDIT in client.get(f"/lessons/{LESSON}").get_data(as_text=True)


def test_preview_shows_sanitised_html_and_stores_nothing(client: FlaskClient, session: Session) -> None:
    _login(client, session, "trainer")
    before = _stored(session)
    r = _post(client, "preview", "## Bản thử\n\nChữ **đậm**.<script>alert('xss')</script>\n\n"
                                 "<img src=x onerror=alert(1)>")
    html = r.get_data(as_text=True)
    assert r.status_code == 200
    preview = html.split('id="preview-heading"', 1)[1]
    assert "<h2>Bản thử</h2>" in preview and "<strong>đậm</strong>" in preview
    assert "<script>alert" not in html and "onerror" not in preview
    assert "&lt;script&gt;alert(&#39;xss&#39;)&lt;/script&gt;" in html  # the source stays in the text box, escaped
    assert _stored(session) == before


def test_preview_shows_problems_with_line_numbers_next_to_the_text(client: FlaskClient, session: Session) -> None:
    _login(client, session, "trainer")
    before = _stored(session)
    r = _post(client, "preview", "Dòng một\r\n\r\n![](assets/khong-co.svg)")
    html = r.get_data(as_text=True)
    assert r.status_code == 200
    assert 'id="body-error"' in html and 'aria-describedby="body-help body-error"' in html
    assert "Dòng 3: Ảnh assets/khong-co.svg chưa có mô tả" in html
    r = _post(client, "publish", "Dòng một\n\n![](assets/khong-co.svg)")
    assert r.status_code == 422 and "Dòng 3:" in r.get_data(as_text=True)
    assert _stored(session) == before
    r = _post(client, "publish", "", title="")
    page = r.get_data(as_text=True)
    assert r.status_code == 422 and "Vui lòng nhập tiêu đề bài học." in page
    assert "Vui lòng nhập nội dung bài học." in page
    assert _stored(session) == before


def test_publish_makes_a_new_version_the_learner_sees_at_once(client: FlaskClient, session: Session) -> None:
    trainer_id = _login(client, session, "trainer")
    _, version, count = _stored(session)
    r = _post(client, "publish", "## Cập nhật tháng 12\n\nSố điện thoại đường dây nóng mới: 156."
                                 "<script>alert('xss')</script>",
              title="Cuộc gọi giả danh (cập nhật)", base_version=str(version))
    assert r.status_code == 302 and r.headers["Location"].endswith(f"/lessons/{LESSON}")
    html, new_version, new_count = _stored(session)
    assert (new_version, new_count) == (version + 1, count + 1)
    assert "<script" not in html and "alert" not in html
    [event] = session.scalars(select(AuditEvent).where(AuditEvent.action == "lesson.publish",
                                                       AuditEvent.object_id == LESSON))
    assert event.actor_id == trainer_id and event.detail["version"] == new_version
    _logout(client)

    _login(client, session, "citizen")
    page = client.get(f"/lessons/{LESSON}").get_data(as_text=True)
    assert "Cuộc gọi giả danh (cập nhật)" in page and "đường dây nóng mới: 156" in page
    assert re.search(rf"Phiên bản {new_version}, cập nhật ngày \d\d/\d\d/\d{{4}}", page)
    assert "<script>alert" not in page and EDIT not in page
    assert "đường dây nóng mới: 156" in client.get(f"/api/v1/lessons/{LESSON}").get_json()["html"]
    course = client.get("/courses/an-toan-so").get_data(as_text=True)
    assert "Cuộc gọi giả danh (cập nhật)" in course and f"phiên bản {new_version}" in course


def test_a_stale_editor_is_told_before_overwriting(client: FlaskClient, session: Session) -> None:
    _login(client, session, "admin")
    _, version, _ = _stored(session)
    r = _post(client, "publish", "Bản của người thứ hai.", base_version=str(version - 1))
    html = r.get_data(as_text=True)
    assert r.status_code == 409 and f"phiên bản {version}" in html
    assert f'name="base_version" type="hidden" value="{version}"' in html
    assert _stored(session)[1] == version


@pytest.mark.parametrize("role", ["citizen", "official", "manager"])
def test_others_get_403(client: FlaskClient, session: Session, role: str) -> None:
    _login(client, session, role)
    before = _stored(session)
    assert client.get(EDIT).status_code == 403
    token = csrf_token(client, "/")
    r = client.post(EDIT, data={"csrf_token": token, "title": "X", "body": "Y", "publish": "1"})
    assert r.status_code == 403
    assert EDIT not in client.get(f"/lessons/{LESSON}").get_data(as_text=True)
    assert _stored(session) == before


def test_anonymous_is_sent_to_login_and_unknown_lessons_are_404(client: FlaskClient, session: Session) -> None:
    r = client.get(EDIT)
    assert r.status_code == 302 and "/login" in r.headers["Location"]
    _login(client, session, "admin")
    assert client.get("/trainer/lessons/khong-co-bai-nay/edit").status_code == 404
    assert client.get(EDIT).status_code == 200


def test_a_trainer_edits_only_the_courses_they_co_own(client: FlaskClient, session: Session) -> None:
    _login(client, session, "trainer", co_owner=False)
    assert client.get(EDIT).status_code == 403
    assert client.get(f"/lessons/{LESSON}").status_code == 200
    assert f'href="{EDIT}"' not in client.get(f"/lessons/{LESSON}").get_data(as_text=True)
