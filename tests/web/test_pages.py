from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from flask.testing import FlaskClient
from sqlalchemy import select
from sqlalchemy.orm import Session

from lms.services import sessions
from lms.services.roster import UNUSABLE_PASSWORD
from lms.services.sso import NO_PASSWORD
from lms.store import User
from tests import factories
from tests.conftest import csrf_token


def test_main_pages_render_in_vietnamese(client: FlaskClient) -> None:
    for path in ("/", "/courses", "/login", "/register", "/register?province=86"):
        r = client.get(path)
        assert r.status_code == 200, path
        html = r.get_data(as_text=True)
        assert '<html lang="vi">' in html and "Bình dân học vụ số" in html


def test_register_form_has_communes_of_the_chosen_province_only(client: FlaskClient) -> None:
    html = client.get("/register?province=86").get_data(as_text=True)
    assert "Phường Phú Khương" in html
    assert "Phường Ba Đình" not in html  # Hà Nội


def test_state_changing_form_without_csrf_is_refused(client: FlaskClient) -> None:
    r = client.post("/register?province=86", data={"full_name": "A", "login": "0912000111",
                                                   "password": "Mat-khau-2026!", "birth_year": "1960",
                                                   "unit_code": "28756", "consent": "y"})
    assert r.status_code == 400


def test_register_with_errors_shows_them_next_to_fields(client: FlaskClient, session: Session) -> None:
    token = csrf_token(client, "/register?province=86")
    r = client.post("/register?province=86", data={"csrf_token": token, "full_name": "", "login": "abc",
                                                   "password": "123", "birth_year": "", "unit_code": "28756"})
    html = r.get_data(as_text=True)
    assert r.status_code == 422
    assert "Vui lòng nhập họ và tên." in html
    assert "Bạn cần đồng ý" in html
    assert 'aria-invalid="true"' in html


def test_register_log_out_and_log_in(client: FlaskClient, session: Session) -> None:
    token = csrf_token(client, "/register?province=86")
    r = client.post("/register?province=86", data={
        "csrf_token": token, "full_name": "Lê Văn Tám", "login": "0912 000 111", "password": "Mat-khau-2026!",
        "birth_year": "1958", "unit_code": "28756", "consent": "y"})
    assert r.status_code == 302
    user = session.scalar(select(User).where(User.login == "0912000111"))
    assert user is not None and user.full_name == "Lê Văn Tám" and user.consent_at is not None
    assert "Lê Văn Tám" in client.get("/me").get_data(as_text=True)
    client.post("/logout", data={"csrf_token": csrf_token(client, "/")})
    assert client.get("/me").status_code == 302
    bad = client.post("/login", data={"csrf_token": csrf_token(client, "/login"), "login": "0912000111",
                                      "password": "nope-nope"})
    assert bad.status_code == 401 and "Sai tên đăng nhập hoặc mật khẩu." in bad.get_data(as_text=True)
    good = client.post("/login", data={"csrf_token": csrf_token(client, "/login"), "login": "0912000111",
                                       "password": "Mat-khau-2026!"})
    assert good.status_code == 302


def test_lesson_completion_from_the_page(client: FlaskClient, session: Session) -> None:
    user = factories.user(session)
    session.commit()
    client.post("/login", data={"csrf_token": csrf_token(client, "/login"), "login": user.login,
                                "password": factories.PASSWORD})
    course = client.get("/api/v1/courses").json[0]
    lesson = client.get(f"/api/v1/courses/{course['id']}").json["lessons"][0]
    page = f"/lessons/{lesson['id']}"
    r = client.post(f"{page}/completion", data={"csrf_token": csrf_token(client, page)})
    assert r.status_code == 302
    second = client.get(f"/api/v1/courses/{course['id']}").json["lessons"][1]
    assert r.location.endswith(f"/lessons/{second['id']}"), "finishing a lesson leads on to the next one"
    assert "Bạn đã hoàn thành bài này." in client.get(page).get_data(as_text=True)


def test_a_lesson_is_shown_one_section_at_a_time(client: FlaskClient) -> None:
    course = client.get("/api/v1/courses").json[0]
    lesson = client.get(f"/api/v1/courses/{course['id']}").json["lessons"][0]
    whole = client.get(f"/api/v1/lessons/{lesson['id']}").json["html"]
    sections = whole.count("<h2")
    assert sections >= 2, "the first lesson of the first course has sections to page through"
    first = client.get(f"/lessons/{lesson['id']}").get_data(as_text=True)
    assert f"Trang 1/{sections}" in first and first.count("<h2") <= 2  # its section and the certificate box
    last = client.get(f"/lessons/{lesson['id']}?trang={sections}").get_data(as_text=True)
    assert f"Trang {sections}/{sections}" in last and 'rel="prev"' in last and 'rel="next"' not in last
    beyond = client.get(f"/lessons/{lesson['id']}?trang=99").get_data(as_text=True)
    assert f"Trang {sections}/{sections}" in beyond


def test_english_interface_switch(client: FlaskClient) -> None:
    html = client.get("/?lang=en").get_data(as_text=True)
    assert '<html lang="en">' in html


def test_session_cookie_flags(client: FlaskClient, session: Session, settings) -> None:  # type: ignore[no-untyped-def]
    from dataclasses import replace

    from lms import create_app

    user = factories.user(session)
    session.commit()
    r = client.post("/login", data={"csrf_token": csrf_token(client, "/login"), "login": user.login,
                                    "password": factories.PASSWORD})
    cookie = r.headers.get("Set-Cookie", "")
    assert r.status_code == 302 and "session=" in cookie
    assert "HttpOnly" in cookie and "SameSite=Lax" in cookie and "Secure" not in cookie  # plain http in dev
    behind_tls = create_app(replace(settings, secure_cookies=True))
    assert behind_tls.config["SESSION_COOKIE_SECURE"] is True
    assert behind_tls.config["SESSION_COOKIE_HTTPONLY"] is True
    assert behind_tls.config["SESSION_COOKIE_SAMESITE"] == "Lax"


def test_nul_characters_in_pages_are_refused_not_crashed_on(client: FlaskClient) -> None:
    token = csrf_token(client, "/login")
    assert client.post("/login", data={"csrf_token": token, "login": "a\x00b@example.vn",
                                       "password": "x"}).status_code == 400
    assert client.get("/courses?q=\x00").status_code == 400
    assert client.get("/lessons/ab%00cd").status_code == 404


def test_a_learner_downloads_their_data_and_closes_the_account_in_the_browser(client: FlaskClient,
                                                                              session: Session) -> None:
    import json

    user = factories.user(session)
    session.commit()
    client.post("/login", data={"csrf_token": csrf_token(client, "/login"), "login": user.login,
                                "password": factories.PASSWORD})
    assert "/me/data" in client.get("/me").get_data(as_text=True)
    data = json.loads(client.get("/me/data.json").get_data(as_text=True))
    assert data["account"]["login"] == user.login and data["account"]["full_name"] == user.full_name
    page = client.get("/me/data").get_data(as_text=True)
    assert 'name="password"' in page
    # what is kept, in the reader's words, not the export's field names
    assert "Số bài học đã hoàn thành: 0" in page and "Số chứng nhận đã nhận: 0" in page
    assert "lesson_completions" not in page
    token = csrf_token(client, "/me/data")
    unsure = client.post("/me/data", data={"csrf_token": token, "password": factories.PASSWORD})
    assert unsure.status_code == 422
    # however recent the sign-in, an account with a password gives it
    bare = client.post("/me/data", data={"csrf_token": token, "confirm": "y"})
    assert bare.status_code == 422
    wrong = client.post("/me/data", data={"csrf_token": token, "password": "sai-mat-khau", "confirm": "y"})
    assert wrong.status_code == 422
    session.expire_all()
    assert session.get(User, user.id).is_active
    done = client.post("/me/data", data={"csrf_token": token, "password": factories.PASSWORD, "confirm": "y"})
    assert done.status_code == 302
    session.expire_all()
    closed = session.get(User, user.id)
    assert closed is not None and not closed.is_active and closed.birth_year is None
    assert client.get("/me").status_code == 302  # logged out


@pytest.mark.parametrize("password_hash", [NO_PASSWORD, UNUSABLE_PASSWORD])
def test_an_account_without_a_password_closes_after_a_recent_sign_in(client: FlaskClient, session: Session,
                                                                     password_hash: str) -> None:
    # signed in through the national identity only: no password to prompt for, so the sign-in
    # itself must be recent (sessions.FRESH_SIGN_IN)
    user = factories.user(session)
    user.password_hash = password_hash
    started = datetime.now(UTC) - sessions.FRESH_SIGN_IN - timedelta(minutes=1)
    stale = sessions.start_session(session, user, now=started)
    session.commit()
    with client.session_transaction() as cookie:
        cookie["_user_id"] = stale
    page = client.get("/me/data").get_data(as_text=True)
    assert 'name="password"' not in page and "không có mật khẩu" in page
    token = csrf_token(client, "/me/data")
    old = client.post("/me/data", data={"csrf_token": token, "confirm": "y"})
    assert old.status_code == 422 and "đăng nhập lại" in old.get_data(as_text=True)
    session.expire_all()
    assert session.get(User, user.id).is_active  # type: ignore[union-attr]
    fresh = sessions.start_session(session, session.get(User, user.id), now=datetime.now(UTC))  # type: ignore[arg-type]
    session.commit()
    with client.session_transaction() as cookie:
        cookie["_user_id"] = fresh
    unsure = client.post("/me/data", data={"csrf_token": csrf_token(client, "/me/data")})
    assert unsure.status_code == 422
    done = client.post("/me/data", data={"csrf_token": csrf_token(client, "/me/data"), "confirm": "y"})
    assert done.status_code == 302
    session.expire_all()
    closed = session.get(User, user.id)
    assert closed is not None and not closed.is_active
