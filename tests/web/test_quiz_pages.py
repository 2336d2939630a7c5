from __future__ import annotations

import re

from flask.testing import FlaskClient
from sqlalchemy import select
from sqlalchemy.orm import Session

from lms.store import Attempt
from tests import factories
from tests.conftest import csrf_token
from tests.quizhelpers import correct_response


def _login(client: FlaskClient, session: Session) -> int:
    user = factories.user(session)
    session.commit()
    client.post("/login", data={"csrf_token": csrf_token(client, "/login"), "login": user.login,
                                "password": factories.PASSWORD})
    return user.id


def _form_for(attempt: Attempt, token: str, action: str) -> dict[str, object]:
    """The form a learner fills in, with every answer right."""
    data: dict[str, object] = {"csrf_token": token, "action": action}
    for number, snap in enumerate(attempt.layout, start=1):
        name, response = f"q-{number}", correct_response(snap)
        if snap["type"] == "true_false":
            data[name] = "true" if response else "false"
        elif snap["type"] == "matching":
            for i, left in enumerate(snap["order"]):
                data[f"{name}-{i}"] = response[left]
        elif snap["type"] == "ordering":
            for i, item in enumerate(snap["order"]):
                data[f"{name}-{i}"] = str(response.index(item) + 1)
        else:
            data[name] = response if not isinstance(response, float) else str(response)
    return data


def test_take_a_quiz_without_javascript(client: FlaskClient, session: Session) -> None:
    user_id = _login(client, session)
    page = client.get("/courses/an-toan-so").get_data(as_text=True)
    assert "/quizzes/an-toan-so-cuoi-khoa" in page
    token = csrf_token(client, "/quizzes/an-toan-so-cuoi-khoa")
    r = client.post("/quizzes/an-toan-so-cuoi-khoa/attempts", data={"csrf_token": token})
    assert r.status_code == 302
    attempt = session.scalars(select(Attempt).where(Attempt.user_id == user_id)).one()
    html = client.get(f"/attempts/{attempt.id}").get_data(as_text=True)
    assert html.count("<fieldset") == 12 and "fraction" not in html
    token = re.search(r'name="csrf_token" value="([^"]+)"', html).group(1)  # type: ignore[union-attr]
    saved = client.post(f"/attempts/{attempt.id}", data=_form_for(attempt, token, "save"))
    assert saved.status_code == 302
    assert "Đã lưu 12/12 câu." in client.get(f"/attempts/{attempt.id}").get_data(as_text=True)
    done = client.post(f"/attempts/{attempt.id}", data=_form_for(attempt, token, "submit"), follow_redirects=True)
    text = done.get_data(as_text=True)
    assert done.status_code == 200 and "Chúc mừng" in text
    session.refresh(attempt)
    assert attempt.status == "submitted" and attempt.score == attempt.max_score


def test_bad_numeric_answer_is_shown_next_to_the_question(client: FlaskClient, session: Session) -> None:
    user_id = _login(client, session)
    token = csrf_token(client, "/quizzes/an-toan-so-cuoi-khoa")
    client.post("/quizzes/an-toan-so-cuoi-khoa/attempts", data={"csrf_token": token})
    attempt = session.scalars(select(Attempt).where(Attempt.user_id == user_id)).one()
    numeric = [n for n, s in enumerate(attempt.layout, start=1) if s["type"] == "numeric"]
    data = {"csrf_token": token, "action": "submit"}
    target = numeric[0] if numeric else None
    if target is None:  # this draw has no numeric question: a malformed ordering does the same job
        target = next(n for n, s in enumerate(attempt.layout, start=1) if s["type"] == "single")
        data[f"q-{target}"] = "not-a-choice"
    else:
        data[f"q-{target}"] = "mười nghìn"
    r = client.post(f"/attempts/{attempt.id}", data=data)
    assert r.status_code == 422 and 'role="alert"' in r.get_data(as_text=True)
    session.refresh(attempt)
    assert attempt.status == "in_progress"  # nothing submitted while an answer is malformed


def test_someone_elses_attempt_is_not_found(client: FlaskClient, session: Session) -> None:
    owner = factories.user(session)
    from lms.services import quizzes

    attempt = quizzes.start_attempt(session, owner, "an-toan-so-bai-01", now=factories.now())
    session.commit()
    _login(client, session)
    assert client.get(f"/attempts/{attempt.id}").status_code == 404
    assert client.get(f"/attempts/{attempt.id}/result").status_code == 404
