"""Fuzz the JSON API against its own OpenAPI document (schemathesis, in-process over WSGI).

Every operation of ``/api/v1/openapi.json`` gets generated requests, valid and invalid, sent
as nobody or with a bearer token of a citizen, an official, a trainer, a manager or an admin,
against the real test database (rolled back afterwards). A response must never be a 5xx, and
its status, content type and body must be ones the document promises. Four cases in five swap
the random path parameters for ids that exist (courses, lessons, quizzes, the caller's own
attempts, certificates, report units), a registration's commune and login, or a token request's
login, so the fuzzer also reaches past the "not found" and "invalid" answers.

Generation is derandomized, so a run reproduces; rate limits are reset before every case.
"""

from __future__ import annotations

import itertools
from collections import Counter
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime

import pytest
import schemathesis
from flask import Flask
from hypothesis import HealthCheck, settings
from schemathesis.checks import not_a_server_error
from schemathesis.specs.openapi.checks import (
    content_type_conformance,
    response_headers_conformance,
    response_schema_conformance,
    status_code_conformance,
)
from sqlalchemy.orm import Session

from lms.services import catalogue, certificates, quizzes
from lms.store import User
from lms.web.limits import limiter
from tests import factories

MIN_CASES = 1000
ROLES = ("anonymous", "citizen", "official", "trainer", "manager", "admin")
CHECKS = [not_a_server_error, status_code_conformance, content_type_conformance, response_schema_conformance,
          response_headers_conformance]
# Operations that must answer 2xx at least once, or the fuzzer only ever met the error paths.
REACHED = {"POST /api/v1/tokens", "POST /api/v1/registrations", "GET /api/v1/courses/{course_id}",
           "POST /api/v1/lessons/{lesson_id}/completion", "POST /api/v1/quizzes/{quiz_id}/attempts",
           "PUT /api/v1/attempts/{attempt_id}/answers/{question_id}", "POST /api/v1/attempts/{attempt_id}/submission",
           "GET /api/v1/certificates/{code}/credential.json", "GET /api/v1/verify/{code}",
           "GET /api/v1/reports/targets", "GET /api/v1/quizzes/{quiz_id}/statistics"}
# Units a report may be asked for: the manager's own province, another province, a commune.
REPORT_UNITS = ("86", "75", factories.VINH_LONG_COMMUNE)


@dataclass
class World:
    """Accounts per role and real ids that the fuzzer may aim at."""

    session: Session
    accounts: dict[str, User] = field(default_factory=dict)
    course_ids: list[str] = field(default_factory=list)
    lesson_ids: list[str] = field(default_factory=list)
    quiz_ids: list[str] = field(default_factory=list)
    codes: list[str] = field(default_factory=list)
    attempts: dict[str, list[tuple[str, list[str]]]] = field(default_factory=dict)  # role -> (id, question ids)


_closing = itertools.count(1)
_tally: dict[str, int] = {"cases": 0, "started": 0}
# (operation, status) -> count: the final test checks the fuzzer got past the error answers.
_statuses: Counter[tuple[str, int]] = Counter()


@pytest.fixture()
def world(session: Session) -> Iterator[World]:
    w = World(session=session)
    now = datetime.now(UTC)
    units = {"citizen": factories.VINH_LONG_COMMUNE, "official": factories.VINH_LONG_COMMUNE, "trainer": "86",
             "manager": "86", "admin": None}
    for role, unit in units.items():
        w.accounts[role] = factories.user(session, role=role, unit_code=unit)
    courses = catalogue.list_courses(session)
    w.course_ids = [c.id for c in courses]
    for c in courses:
        w.lesson_ids += [le.id for le in catalogue.published_lessons(session, c.id)]
        w.quiz_ids += [q.id for q in quizzes.list_course_quizzes(session, c.id)]
    for role, user in w.accounts.items():
        w.codes.append(certificates.issue_by_staff(session, None, user.login, w.course_ids[0], now=now).code)
        w.attempts[role] = []
        for quiz_id in (w.quiz_ids[0], w.quiz_ids[-1]):
            attempt = quizzes.start_attempt(session, user, quiz_id, now=now)
            w.attempts[role].append((attempt.id, [snap["id"] for snap in attempt.layout]))
    session.commit()
    _tally["started"] = 1
    yield w


@pytest.fixture()
def api_schema(app: Flask, world: World) -> schemathesis.BaseSchema:
    return schemathesis.openapi.from_wsgi("/api/v1/openapi.json", app)


schema = schemathesis.pytest.from_fixture("api_schema")


def _aim_at_real_ids(case: schemathesis.Case, world: World, role: str, pick: int) -> None:
    params = case.path_parameters
    if isinstance(params, dict):
        for name, pool in (("course_id", world.course_ids), ("lesson_id", world.lesson_ids),
                           ("quiz_id", world.quiz_ids), ("code", world.codes)):
            if name in params:
                params[name] = pool[pick % len(pool)]
        if "attempt_id" in params:
            own = world.attempts.get(role) or world.attempts["citizen"]
            attempt_id, question_ids = own[pick % len(own)]
            params["attempt_id"] = attempt_id
            if "question_id" in params:
                params["question_id"] = question_ids[(pick // len(own)) % len(question_ids)]
    path = case.operation.path
    if path == "/api/v1/reports/targets":
        case.query = {"unit": REPORT_UNITS[pick % len(REPORT_UNITS)], "year": 2020 + pick % 10}
    elif path == "/api/v1/registrations" and isinstance(case.body, dict):
        # a commune that exists and a login of the right shape; the rest stays as generated
        case.body = {**case.body, "unit_code": factories.VINH_LONG_COMMUNE, "login": f"fuzz{pick}@example.vn"}
    elif path == "/api/v1/tokens" and isinstance(case.body, dict):
        account = world.accounts[role if role in world.accounts else "citizen"]
        case.body = {**case.body, "login": account.login}
        if pick % 2:
            case.body["password"] = factories.PASSWORD


def _bearer_for(world: World, role: str, closing: bool) -> str:
    session = world.session
    user = world.accounts[role]
    if closing:
        # Closing an account ends it for good: that request gets an account of its own, a copy
        # of the role's (hashing a password anew for each would dominate the run's time).
        user = User(login=f"closing{next(_closing)}@example.vn", full_name=user.full_name, role=role,
                    password_hash=user.password_hash, unit_code=user.unit_code, is_active=True,
                    credentials_version=1, created_at=datetime.now(UTC))
        session.add(user)
        session.flush()
    raw = factories.token(session, user)
    session.commit()
    return raw


@schema.parametrize()
@settings(max_examples=40, deadline=None, derandomize=True, database=None,
          suppress_health_check=[HealthCheck.too_slow, HealthCheck.filter_too_much, HealthCheck.data_too_large])
def test_every_response_is_one_the_document_promises(case: schemathesis.Case, world: World) -> None:
    n = _tally["cases"] = _tally["cases"] + 1
    # Who asks, and whether to aim at real ids, rotate with the case number (no @given: it
    # would switch off schemathesis' coverage phase, the boundary and odd-type cases).
    role = ROLES[n % len(ROLES)]
    pick = None if n % 5 == 0 else (n * 7919) % 10007
    limiter.reset()  # throttling is tested on its own; here it would only hide the deeper answers
    if pick is not None:
        _aim_at_real_ids(case, world, role, pick)
    if role != "anonymous":
        raw = _bearer_for(world, role, closing=case.operation.path == "/api/v1/me/closure")
        case.headers = {**(case.headers or {}), "Authorization": f"Bearer {raw}"}
    response = case.call_and_validate(checks=CHECKS)
    _statuses[(case.operation.label, response.status_code)] += 1


def test_the_fuzzer_generated_enough_cases() -> None:
    if not _tally["started"]:
        pytest.skip("the fuzz test did not run")
    print(f"{_tally['cases']} generated cases")  # shown with -rP
    assert _tally["cases"] >= MIN_CASES, f"only {_tally['cases']} cases generated"
    succeeded = {label for (label, status), _ in _statuses.items() if 200 <= status < 300}
    assert REACHED <= succeeded, f"never answered 2xx: {sorted(REACHED - succeeded)}"
