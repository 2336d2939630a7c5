"""The attempt lane (lms/web/attempt_lane.py) answers start, autosave and submit itself, exactly as
the API's views would, and hands every other request, and every other outcome, to Flask with its
body intact."""

from __future__ import annotations

from dataclasses import replace
from typing import Any

import pytest
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy.orm import Session

from lms import create_app
from lms.config import Settings
from lms.store import Attempt
from tests import factories
from tests.quizhelpers import correct_response

QUIZ = "an-toan-so-bai-01"
API_HEADERS = {"Content-Type": "application/json", "X-Content-Type-Options": "nosniff",
               "Content-Security-Policy": "default-src 'none'; frame-ancestors 'none'; base-uri 'none'; "
                                          "form-action 'none'"}


def _flask_requests(app: Flask) -> list[str]:
    """The paths Flask itself dispatched (its before_request hooks ran for them)."""
    seen: list[str] = []

    @app.before_request
    def _count() -> None:
        from flask import request

        seen.append(f"{request.method} {request.path}")

    return seen


def _headers(response: Any) -> dict[str, str]:
    return {k: v for k, v in response.headers.items() if k in API_HEADERS}


def test_the_lane_answers_the_plain_cycle_itself_with_the_api_s_json_and_headers(app: Flask, client: FlaskClient,
                                                                                  session: Session) -> None:
    flask_saw = _flask_requests(app)
    user = factories.user(session)
    auth = factories.bearer(factories.token(session, user))
    session.commit()
    started = client.post(f"/api/v1/quizzes/{QUIZ}/attempts", headers=auth)
    assert started.status_code == 201 and _headers(started) == API_HEADERS
    body = started.json
    assert body is not None and body["saved"] == {} and body["status"] == "in_progress"
    stored = session.get(Attempt, body["attempt_id"])
    assert stored is not None and [q["id"] for q in body["questions"]] == [s["id"] for s in stored.layout]
    for snap in stored.layout:
        saved = client.put(f"/api/v1/attempts/{stored.id}/answers/{snap['id']}",
                           json={"response": correct_response(snap)}, headers=auth)
        assert saved.status_code == 200 and _headers(saved) == API_HEADERS
        assert saved.json is not None and saved.json["question_id"] == snap["id"]
    resumed = client.get(f"/api/v1/attempts/{stored.id}", headers=auth)  # a GET: Flask's view
    assert resumed.json is not None and set(resumed.json["saved"]) == {s["id"] for s in stored.layout}
    graded = client.post(f"/api/v1/attempts/{stored.id}/submission", headers=auth)
    assert graded.status_code == 200 and _headers(graded) == API_HEADERS
    assert graded.json is not None and graded.json["passed"] is True and graded.json["percent"] == 100
    assert flask_saw == [f"GET /api/v1/attempts/{stored.id}"]


def test_every_other_case_reaches_flask_with_its_body(app: Flask, client: FlaskClient, session: Session) -> None:
    flask_saw = _flask_requests(app)
    user = factories.user(session)
    auth = factories.bearer(factories.token(session, user))
    session.commit()
    attempt = client.post(f"/api/v1/quizzes/{QUIZ}/attempts", headers=auth).json
    assert attempt is not None
    question = attempt["questions"][0]["id"]
    answer = f"/api/v1/attempts/{attempt['attempt_id']}/answers/{question}"
    # no token, a body that is no JSON object, a NUL, a refused answer, an unknown quiz: Flask's
    # views answer them, as the API documents
    assert client.put(answer, json={"response": "x"}).status_code == 401
    bad = client.put(answer, data="{not json", headers={**auth, "Content-Type": "application/json"})
    assert bad.status_code == 400 and bad.json is not None and bad.json["error"]["code"] == "invalid_json"
    missing = client.put(answer, json={"answer": 1}, headers=auth)
    assert missing.status_code == 400 and missing.json is not None
    assert missing.json["error"]["code"] == "bad_request"
    assert client.put(answer, json={"response": "a\u0000b"}, headers=auth).status_code == 400
    refused = client.put(answer, json={"response": {"not": "a choice"}}, headers=auth)
    assert refused.status_code == 422 and refused.json is not None and "response" in refused.json["error"]["fields"]
    assert client.post("/api/v1/quizzes/no-such-quiz/attempts", headers=auth).status_code == 404
    assert len(flask_saw) == 6
    assert client.get(f"/api/v1/attempts/{attempt['attempt_id']}", headers=auth).json["saved"] == {}  # type: ignore[index]


def test_without_the_lane_flask_answers_the_same(settings: Settings, app: Flask, client: FlaskClient,
                                                 session: Session) -> None:
    plain = create_app(replace(settings, attempt_lane=False))
    plain.config["TESTING"] = True
    plain.extensions["lms"].sessionmaker = app.extensions["lms"].sessionmaker
    flask_saw = _flask_requests(plain)
    user = factories.user(session)
    auth = factories.bearer(factories.token(session, user))
    session.commit()
    answers = []
    for c in (client, plain.test_client()):
        started = c.post(f"/api/v1/quizzes/{QUIZ}/attempts", headers=auth)
        stored = session.get(Attempt, started.json["attempt_id"])  # type: ignore[index]
        assert stored is not None
        snap = stored.layout[0]
        saved = c.put(f"/api/v1/attempts/{stored.id}/answers/{snap['id']}", json={"response": correct_response(snap)},
                      headers=auth)
        graded = c.post(f"/api/v1/attempts/{stored.id}/submission", headers=auth)
        answers.append([(r.status_code, _headers(r), sorted(r.json)) for r in (started, saved, graded)])  # type: ignore[arg-type]
    assert answers[0] == answers[1]
    assert len(flask_saw) == 3  # the app without the lane dispatched all three itself
    plain.extensions["lms"].engine.dispose()


def test_a_number_past_64_bits_is_saved_as_the_integer_sent(client: FlaskClient, session: Session) -> None:
    # orjson would read 30 digits as a float; the lane reads bodies as Flask's view does (the json
    # module), keeping the integer, and the answer reads back (lms.store.engine.loads_json) unchanged
    if session.get_bind().dialect.name == "sqlite":
        pytest.skip("SQLite's numeric affinity stores a bare number past 64 bits as a REAL, whoever parses it")
    user = factories.user(session)
    auth = factories.bearer(factories.token(session, user))
    session.commit()
    started = client.post("/api/v1/quizzes/dich-vu-cong-bai-03/attempts", headers=auth).json
    assert started is not None
    question = next(q["id"] for q in started["questions"] if q["type"] == "numeric")
    big = 123456789012345678901234567890
    saved = client.put(f"/api/v1/attempts/{started['attempt_id']}/answers/{question}",
                       data=f'{{"response": {big}}}', headers={**auth, "Content-Type": "application/json"})
    assert saved.status_code == 200
    resumed = client.get(f"/api/v1/attempts/{started['attempt_id']}", headers=auth).json
    assert resumed is not None
    assert type(resumed["saved"][question]) is int and resumed["saved"][question] == big
