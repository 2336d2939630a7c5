from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta, timezone

from flask.testing import FlaskClient
from sqlalchemy import update
from sqlalchemy.orm import Session

from lms.store import Attempt
from tests import factories
from tests.quizhelpers import correct_response


def _learner(session: Session) -> dict[str, str]:
    raw = factories.token(session, factories.user(session))
    session.commit()
    return factories.bearer(raw)


def test_course_lists_its_quizzes(client: FlaskClient) -> None:
    course = client.get("/api/v1/courses/dich-vu-cong").json
    kinds = [q["kind"] for q in course["quizzes"]]
    assert kinds.count("final") == 1 and kinds.count("lesson") == len(course["lessons"])
    quiz = client.get("/api/v1/quizzes/dich-vu-cong-cuoi-khoa").json
    assert quiz["question_count"] == 12 and quiz["pass_mark"] == 70


def test_start_save_submit_over_http(client: FlaskClient, session: Session) -> None:
    auth = _learner(session)
    r = client.post("/api/v1/quizzes/dich-vu-cong-cuoi-khoa/attempts", headers=auth)
    assert r.status_code == 201
    body = r.json
    assert body["deadline_at"] and len(body["questions"]) == 12
    assert not any(k in json.dumps(body) for k in ('"correct"', '"fraction"', '"answer"', '"answers"'))
    attempt = session.get(Attempt, body["attempt_id"])
    assert attempt is not None
    for snap in attempt.layout:
        put = client.put(f"/api/v1/attempts/{attempt.id}/answers/{snap['id']}",
                         json={"response": correct_response(snap)}, headers=auth)
        assert put.status_code == 200 and put.json["question_id"] == snap["id"]
    resumed = client.get(f"/api/v1/attempts/{attempt.id}", headers=auth).json
    assert len(resumed["saved"]) == 12  # what was saved comes back when the learner returns
    restarted = client.post("/api/v1/quizzes/dich-vu-cong-cuoi-khoa/attempts", headers=auth).json
    assert restarted["attempt_id"] == attempt.id and restarted["saved"] == resumed["saved"]  # and on "start" again
    first = client.post(f"/api/v1/attempts/{attempt.id}/submission", headers=auth)
    again = client.post(f"/api/v1/attempts/{attempt.id}/submission", headers=auth)
    assert first.status_code == again.status_code == 200 and first.json == again.json
    assert first.json["score"] == first.json["max_score"] and first.json["passed"] is True
    assert all(q["correct"] and "feedback_html" in q for q in first.json["questions"])
    late = client.put(f"/api/v1/attempts/{attempt.id}/answers/{attempt.layout[0]['id']}", json={"response": None},
                      headers=auth)
    assert late.status_code == 409


def test_other_learners_and_junk(client: FlaskClient, session: Session) -> None:
    owner, other = _learner(session), _learner(session)
    body = client.post("/api/v1/quizzes/an-toan-so-bai-01/attempts", headers=owner).json
    qid = body["questions"][0]["id"]
    path = f"/api/v1/attempts/{body['attempt_id']}"
    assert client.put(f"{path}/answers/{qid}", json={"response": None}, headers=other).status_code == 404
    assert client.post(f"{path}/submission", headers=other).status_code == 404
    assert client.get(path, headers=other).status_code == 404
    assert client.put(f"{path}/answers/{qid}", json={"response": {"a": [1]}}, headers=owner).status_code == 422
    assert client.put(f"{path}/answers/{qid}", json={"nothing": 1}, headers=owner).status_code == 400
    assert client.post("/api/v1/quizzes/999999999/attempts", headers=owner).status_code == 404
    assert client.put("/api/v1/attempts/x/answers/y", json={"response": 1}, headers=owner).status_code == 404
    assert client.post("/api/v1/quizzes/an-toan-so-bai-01/attempts").status_code == 401


def test_a_signed_out_token_is_refused_by_every_attempt_endpoint(client: FlaskClient, session: Session) -> None:
    """The attempt endpoints check the token without loading the account (issue 14): a token
    ended by signing out stops working there at once, like everywhere else."""
    auth = _learner(session)
    body = client.post("/api/v1/quizzes/an-toan-so-bai-01/attempts", headers=auth).json
    path = f"/api/v1/attempts/{body['attempt_id']}"
    answer = {"response": None}  # clears the answer: valid for every kind of question
    assert client.put(f"{path}/answers/{body['questions'][0]['id']}", json=answer, headers=auth).status_code == 200
    assert client.delete("/api/v1/tokens/current", headers=auth).status_code in (200, 204)
    assert client.put(f"{path}/answers/{body['questions'][0]['id']}", json=answer, headers=auth).status_code == 401
    assert client.get(path, headers=auth).status_code == 401
    assert client.post(f"{path}/submission", headers=auth).status_code == 401
    assert client.post("/api/v1/quizzes/an-toan-so-bai-01/attempts", headers=auth).status_code == 401


def test_statistics_are_for_trainers(client: FlaskClient, session: Session) -> None:
    learner = _learner(session)
    trainer = factories.bearer(factories.token(session, factories.user(session, role="trainer")))
    session.commit()
    assert client.get("/api/v1/quizzes/an-toan-so-bai-01/statistics", headers=learner).status_code == 403
    r = client.get("/api/v1/quizzes/an-toan-so-bai-01/statistics", headers=trainer)
    assert r.status_code == 200 and isinstance(r.json, list)


def test_an_answer_after_the_deadline_closes_the_attempt_with_what_was_saved(client: FlaskClient,
                                                                               session: Session) -> None:
    auth = _learner(session)
    body = client.post("/api/v1/quizzes/dich-vu-cong-cuoi-khoa/attempts", headers=auth).json
    attempt = session.get(Attempt, body["attempt_id"])
    assert attempt is not None
    first, late = attempt.layout[0], attempt.layout[1]
    assert client.put(f"/api/v1/attempts/{attempt.id}/answers/{first['id']}",
                      json={"response": correct_response(first)}, headers=auth).status_code == 200
    session.execute(update(Attempt).where(Attempt.id == attempt.id)
                    .values(deadline_at=datetime.now(UTC) - timedelta(hours=1)))
    session.commit()
    r = client.put(f"/api/v1/attempts/{attempt.id}/answers/{late['id']}",
                   json={"response": correct_response(late)}, headers=auth)
    assert r.status_code == 409 and r.json is not None and r.json["error"]["code"] == "time_up"
    session.expire_all()
    closed = session.get(Attempt, attempt.id)
    assert closed is not None  # graded, as the 409 says, and the grading was not rolled back with the refusal
    assert closed.status == "submitted" and closed.finished_by == "deadline" and closed.score == first["points"]


def test_a_final_refuses_a_fourth_attempt_with_429_and_when(client: FlaskClient, session: Session) -> None:
    """The officials' mandated final: three attempts started in any 24 hours, then a clear 429
    that says when the next opens, and a failed attempt reveals no per-question key."""
    from tests.conftest import csrf_token

    official = factories.user(session, role="official")
    auth = factories.bearer(factories.token(session, official))
    session.commit()
    final = "chuyen-doi-so-can-bo-cuoi-khoa"
    policy = client.get(f"/api/v1/quizzes/{final}").json["attempt_policy"]
    assert policy == {"limited": True, "max_attempts": 3, "attempt_window_hours": 24, "cooldown_minutes": 0}
    first_started = None
    for _ in range(3):
        started = client.post(f"/api/v1/quizzes/{final}/attempts", headers=auth)
        assert started.status_code == 201
        first_started = first_started or started.json["started_at"]
        result = client.post(f"/api/v1/attempts/{started.json['attempt_id']}/submission", headers=auth).json
        assert result["passed"] is False and result["review"] == "withheld"
        assert all(q["correct"] is None and q["feedback_html"] == "" for q in result["questions"])
    refused = client.post(f"/api/v1/quizzes/{final}/attempts", headers=auth)
    assert refused.status_code == 429 and int(refused.headers["Retry-After"]) > 23 * 3600
    error = refused.json["error"]
    opens = datetime.fromisoformat(error["next_attempt_at"])
    assert error["code"] == "attempt_limit" and opens == datetime.fromisoformat(first_started) + timedelta(hours=24)
    local = opens.astimezone(timezone(timedelta(hours=7)))
    assert local.strftime("%H:%M") in error["message"] and local.strftime("%d/%m/%Y") in error["message"]
    # the same person in the browser: the quiz page says when, and offers no start button
    client.post("/login", data={"csrf_token": csrf_token(client, "/login"), "login": official.login,
                                "password": factories.PASSWORD})
    page = client.get(f"/quizzes/{final}").get_data(as_text=True)
    assert "Lần làm tiếp theo mở lúc" in page and local.strftime("%d/%m/%Y") in page
    assert "Bắt đầu làm bài" not in page
    start = client.post(f"/quizzes/{final}/attempts", data={"csrf_token": csrf_token(client, f"/quizzes/{final}")},
                        follow_redirects=True)
    assert "Lần làm tiếp theo mở lúc" in start.get_data(as_text=True)
    # practice stays open: a lesson quiz of the same course starts as often as wanted
    for _ in range(4):
        lesson_quiz = client.post("/api/v1/quizzes/chuyen-doi-so-can-bo-bai-01/attempts", headers=auth)
        assert lesson_quiz.status_code == 201
        client.post(f"/api/v1/attempts/{lesson_quiz.json['attempt_id']}/submission", headers=auth)


def test_a_passing_final_closed_by_a_late_answer_earns_the_certificate(client: FlaskClient, session: Session) -> None:
    """A learner who answered everything right but never pressed submit: the answer that arrives
    after the deadline closes the attempt (409 time_up), and the pass it grades earns the course
    certificate, as pressing submit would have."""
    from sqlalchemy import select

    from lms.services import catalogue
    from lms.store import Lesson

    learner = factories.user(session)
    auth = factories.bearer(factories.token(session, learner))
    for lesson_id in session.scalars(select(Lesson.id).where(Lesson.course_id == "dich-vu-cong")):
        catalogue.complete_lesson(session, learner, lesson_id, now=datetime.now(UTC))
    session.commit()
    body = client.post("/api/v1/quizzes/dich-vu-cong-cuoi-khoa/attempts", headers=auth).json
    attempt = session.get(Attempt, body["attempt_id"])
    assert attempt is not None
    for snap in attempt.layout:
        assert client.put(f"/api/v1/attempts/{attempt.id}/answers/{snap['id']}",
                          json={"response": correct_response(snap)}, headers=auth).status_code == 200
    assert client.get("/api/v1/me/certificates", headers=auth).json == []
    session.execute(update(Attempt).where(Attempt.id == attempt.id)
                    .values(deadline_at=datetime.now(UTC) - timedelta(hours=1)))
    session.commit()
    late = attempt.layout[0]
    r = client.put(f"/api/v1/attempts/{attempt.id}/answers/{late['id']}",
                   json={"response": correct_response(late)}, headers=auth)
    assert r.status_code == 409 and r.json is not None and r.json["error"]["code"] == "time_up"
    held = client.get("/api/v1/me/certificates", headers=auth).json
    assert [c["course_id"] for c in held] == ["dich-vu-cong"]
