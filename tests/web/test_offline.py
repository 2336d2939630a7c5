"""Offline reading and answering, the server's side: the service worker is served with the
LMS's scope (own site and mounted), the offline page exists, and the attempt page's autosave
endpoint saves one answer at once under the same rules as the API's PUT."""

from __future__ import annotations

import re
from datetime import timedelta

from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import Connection, select, update
from sqlalchemy.orm import Session

from lms import LMS
from lms.services.unit_of_work import make_sessionmaker
from lms.store import Attempt, AttemptAnswer
from tests import factories
from tests.conftest import csrf_token
from tests.factories import now
from tests.quizhelpers import correct_response

QUIZ = "an-toan-so-cuoi-khoa"


def _login(client: FlaskClient, session: Session) -> int:
    user = factories.user(session)
    session.commit()
    client.post("/login", data={"csrf_token": csrf_token(client, "/login"), "login": user.login,
                                "password": factories.PASSWORD})
    return user.id


def _start(client: FlaskClient, session: Session, user_id: int) -> tuple[Attempt, str]:
    token = csrf_token(client, f"/quizzes/{QUIZ}")
    client.post(f"/quizzes/{QUIZ}/attempts", data={"csrf_token": token})
    attempt = session.scalars(select(Attempt).where(Attempt.user_id == user_id)).one()
    html = client.get(f"/attempts/{attempt.id}").get_data(as_text=True)
    page_token = re.search(r'name="csrf_token" value="([^"]+)"', html)
    assert page_token
    return attempt, page_token.group(1)


def _single(attempt: Attempt) -> tuple[int, dict[str, object]]:
    number, snap = next((n, s) for n, s in enumerate(attempt.layout, start=1) if s["type"] == "single")
    return number, snap


def _saved(session: Session, attempt: Attempt) -> dict[str, object]:
    session.expire_all()
    return {a.question_id: a.response for a in session.scalars(
        select(AttemptAnswer).where(AttemptAnswer.attempt_id == attempt.id))}


def test_service_worker_is_served_from_the_root_with_its_scope(client: FlaskClient) -> None:
    r = client.get("/sw.js")
    assert r.status_code == 200 and r.mimetype == "text/javascript"
    assert r.headers["Service-Worker-Allowed"] == "/" and "no-cache" in r.headers["Cache-Control"]
    assert "caches" in r.get_data(as_text=True)
    page = client.get("/courses").get_data(as_text=True)
    assert 'data-sw="/sw.js"' in page and 'data-scope="/"' in page
    css = re.search(r'href="(/static/site\.css\?v=[0-9a-f]+)"', page)
    assert css
    static = client.get(css.group(1))
    assert static.status_code == 200
    static.close()
    offline = client.get("/offline")
    assert offline.status_code == 200 and "Không có kết nối mạng" in offline.get_data(as_text=True)


def test_service_worker_scope_follows_the_mount_prefix(database_url: str, connection: Connection) -> None:
    host = Flask("provincial_portal")
    host.config.update(LMS_DATABASE_URL=database_url, LMS_SECRET_KEY="h" * 40, TESTING=True)
    state = LMS().init_app(host, url_prefix="/hoc")
    state.sessionmaker = make_sessionmaker(connection, join_transaction_mode="create_savepoint",
                                           expire_on_commit=True)
    c = host.test_client()
    r = c.get("/hoc/sw.js")
    assert r.status_code == 200 and r.headers["Service-Worker-Allowed"] == "/hoc/"
    page = c.get("/hoc/courses").get_data(as_text=True)
    assert 'data-sw="/hoc/sw.js"' in page and 'data-scope="/hoc/"' in page
    assert c.get("/hoc/offline").status_code == 200
    assert c.get("/sw.js").status_code == 404


def test_attempt_page_carries_the_autosave_hooks(client: FlaskClient, session: Session) -> None:
    user_id = _login(client, session)
    attempt, _ = _start(client, session, user_id)
    html = client.get(f"/attempts/{attempt.id}").get_data(as_text=True)
    assert f'data-autosave="/attempts/{attempt.id}/answers/__Q__"' in html
    assert html.count('aria-live="polite" data-save-state') == len(attempt.layout)
    assert "Đã lưu" in html and "Đang chờ gửi" in html and "/static/attempt.js?v=" in html


def test_one_answer_is_saved_at_once_and_resending_it_changes_nothing(client: FlaskClient,
                                                                      session: Session) -> None:
    user_id = _login(client, session)
    attempt, token = _start(client, session, user_id)
    number, snap = _single(attempt)
    answer = correct_response(snap)
    url = f"/attempts/{attempt.id}/answers/{snap['id']}"
    first = client.post(url, data={"csrf_token": token, f"q-{number}": answer})
    assert first.status_code == 200 and first.json is not None
    assert first.json["status"] == "saved" and first.json["question_id"] == snap["id"]
    assert _saved(session, attempt) == {snap["id"]: answer}
    again = client.post(url, data={"csrf_token": token, f"q-{number}": answer})  # the queue sent it twice
    assert again.status_code == 200
    assert _saved(session, attempt) == {snap["id"]: answer}
    # the API's JSON shape is accepted too, with the token in a header
    other = next(s for s in attempt.layout if s["id"] != snap["id"])
    r = client.post(f"/attempts/{attempt.id}/answers/{other['id']}", json={"response": correct_response(other)},
                    headers={"X-CSRFToken": token})
    assert r.status_code == 200 and _saved(session, attempt)[other["id"]] == correct_response(other)
    # and the answers saved one by one are what the page shows and grades
    html = client.get(f"/attempts/{attempt.id}").get_data(as_text=True)
    assert "Đã lưu 2/" in html


def test_a_malformed_answer_is_refused_with_a_message(client: FlaskClient, session: Session) -> None:
    user_id = _login(client, session)
    attempt, token = _start(client, session, user_id)
    number, snap = _single(attempt)
    r = client.post(f"/attempts/{attempt.id}/answers/{snap['id']}", data={"csrf_token": token,
                                                                          f"q-{number}": "not-a-choice"})
    assert r.status_code == 422 and r.json is not None and r.json["error"]["message"]
    assert _saved(session, attempt) == {}


def test_csrf_token_is_required(client: FlaskClient, session: Session) -> None:
    user_id = _login(client, session)
    attempt, _ = _start(client, session, user_id)
    number, snap = _single(attempt)
    r = client.post(f"/attempts/{attempt.id}/answers/{snap['id']}", data={f"q-{number}": correct_response(snap)})
    assert r.status_code == 400
    assert _saved(session, attempt) == {}


def test_another_learners_attempt_is_refused(app: Flask, client: FlaskClient, session: Session) -> None:
    owner_id = _login(client, session)
    attempt, _ = _start(client, session, owner_id)
    number, snap = _single(attempt)
    intruder = app.test_client()
    _login(intruder, session)
    token = csrf_token(intruder, "/courses")
    r = intruder.post(f"/attempts/{attempt.id}/answers/{snap['id']}",
                      data={"csrf_token": token, f"q-{number}": correct_response(snap)})
    assert r.status_code == 404
    assert _saved(session, attempt) == {}
    anonymous = app.test_client()
    r = anonymous.post(f"/attempts/{attempt.id}/answers/{snap['id']}",
                       data={"csrf_token": csrf_token(anonymous, "/login"), f"q-{number}": correct_response(snap)})
    assert r.status_code == 401 and _saved(session, attempt) == {}


def test_answers_after_the_deadline_are_refused(client: FlaskClient, session: Session) -> None:
    user_id = _login(client, session)
    attempt, token = _start(client, session, user_id)
    number, snap = _single(attempt)
    session.execute(update(Attempt).where(Attempt.id == attempt.id)
                    .values(deadline_at=now() - timedelta(hours=1)))
    session.commit()
    r = client.post(f"/attempts/{attempt.id}/answers/{snap['id']}",
                    data={"csrf_token": token, f"q-{number}": correct_response(snap)})
    assert r.status_code == 409 and r.json is not None and r.json["error"]["code"] == "time_up"
    assert _saved(session, attempt) == {}
    closed = session.get(Attempt, attempt.id)
    assert closed is not None and closed.status == "submitted" and closed.finished_by == "deadline"


def test_a_form_sent_after_the_deadline_grades_what_was_saved_before(client: FlaskClient, session: Session) -> None:
    user_id = _login(client, session)
    attempt, token = _start(client, session, user_id)
    number, snap = _single(attempt)
    assert client.post(f"/attempts/{attempt.id}/answers/{snap['id']}",
                       data={"csrf_token": token, f"q-{number}": correct_response(snap)}).status_code == 200
    session.execute(update(Attempt).where(Attempt.id == attempt.id)
                    .values(deadline_at=now() - timedelta(hours=1)))
    session.commit()
    r = client.post(f"/attempts/{attempt.id}", data={"csrf_token": token, "action": "save"})
    assert r.status_code == 302 and r.headers["Location"].endswith(f"/attempts/{attempt.id}/result")
    session.expire_all()
    closed = session.get(Attempt, attempt.id)
    assert closed is not None and closed.status == "submitted" and closed.finished_by == "deadline"
    assert closed.score is not None and closed.score > 0  # the answer saved in time counted


def test_answers_to_a_submitted_attempt_are_refused(client: FlaskClient, session: Session) -> None:
    user_id = _login(client, session)
    attempt, token = _start(client, session, user_id)
    client.post(f"/attempts/{attempt.id}", data={"csrf_token": token, "action": "submit"})
    number, snap = _single(attempt)
    r = client.post(f"/attempts/{attempt.id}/answers/{snap['id']}",
                    data={"csrf_token": token, f"q-{number}": correct_response(snap)})
    assert r.status_code == 409


def test_a_ranking_being_filled_in_is_not_an_error(client: FlaskClient, session: Session) -> None:
    user_id = _login(client, session)
    quiz = "an-toan-so-bai-05"
    client.post(f"/quizzes/{quiz}/attempts", data={"csrf_token": csrf_token(client, f"/quizzes/{quiz}")})
    attempt = session.scalars(select(Attempt).where(Attempt.user_id == user_id)).one()
    found = [(n, s) for n, s in enumerate(attempt.layout, start=1) if s["type"] == "ordering"]
    assert found, "the lesson check has an ordering question"
    number, snap = found[0]
    token = csrf_token(client, f"/attempts/{attempt.id}")
    url = f"/attempts/{attempt.id}/answers/{snap['id']}"
    r = client.post(url, data={"csrf_token": token, f"q-{number}-0": "1"})
    assert r.status_code == 200 and r.json is not None and r.json["status"] == "incomplete"
    assert snap["id"] not in _saved(session, attempt)
    count = len(snap["order"])
    clash = {f"q-{number}-{i}": "1" for i in range(count)}  # every box filled, all the same
    assert client.post(url, data={"csrf_token": token, **clash}).status_code == 422
    full = {f"q-{number}-{i}": str(i + 1) for i in range(count)}
    assert client.post(url, data={"csrf_token": token, **full}).json["status"] == "saved"
    assert snap["id"] in _saved(session, attempt)
