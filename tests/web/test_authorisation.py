"""Every API operation × every role × own object and someone else's → the expected status.

The matrix is written out in full so that a change in who may do what shows up as a failing
row, and a new API route without a row fails `test_every_api_route_has_a_row`."""

from __future__ import annotations

from typing import Any

import pytest
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy.orm import Session

from lms.services import certificates, quizzes
from lms.store import Course
from tests import factories
from tests.factories import now

ROLES = ("anonymous", "owner", "other_citizen", "trainer", "manager_86", "manager_75", "admin")


@pytest.fixture()
def world(client: FlaskClient, session: Session) -> dict[str, Any]:
    owner = factories.user(session)
    people = {"owner": owner, "other_citizen": factories.user(session),
              "trainer": factories.user(session, role="trainer", unit_code="86"),
              "manager_86": factories.user(session, role="manager", unit_code="86"),
              "manager_75": factories.user(session, role="manager", unit_code="75"),
              "admin": factories.user(session, role="admin", unit_code=None)}
    attempt = quizzes.start_attempt(session, owner, "an-toan-so-bai-01", now=now())
    course = session.get(Course, "an-toan-so")
    assert course is not None
    cert = certificates.issue(session, owner, course, now=now(), source="in_person")
    cert.pdf, cert.pdf_status = b"%PDF-1.7 test", "ready"
    from pathlib import Path

    from tests.shared_dir import SHARED

    draft, _, _ = quizzes.import_file(session, Path(SHARED) / "accept" / "sample_quiz.gift", course_id="an-toan-so",
                                      fmt=None, now=now(), owner_id=people["trainer"].id, draft=True)
    tokens = {role: factories.bearer(factories.token(session, user)) for role, user in people.items()}
    tokens["anonymous"] = {}
    session.commit()
    return {"tokens": tokens, "attempt": attempt.id, "question": attempt.layout[0]["id"], "code": cert.code,
            "draft": draft}


# (method, path template, body, {role: expected status}) ; roles not listed expect the default
MATRIX: list[tuple[str, str, Any, dict[str, int]]] = [
    ("GET", "/api/v1/me", None, {"anonymous": 401, "*": 200}),
    ("GET", "/api/v1/courses", None, {"*": 200}),
    ("GET", "/api/v1/courses/an-toan-so", None, {"*": 200}),
    ("GET", "/api/v1/lessons/an-toan-so-01", None, {"*": 200}),
    ("GET", "/api/v1/quizzes/an-toan-so-bai-01", None, {"*": 200}),
    ("GET", "/api/v1/attempts/{attempt}", None, {"anonymous": 401, "owner": 200, "*": 404}),
    ("PUT", "/api/v1/attempts/{attempt}/answers/{question}", {"response": None},
     {"anonymous": 401, "owner": 200, "*": 404}),
    ("POST", "/api/v1/attempts/{attempt}/submission", {}, {"anonymous": 401, "owner": 200, "*": 404}),
    ("GET", "/api/v1/me/certificates", None, {"anonymous": 401, "*": 200}),
    ("GET", "/api/v1/certificates/{code}.pdf", None, {"anonymous": 401, "owner": 200, "*": 404}),
    ("GET", "/api/v1/certificates/{code}/credential.json", None, {"anonymous": 401, "owner": 200, "*": 404}),
    ("GET", "/api/v1/verify/{code}", None, {"*": 200}),
    # verifiable without an account, like the verify page: whoever holds the code
    ("GET", "/api/v1/certificates/{code}/credential.jwt", None, {"*": 200}),
    ("GET", "/api/v1/credentials/status/0", None, {"*": 200}),
    ("GET", "/api/v1/quizzes/an-toan-so-bai-01/statistics", None,
     {"anonymous": 401, "owner": 403, "other_citizen": 403, "*": 200}),
    ("GET", "/api/v1/reports/targets?unit=86&year=2026", None,
     {"anonymous": 401, "owner": 403, "other_citizen": 403, "trainer": 403, "manager_75": 403, "*": 200}),
    ("GET", "/api/v1/reports/targets?unit=75&year=2026", None,
     {"anonymous": 401, "owner": 403, "other_citizen": 403, "trainer": 403, "manager_86": 403, "*": 200}),
    ("GET", "/api/v1/me/mandates", None, {"anonymous": 401, "*": 200}),
    ("GET", "/api/v1/me/export", None, {"anonymous": 401, "*": 200}),
    ("POST", "/api/v1/lessons/an-toan-so-01/completion", {}, {"anonymous": 401, "*": 200}),
    # a draft is invisible through the API to everyone, its author included (they use the pages)
    ("GET", "/api/v1/quizzes/{draft}", None, {"*": 404}),
    ("POST", "/api/v1/quizzes/{draft}/attempts", {}, {"anonymous": 401, "*": 404}),
    ("GET", "/api/v1/quizzes/{draft}/statistics", None,
     {"anonymous": 401, "owner": 403, "other_citizen": 403, "*": 404}),
    # one's own password only: no account's id is in the path; a body without both fields is 400
    ("POST", "/api/v1/me/password", {}, {"anonymous": 401, "*": 400}),
]


@pytest.mark.parametrize(("method", "path", "body", "expected"), MATRIX, ids=[f"{m} {p}" for m, p, _, _ in MATRIX])
def test_matrix(client: FlaskClient, world: dict[str, Any], method: str, path: str, body: Any,
                expected: dict[str, int]) -> None:
    url = path.format(attempt=world["attempt"], question=world["question"], code=world["code"], draft=world["draft"])
    got = {}
    for role in ROLES:
        response = client.open(url, method=method, json=body, headers=world["tokens"][role])
        got[role] = response.status_code
    want = {role: expected.get(role, expected.get("*", 200)) for role in ROLES}
    # each row gets a fresh world (the fixture), so a submission in one row cannot close another row's attempt
    assert got == want


def test_every_api_route_has_a_row(app: Flask) -> None:
    covered = {(m, p.split("?")[0]) for m, p, _, _ in MATRIX}
    open_to_all = {("GET", "/api/v1/openapi.json"), ("POST", "/api/v1/tokens"), ("POST", "/api/v1/registrations"),
                   ("DELETE", "/api/v1/tokens/current"), ("POST", "/api/v1/quizzes/{quiz_id}/attempts"),
                   ("POST", "/api/v1/me/closure"), ("GET", "/api/v1/credentials/status/{number}")}
    for rule in app.url_map.iter_rules():
        if not rule.endpoint.startswith("lms_api.") or "<path:" in rule.rule:
            continue
        for method in rule.methods - {"HEAD", "OPTIONS"}:
            path = rule.rule.replace("<", "{").replace(">", "}")
            generic = {(m, _generic(p)) for m, p in covered}
            assert (method, path) in open_to_all or (method, _generic(path)) in generic, (method, path)


def _generic(path: str) -> str:
    import re

    path = re.sub(r"\{[^}]+\}", "{}", path)
    for concrete in ("an-toan-so-bai-01", "an-toan-so-01", "an-toan-so"):
        path = path.replace(concrete, "{}")
    return path
