"""Pages made from published content are kept for visitors who are not signed in (issue 14):
what they show must stay exactly what rendering them afresh would show."""

from __future__ import annotations

import pytest
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import update
from sqlalchemy.orm import Session

from lms.services.content_cache import ContentStamp, RenderedCache
from lms.store import Lesson
from tests.conftest import _PREFERENCE, csrf_token


def _token(html: str) -> str:
    m = _PREFERENCE.search(html)
    assert m
    return m.group(1)


def test_each_visitor_gets_a_token_of_their_own_on_a_kept_page(app: Flask) -> None:
    first, second = app.test_client(), app.test_client()
    a = first.get("/").get_data(as_text=True)
    b = second.get("/").get_data(as_text=True)
    assert _token(a) != _token(b)
    cache = app.extensions["lms_page_cache"]
    assert cache.marker not in a + b and cache.preference_marker not in a + b
    assert a.replace(_token(a), "") == b.replace(_token(b), "")  # the same page otherwise
    # each token works for its own visitor only
    assert second.post("/settings/language", data={"lang": "en", "preference_token": _token(a)}).status_code == 400
    assert second.post("/settings/language", data={"lang": "en", "preference_token": _token(b)}).status_code == 302
    english = second.get("/").get_data(as_text=True)
    assert '<html lang="en">' in english and '<html lang="vi">' in first.get("/").get_data(as_text=True)


def test_a_kept_page_gives_a_visitor_no_session_only_the_switches_cookie(app: Flask) -> None:
    """What made a kept page dear (issue 14): Flask-WTF's token needs a signed session cookie.
    The switches' own token needs one random cookie, given once and then kept."""
    visitor = app.test_client()
    first = visitor.get("/lessons/an-toan-so-01")
    cookies = first.headers.getlist("Set-Cookie")
    assert [c.split("=", 1)[0] for c in cookies] == ["lms_pref"]
    assert "HttpOnly" in cookies[0] and "SameSite=Lax" in cookies[0]
    again = visitor.get("/")
    assert again.headers.getlist("Set-Cookie") == []
    assert _token(first.get_data(as_text=True)) == _token(again.get_data(as_text=True))


def test_the_switches_refuse_a_missing_or_forged_token(app: Flask) -> None:
    visitor = app.test_client()
    token = _token(visitor.get("/").get_data(as_text=True))
    forged = token[:-1] + ("1" if token.endswith("0") else "0")  # differs in its last digit
    for data in ({}, {"preference_token": ""}, {"preference_token": forged},
                 {"csrf_token": token}):
        assert visitor.post("/settings/text-size", data=data).status_code == 400, data
        assert visitor.post("/settings/language", data={"lang": "en", **data}).status_code == 400, data
    stranger = app.test_client()  # the token without the cookie it was made for
    assert stranger.post("/settings/text-size", data={"preference_token": token}).status_code == 400
    assert visitor.post("/settings/text-size", data={"preference_token": token}).status_code == 302
    assert 'class="large-text"' in visitor.get("/").get_data(as_text=True)


def test_a_signed_in_visitor_never_gets_the_anonymous_page(client: FlaskClient, session: Session) -> None:
    from tests import factories

    client.get("/")  # kept for visitors who are not signed in
    user = factories.user(session, password="Mat-khau-2026!")
    session.flush()
    r = client.post("/login", data={"csrf_token": csrf_token(client, "/login"), "login": user.login,
                                    "password": "Mat-khau-2026!"})
    assert r.status_code == 302
    assert "Đăng xuất" in client.get("/").get_data(as_text=True)


def test_a_changed_lesson_is_shown_at_once(client: FlaskClient, session: Session) -> None:
    first = client.get("/lessons/an-toan-so-01").get_data(as_text=True)
    assert "Nội dung đổi sau khi trang được giữ" not in first
    session.execute(update(Lesson).where(Lesson.id == "an-toan-so-01").values(
        html="<p>Nội dung đổi sau khi trang được giữ</p>", version=Lesson.version + 1))
    session.flush()
    assert "Nội dung đổi sau khi trang được giữ" in client.get("/lessons/an-toan-so-01").get_data(as_text=True)
    assert "Nội dung đổi sau khi trang được giữ" in client.get("/api/v1/lessons/an-toan-so-01").json["html"]


def test_the_fingerprint_is_read_again_only_when_due_or_after_a_write(session: Session) -> None:
    clock = [100.0]
    reads: list[int] = []

    class Counting:
        def __enter__(self) -> Session:
            reads.append(1)
            return session

        def __exit__(self, *exc: object) -> None:
            return None

    stamp = ContentStamp(lambda: Counting(), interval=5.0, clock=lambda: clock[0])  # type: ignore[arg-type,return-value]
    first = stamp.current()
    assert stamp.current() == first and len(reads) == 1
    clock[0] += 4.9
    stamp.current()
    assert len(reads) == 1
    clock[0] += 0.2
    stamp.current()
    assert len(reads) == 2
    stamp.invalidate()
    stamp.current()
    assert len(reads) == 3
    # peek never reads: it answers only while the fingerprint is fresh (a kept page then needs no
    # database session at all)
    assert stamp.peek() == first and len(reads) == 3
    clock[0] += 5.1
    assert stamp.peek() is None and len(reads) == 3
    stamp.invalidate()
    assert stamp.peek() is None


def test_a_kept_page_served_from_a_fresh_stamp_opens_no_database_session(
        client: FlaskClient, monkeypatch: pytest.MonkeyPatch) -> None:
    state = client.application.extensions["lms"]
    real = state.sessionmaker
    opened: list[int] = []

    def counting(*args: object, **kwargs: object) -> Session:
        opened.append(1)
        return real(*args, **kwargs)  # type: ignore[arg-type]

    # Under test every request invalidates the stamp (tests change content behind the app's
    # back); here it stays fresh, as in production between two readings. TESTING itself stays on:
    # off, the app would start its background senders on the test's own connection.
    monkeypatch.setattr(client.application.extensions["lms_page_cache"].stamp, "invalidate", lambda: None)
    monkeypatch.setattr(state, "sessionmaker", counting)
    assert client.get("/lessons/an-toan-so-01").status_code == 200
    before = len(opened)
    assert client.get("/lessons/an-toan-so-01").status_code == 200
    assert len(opened) == before


def test_kept_bodies_go_stale_with_their_stamp_and_the_oldest_go_first() -> None:
    kept = RenderedCache(size=2)
    kept.put("a", (1,), "A")
    kept.put("b", (1,), "B")
    assert kept.get("a", (1,)) == "A" and kept.get("a", (2,)) is None and kept.get("a", (1,)) is None
    kept.put("c", (1,), "C")
    kept.put("d", (1,), "D")
    assert kept.get("b", (1,)) is None and kept.get("d", (1,)) == "D"
