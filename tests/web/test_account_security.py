"""Accounts (issue 13, item 4): password rules, throttling shared by every process, password
change, token sign-out, server-side sessions, first passwords, and the API's headers."""

from __future__ import annotations

from datetime import timedelta

import pytest
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import event, update
from sqlalchemy.orm import Session

from lms import create_app
from lms.domain.accounts import common_passwords, password_problem
from lms.services import first_password
from lms.services.errors import Forbidden
from lms.services.throttle import login_key
from lms.store import LoginFailure, User, WebSession
from lms.web.redirects import safe_next
from tests import factories
from tests.conftest import csrf_token
from tests.factories import PASSWORD


def _sign_in(client: FlaskClient, login: str, password: str = PASSWORD) -> int:
    return client.post("/login", data={"csrf_token": csrf_token(client, "/login"), "login": login,
                                       "password": password}).status_code


def _token(client: FlaskClient, login: str, password: str = PASSWORD) -> tuple[int, str | None]:
    r = client.post("/api/v1/tokens", json={"login": login, "password": password})
    return r.status_code, (r.json or {}).get("token") if r.status_code == 201 else None


# ------------------------------------------------------------------ password rules
def test_the_common_password_list_is_large_and_matched_without_case() -> None:
    assert len(common_passwords()) >= 10_000
    for pw in ("12345678", "password", "123456789", "iloveyou", "matkhau123", "Password1", "PASSWORD", "MatKhau123"):
        assert password_problem(pw, "someone@example.vn") == "password.common", pw
    assert password_problem("Mat-khau-2026!", "someone@example.vn") is None


def test_passwords_containing_the_login_or_out_of_bounds_are_refused() -> None:
    assert password_problem("0912345678", "0912345678") == "password.same_as_login"
    assert password_problem("x0912345678!", "0912345678") == "password.contains_login"
    assert password_problem("Nhung.tran-2026", "nhung.tran@example.vn") == "password.contains_login"
    assert password_problem("Ab1!xyz", "a@b.vn") == "password.too_short"
    assert password_problem("Ab1!" * 33, "a@b.vn") == "password.too_long"
    assert password_problem("Ab1!" * 32, "a@b.vn") is None


@pytest.mark.parametrize("password", ["12345678", "password", "Password1", "matkhau123"])
def test_registration_refuses_a_common_password_with_422(client: FlaskClient, password: str) -> None:
    body = {"full_name": "Trần Văn Bảy", "login": "bay.tran@example.vn", "password": password, "birth_year": 1960,
            "unit_code": factories.VINH_LONG_COMMUNE}
    r = client.post("/api/v1/registrations", json=body)
    assert r.status_code == 422 and "password" in r.json["error"]["fields"]


# ------------------------------------------------------------------ throttling
def test_ten_failures_then_429_across_processes_and_the_lock_ends_with_the_window(
        app: Flask, client: FlaskClient, session: Session) -> None:
    user = factories.user(session)
    session.commit()
    # a second application on the same database stands for another worker process
    other = create_app(app.extensions["lms"].settings)
    other.config["TESTING"] = True  # no background senders sharing the test's connection
    other.extensions["lms"].sessionmaker = app.extensions["lms"].sessionmaker
    clients = [client, other.test_client()]
    codes = [_token(clients[i % 2], user.login, f"sai-{i}")[0] for i in range(10)]
    assert codes == [401] * 10
    assert _token(clients[0], user.login)[0] == 429  # even the right password waits
    assert _token(clients[1], user.login.upper())[0] == 429  # the login as sign-in normalises it
    # refusals while locked are not counted: the lock cannot be stretched by hammering
    count = session.query(LoginFailure).filter_by(key=login_key(user.login)).count()
    assert count == 10
    session.execute(update(LoginFailure).where(LoginFailure.key == login_key(user.login))
                    .values(failed_at=factories.now() - timedelta(minutes=16)))
    session.commit()
    assert _token(clients[1], user.login)[0] == 201
    other.extensions["lms"].engine.dispose()


def test_the_page_sign_in_and_the_password_prompts_share_the_count(client: FlaskClient, session: Session) -> None:
    user = factories.user(session)
    session.commit()
    for i in range(4):
        assert _sign_in(client, user.login, f"sai-{i}") == 401
    status, token = _token(client, user.login)
    assert status == 201 and token
    for i in range(6):
        r = client.post("/api/v1/me/password", json={"current_password": f"sai-{i}", "new_password": "Khac-han-2026!"},
                        headers=factories.bearer(token))
        assert r.status_code == 401
    assert _sign_in(client, user.login) == 429
    r = client.post("/api/v1/me/password", json={"current_password": PASSWORD, "new_password": "Khac-han-2026!"},
                    headers=factories.bearer(token))
    assert r.status_code == 429
    assert session.query(LoginFailure).filter_by(key=login_key(user.login)).count() == 10


def test_closing_the_account_is_a_throttled_password_prompt(client: FlaskClient, session: Session) -> None:
    user = factories.user(session)
    session.commit()
    assert _sign_in(client, user.login) == 302
    for i in range(10):
        r = client.post("/me/data", data={"csrf_token": csrf_token(client, "/me/data"), "confirm": "y",
                                          "password": f"sai-{i}"})
        assert r.status_code == 422
    r = client.post("/me/data", data={"csrf_token": csrf_token(client, "/me/data"), "confirm": "y",
                                      "password": PASSWORD})
    assert r.status_code == 429
    session.expire_all()
    assert session.get(User, user.id).is_active  # type: ignore[union-attr]


# ------------------------------------------------------------------ password change and tokens
def test_changing_the_password_ends_every_other_token_and_session(app: Flask, client: FlaskClient,
                                                                  session: Session) -> None:
    user = factories.user(session)
    session.commit()
    browser = app.test_client()
    assert _sign_in(browser, user.login) == 302
    _, mine = _token(client, user.login)
    _, other = _token(client, user.login)
    assert mine and other
    weak = client.post("/api/v1/me/password", json={"current_password": PASSWORD, "new_password": "iloveyou"},
                       headers=factories.bearer(mine))
    assert weak.status_code == 422 and "new_password" in weak.json["error"]["fields"]
    wrong = client.post("/api/v1/me/password", headers=factories.bearer(mine),
                        json={"current_password": "sai-roi-2026", "new_password": "Doi-mat-khau-9x!"})
    assert wrong.status_code == 401
    ok = client.post("/api/v1/me/password", json={"current_password": PASSWORD, "new_password": "Doi-mat-khau-9x!"},
                     headers=factories.bearer(mine))
    assert ok.status_code == 204
    assert client.get("/api/v1/me", headers=factories.bearer(other)).status_code == 401
    assert client.get("/api/v1/me", headers=factories.bearer(mine)).status_code == 200
    assert browser.get("/me").status_code == 302  # the browser session ended too
    assert _token(client, user.login)[0] == 401
    assert _token(client, user.login, "Doi-mat-khau-9x!")[0] == 201


def test_the_browser_form_changes_the_password_and_keeps_this_session(app: Flask, session: Session) -> None:
    user = factories.user(session)
    session.commit()
    here, elsewhere = app.test_client(), app.test_client()
    assert _sign_in(here, user.login) == 302 and _sign_in(elsewhere, user.login) == 302
    bad = here.post("/me/password", data={"csrf_token": csrf_token(here, "/me/password"),
                                          "current_password": PASSWORD, "new_password": "password1"})
    assert bad.status_code == 422
    r = here.post("/me/password", data={"csrf_token": csrf_token(here, "/me/password"),
                                        "current_password": PASSWORD, "new_password": "Doi-mat-khau-9x!"})
    assert r.status_code == 302
    assert here.get("/me").status_code == 200
    assert elsewhere.get("/me").status_code == 302


def test_delete_current_token_stops_it_at_once(client: FlaskClient, session: Session) -> None:
    user = factories.user(session)
    session.commit()
    _, token = _token(client, user.login)
    assert token
    assert client.delete("/api/v1/tokens/current", headers=factories.bearer(token)).status_code == 204
    assert client.get("/api/v1/me", headers=factories.bearer(token)).status_code == 401
    assert client.delete("/api/v1/tokens/current", headers=factories.bearer(token)).status_code == 401


# ------------------------------------------------------------------ server-side sessions
def test_a_cookie_replayed_after_sign_out_is_refused(app: Flask, session: Session) -> None:
    user = factories.user(session)
    session.commit()
    browser = app.test_client()
    assert _sign_in(browser, user.login) == 302
    cookie = browser.get_cookie("session")
    assert cookie is not None and browser.get("/me").status_code == 200
    browser.post("/logout", data={"csrf_token": csrf_token(browser, "/me")})
    assert browser.get("/me").status_code == 302
    thief = app.test_client()
    thief.set_cookie("session", cookie.value)
    assert thief.get("/me").status_code == 302
    assert session.query(WebSession).filter_by(user_id=user.id).count() == 0


def test_a_session_expires_on_the_server(app: Flask, session: Session) -> None:
    user = factories.user(session)
    session.commit()
    browser = app.test_client()
    assert _sign_in(browser, user.login) == 302
    session.execute(update(WebSession).where(WebSession.user_id == user.id)
                    .values(expires_at=factories.now() - timedelta(seconds=1)))
    session.commit()
    assert browser.get("/me").status_code == 302


def test_anonymous_pages_cost_no_session_read_and_signed_in_ones_one(app: Flask, session: Session) -> None:
    user = factories.user(session)
    session.commit()
    statements: list[str] = []
    engine = session.get_bind()

    def _seen(conn, cursor, statement, *args):  # type: ignore[no-untyped-def]
        statements.append(statement)

    anonymous = app.test_client()
    event.listen(engine, "before_cursor_execute", _seen)
    try:
        anonymous.get("/courses")
        assert not [s for s in statements if "web_sessions" in s]
        browser = app.test_client()
        assert _sign_in(browser, user.login) == 302
        statements.clear()
        assert browser.get("/courses").status_code == 200
        reads = [s for s in statements if "web_sessions" in s]
        assert len(reads) == 1 and "WHERE web_sessions.id" in reads[0]
    finally:
        event.remove(engine, "before_cursor_execute", _seen)


# ------------------------------------------------------------------ open redirect
@pytest.mark.parametrize("target", ["/%09/evil.com", "/\t/evil.com", "//evil.com", "/\\evil.com", "\\\\evil.com",
                                    "https://evil.com", "javascript:alert(1)", "/\n/evil.com", "/ /evil.com",
                                    "///evil.com", "http:/evil.com", " /evil.com"])
def test_sign_in_never_redirects_off_site(client: FlaskClient, session: Session, target: str) -> None:
    from urllib.parse import unquote

    assert safe_next(unquote(target)) is None
    user = factories.user(session)
    session.commit()
    r = client.post("/login?next=" + target.replace("\t", "%09").replace("\n", "%0A").replace(" ", "%20"),
                    data={"csrf_token": csrf_token(client, "/login"), "login": user.login, "password": PASSWORD})
    assert r.status_code == 302 and r.headers["Location"] in ("/", "http://localhost/")


def test_a_path_on_the_site_is_kept() -> None:
    assert safe_next("/courses/an-toan-so?x=1") == "/courses/an-toan-so?x=1"


# ------------------------------------------------------------------ first passwords
def test_an_official_sets_a_first_password_with_a_managers_one_time_code(app: Flask, client: FlaskClient,
                                                                          session: Session) -> None:
    from lms.services.roster import UNUSABLE_PASSWORD

    manager = factories.user(session, role="manager", unit_code="86")
    outsider = factories.user(session, role="manager", unit_code="75")
    official = factories.user(session, role="official")
    official.password_hash = UNUSABLE_PASSWORD
    session.commit()
    with pytest.raises(Forbidden):
        first_password.issue_code(session, outsider, official.login, now=factories.now())
    session.rollback()
    browser = app.test_client()
    assert _sign_in(browser, manager.login) == 302
    page = browser.post("/manager/setup-codes", data={"csrf_token": csrf_token(browser, "/manager/setup-codes"),
                                                      "login": official.login})
    html = page.get_data(as_text=True)
    assert page.status_code == 200
    import re

    code = re.search(r'class="code">([A-Z0-9-]{11})<', html)
    assert code, html
    form = {"login": official.login, "code": "AAAAA-AAAAA", "new_password": "Can-bo-moi-2026"}
    r = client.post("/first-password", data={"csrf_token": csrf_token(client, "/first-password"), **form})
    assert r.status_code == 403
    form["code"] = code.group(1).lower()
    form["new_password"] = "password"
    r = client.post("/first-password", data={"csrf_token": csrf_token(client, "/first-password"), **form})
    assert r.status_code == 422
    form["new_password"] = "Can-bo-moi-2026"
    r = client.post("/first-password", data={"csrf_token": csrf_token(client, "/first-password"), **form})
    assert r.status_code == 302
    assert _token(client, official.login, "Can-bo-moi-2026")[0] == 201
    r = client.post("/first-password", data={"csrf_token": csrf_token(client, "/first-password"), **form})
    assert r.status_code == 403  # once only


def test_a_setup_code_expires(session: Session) -> None:
    from lms.services.throttle import DatabaseCounter, Throttle

    official = factories.user(session, role="official")
    code, row = first_password.issue_code(session, None, official.login, now=factories.now())
    row.expires_at = factories.now() - timedelta(seconds=1)
    session.flush()
    with pytest.raises(Forbidden) as caught:
        first_password.use_code(session, Throttle(DatabaseCounter()), official.login, code, "Can-bo-moi-2026",
                                now=factories.now())
    assert getattr(caught.value, "key", "") == "setup_code.invalid"


# ------------------------------------------------------------------ headers
@pytest.mark.parametrize(("method", "path"), [("GET", "/api/v1/courses"), ("GET", "/api/v1/nothing-here"),
                                              ("GET", "/api/v1/me"), ("DELETE", "/api/v1/courses"),
                                              ("POST", "/api/v1/tokens")])
def test_every_api_answer_carries_nosniff_and_a_csp(client: FlaskClient, method: str, path: str) -> None:
    r = client.open(path, method=method, json={} if method == "POST" else None)
    assert r.headers["X-Content-Type-Options"] == "nosniff"
    assert "default-src 'none'" in r.headers["Content-Security-Policy"]


def test_the_redis_counter_is_shared_by_separate_clients(session: Session) -> None:
    """With LMS_REDIS_URL set, two processes' throttles (two clients here) see one count."""
    import os

    import redis

    from lms.services.throttle import Throttle

    url = os.environ.get("LMS_TEST_REDIS_URL", "redis://127.0.0.1:6379/15")
    first, second = Throttle.for_settings(url), Throttle.for_settings(url)
    login = f"redis-{factories.now().timestamp()}@example.vn"
    redis.Redis.from_url(url).delete("lms:login-failures:" + login_key(login))
    for _ in range(5):
        first.failed(session, login, now=factories.now())
        second.failed(session, login, now=factories.now())
    assert first.blocked(session, login, now=factories.now()) and second.blocked(session, login, now=factories.now())
    assert not first.blocked(session, login, now=factories.now() + timedelta(minutes=16))
    assert session.query(LoginFailure).count() == 0  # nothing in the database when Redis counts


def test_retention_drops_ended_sessions_and_old_failures(session: Session) -> None:
    from lms.services import retention

    user = factories.user(session)
    session.add(WebSession(id="x" * 64, user_id=user.id, credentials_version=1, created_at=factories.now(),
                           expires_at=factories.now() - timedelta(hours=1)))
    session.add(LoginFailure(key="y" * 64, failed_at=factories.now() - timedelta(hours=1)))
    session.flush()
    retention.purge(session, now=factories.now(), audit_days=1825, token_days=90, job_days=30)
    assert session.get(WebSession, "x" * 64) is None
    assert session.query(LoginFailure).filter_by(key="y" * 64).count() == 0
