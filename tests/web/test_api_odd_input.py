"""Odd input the API fuzzer found crashing the app (a 500), now answered with a fitting 4xx on
SQLite and PostgreSQL alike. See tests/web/test_api_fuzz.py."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
from flask.testing import FlaskClient
from sqlalchemy.orm import Session

from lms.services import catalogue, quizzes
from tests import factories

_REGISTRATION = {"full_name": "Trần Văn Bảy", "login": "0912345678", "password": "Mat-khau-2026!",
                 "birth_year": 1970, "unit_code": factories.VINH_LONG_COMMUNE}


@pytest.mark.parametrize("path", ["/api/v1/courses/a%00b", "/api/v1/lessons/a%00b", "/api/v1/quizzes/a%00b",
                                  "/api/v1/verify/a%00b", "/api/v1/courses/%00"])
def test_a_nul_character_in_an_id_is_not_found(client: FlaskClient, path: str) -> None:
    r = client.get(path)
    assert r.status_code == 404 and r.json["error"]["code"] == "not_found"


def test_a_nul_character_in_an_owned_id_is_not_found(client: FlaskClient, session: Session) -> None:
    raw = factories.token(session, factories.user(session))
    session.commit()
    for path in ("/api/v1/attempts/a%00b", "/api/v1/certificates/a%00b/credential.json"):
        assert client.get(path, headers=factories.bearer(raw)).status_code == 404
    assert client.post("/api/v1/quizzes/a%00b/attempts", headers=factories.bearer(raw)).status_code == 404


@pytest.mark.parametrize("field", ["full_name", "unit_code", "login", "password"])
def test_a_nul_character_in_a_registration_is_refused_and_nothing_stored(client: FlaskClient, field: str) -> None:
    body = {**_REGISTRATION, field: _REGISTRATION[field][:3] + "\x00" + _REGISTRATION[field][3:]}
    r = client.post("/api/v1/registrations", json=body)
    assert r.status_code == 400 and r.json["error"]["code"] == "bad_request"
    assert client.post("/api/v1/tokens", json={"login": _REGISTRATION["login"],
                                               "password": _REGISTRATION["password"]}).status_code == 401


def test_a_nul_character_in_a_login_is_refused(client: FlaskClient) -> None:
    r = client.post("/api/v1/tokens", json={"login": "a\x00b@example.vn", "password": "x"})
    assert r.status_code == 400 and r.json["error"]["code"] == "bad_request"


def test_a_nul_character_in_a_report_parameter_is_refused(client: FlaskClient, session: Session) -> None:
    raw = factories.token(session, factories.user(session, role="admin", unit_code=None))
    session.commit()
    r = client.get("/api/v1/reports/targets?unit=8%006&year=2026", headers=factories.bearer(raw))
    assert r.status_code == 400 and r.json["error"]["code"] == "bad_request"


@pytest.mark.parametrize("body", ["[" * 100_000 + "]" * 100_000, '{"a":' * 20_000 + "1" + "}" * 20_000],
                         ids=["arrays", "objects"])
def test_json_nested_too_deep_is_not_json(client: FlaskClient, body: str) -> None:
    for path in ("/api/v1/tokens", "/api/v1/registrations"):
        r = client.post(path, data=body, content_type="application/json")
        assert r.status_code == 400 and r.json["error"]["code"] == "invalid_json"


def test_superscript_digits_are_not_a_year(client: FlaskClient, session: Session) -> None:
    # "¹⁹⁹⁰".isdigit() is true, but int() refuses it
    r = client.post("/api/v1/registrations", json={**_REGISTRATION, "birth_year": "¹⁹⁹⁰"})
    assert r.status_code == 422 and set(r.json["error"]["fields"]) == {"birth_year"}
    raw = factories.token(session, factories.user(session, role="admin", unit_code=None))
    session.commit()
    r = client.get("/api/v1/reports/targets?unit=86&year=²⁰²⁶", headers=factories.bearer(raw))
    assert r.status_code == 400 and r.json["error"]["code"] == "bad_request"


def test_a_number_too_large_for_a_float_is_not_a_numeric_answer(client: FlaskClient, session: Session) -> None:
    user = factories.user(session)
    raw = factories.token(session, user)
    found = None
    for course in catalogue.list_courses(session):
        for quiz in quizzes.list_course_quizzes(session, course.id):
            attempt = quizzes.start_attempt(session, user, quiz.id, now=datetime.now(UTC))
            numeric = [snap["id"] for snap in attempt.layout if snap["type"] == "numeric"]
            if numeric:
                found = attempt.id, numeric[0]
                break
        if found:
            break
    assert found, "the project's quizzes have no numeric question"
    session.commit()
    attempt_id, question_id = found
    r = client.put(f"/api/v1/attempts/{attempt_id}/answers/{question_id}", data='{"response": 1' + "0" * 400 + "}",
                   content_type="application/json", headers=factories.bearer(raw))
    assert r.status_code == 422 and set(r.json["error"]["fields"]) == {"response"}
    submitted = client.post(f"/api/v1/attempts/{attempt_id}/submission", headers=factories.bearer(raw))
    assert submitted.status_code == 200
