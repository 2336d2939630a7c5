"""Every page × every role × own object and someone else's → the expected status.

The companion of test_authorisation.py (the API). Anonymous visitors are sent to log in (302)
where a page needs an account; someone else's attempt, result or certificate is "not found"
(404), never "forbidden", so that codes and ids reveal nothing. A new page route without a row
fails `test_every_page_route_has_a_row`."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from flask import Flask
from sqlalchemy.orm import Session

from lms.services import certificates, classes, jobs, quizzes
from lms.store import Course
from lms.web.page_blueprint import PageBlueprint
from tests import factories
from tests.conftest import csrf_token
from tests.factories import now
from tests.shared_dir import SHARED

ROLES = ("anonymous", "owner", "other_citizen", "official", "trainer", "other_trainer", "manager_86",
         "manager_75", "admin")


@pytest.fixture()
def world(app: Flask, session: Session) -> dict[str, Any]:
    owner = factories.user(session)
    people = {"owner": owner, "other_citizen": factories.user(session),
              "official": factories.user(session, role="official"),
              "trainer": factories.user(session, role="trainer", unit_code="86"),
              "other_trainer": factories.user(session, role="trainer", unit_code="86"),
              "manager_86": factories.user(session, role="manager", unit_code="86"),
              "manager_75": factories.user(session, role="manager", unit_code="75"),
              "admin": factories.user(session, role="admin", unit_code=None)}
    open_attempt = quizzes.start_attempt(session, owner, "an-toan-so-bai-01", now=now())
    done = quizzes.start_attempt(session, owner, "dich-vu-cong-bai-01", now=now())
    quizzes.submit_attempt(session, owner, done.id, now=now())
    course = session.get(Course, "an-toan-so")
    assert course is not None
    cert = certificates.issue(session, owner, course, now=now(), source="in_person")
    cert.pdf, cert.pdf_status = b"%PDF-1.7 test", "ready"
    quiz_id, _, _ = quizzes.import_file(session, Path(SHARED) / "accept" / "sample_quiz.gift",
                                        course_id="tri-tue-nhan-tao", fmt=None, now=now(),
                                        owner_id=people["trainer"].id)
    draft_id, _, _ = quizzes.import_file(session, Path(SHARED) / "accept" / "sample_quiz.gift",
                                         course_id="tri-tue-nhan-tao", fmt=None, now=now(),
                                         owner_id=people["trainer"].id, draft=True)
    factories.co_owner(session, people["trainer"], "course", "an-toan-so")
    klass = classes.create_class(session, people["trainer"], title="Lớp VNeID", held_on=now(), place="UBND",
                                 unit_code="28756", course_id="dich-vu-cong")
    job = jobs.create(session, kind="report_export", owner=owner, now=now(), total=1)
    session.commit()
    clients = {}
    for role in ROLES:
        client = app.test_client()
        if role != "anonymous":
            client.post("/login", data={"csrf_token": csrf_token(client, "/login"), "login": people[role].login,
                                        "password": factories.PASSWORD})
        clients[role] = client
    return {"clients": clients, "attempt": open_attempt.id, "result": done.id, "code": cert.code, "quiz": quiz_id,
            "class": klass.id, "job": job.id, "draft": draft_id}


LOGIN = 302  # sent to the log-in page
AUTHORS = {"anonymous": LOGIN, "owner": 403, "other_citizen": 403, "official": 403}  # managers author too
MANAGERS = {"anonymous": LOGIN, "owner": 403, "other_citizen": 403, "official": 403, "trainer": 403,
            "other_trainer": 403}

# (path template, {role: expected status}); "*" is every role not listed
PAGES: list[tuple[str, dict[str, int]]] = [
    ("/", {"*": 200}),
    ("/courses", {"*": 200}),
    ("/courses/an-toan-so", {"*": 200}),
    ("/lessons/an-toan-so-01", {"*": 200}),
    ("/login", {"*": 200}),
    ("/register", {"*": 200}),
    ("/offline", {"*": 200}),
    ("/verify/{code}", {"*": 200}),
    ("/verify", {"*": 200}),
    ("/me", {"anonymous": LOGIN, "*": 200}),
    ("/me/data", {"anonymous": LOGIN, "*": 200}),
    ("/me/password", {"anonymous": LOGIN, "*": 200}),
    ("/first-password", {"*": 200}),
    ("/manager/setup-codes", {**MANAGERS, "*": 200}),
    ("/me/data.json", {"anonymous": LOGIN, "*": 200}),
    ("/me/certificates", {"anonymous": LOGIN, "*": 200}),
    ("/me/certificates/{code}.pdf", {"anonymous": LOGIN, "owner": 200, "*": 404}),
    ("/quizzes/an-toan-so-bai-01", {"*": 200}),
    ("/attempts/{attempt}", {"anonymous": LOGIN, "owner": 200, "*": 404}),
    ("/attempts/{result}/result", {"anonymous": LOGIN, "owner": 200, "*": 404}),
    ("/jobs/{job}", {"anonymous": LOGIN, "owner": 200, "admin": 200, "*": 403}),
    ("/jobs", {"anonymous": LOGIN, "*": 200}),
    ("/trainer", {**AUTHORS, "*": 200}),
    ("/trainer/import", {**AUTHORS, "*": 200}),
    ("/trainer/quizzes/{quiz}/preview", {**AUTHORS, "*": 200}),
    ("/trainer/quizzes/{quiz}/statistics", {**AUTHORS, "*": 200}),
    # a bank is edited by its owner (or an admin) only; lessons by the course's co-owners and admins
    ("/trainer/quizzes/{quiz}/edit", {**AUTHORS, "other_trainer": 403, "manager_86": 403, "manager_75": 403,
                                      "*": 200}),
    ("/trainer/lessons/an-toan-so-01/edit", {**AUTHORS, "other_trainer": 403, "manager_86": 403,
                                             "manager_75": 403, "*": 200}),
    # a draft exists only for those who may change it: its owner and admins
    ("/trainer/quizzes/{draft}/preview", {**AUTHORS, "other_trainer": 404, "manager_86": 404, "manager_75": 404,
                                          "*": 200}),
    ("/trainer/quizzes/{draft}/statistics", {**AUTHORS, "other_trainer": 404, "manager_86": 404,
                                             "manager_75": 404, "*": 200}),
    ("/trainer/quizzes/{draft}/edit", {**AUTHORS, "other_trainer": 404, "manager_86": 404, "manager_75": 404,
                                       "*": 200}),
    ("/quizzes/{draft}", {"*": 404}),
    # a quiz from quizzes/ changes only through its file: nobody edits it in the browser
    ("/trainer/quizzes/an-toan-so-cuoi-khoa/edit", {**AUTHORS, "*": 403}),
    ("/trainer/classes", {**AUTHORS, "*": 200}),
    ("/trainer/classes/{class}", {**AUTHORS, "other_trainer": 403, "manager_75": 403, "*": 200}),
    ("/manager", {**MANAGERS, "*": 200}),
    ("/manager?unit=75", {**MANAGERS, "manager_86": 403, "*": 200}),
    ("/manager/report.csv?unit=86", {**MANAGERS, "manager_75": 403, "*": 200}),
    ("/manager/certificates.csv?unit=86", {**MANAGERS, "manager_75": 403, "*": 200}),
    ("/manager/mandates", {**MANAGERS, "*": 200}),
    ("/manager/teams", {**MANAGERS, "*": 200}),
    ("/manager/population?unit=86", {**MANAGERS, "manager_75": 403, "*": 200}),
    ("/admin/xapi", {"anonymous": LOGIN, "admin": 200, "*": 403}),
]


def test_page_matrix(world: dict[str, Any]) -> None:
    """One world for all rows (GETs change nothing, and nine log-ins per row would be slow);
    every mismatch is reported at once."""
    wrong = {}
    for path, expected in PAGES:
        url = path.format(**{k: world[k] for k in ("attempt", "result", "code", "quiz", "class", "job", "draft")})
        got = {role: world["clients"][role].get(url).status_code for role in ROLES}
        want = {role: expected.get(role, expected.get("*", 200)) for role in ROLES}
        if got != want:
            wrong[path] = {role: (got[role], want[role]) for role in ROLES if got[role] != want[role]}
    assert wrong == {}, "(got, wanted) per role"


def test_every_page_route_has_a_row(app: Flask) -> None:
    import re

    def generic(path: str) -> str:
        path = re.sub(r"\{[^}]+\}|<[^>]+>", "{}", path.split("?")[0])
        for concrete in ("an-toan-so-bai-01", "an-toan-so-01", "an-toan-so"):
            path = path.replace(concrete, "{}")
        return path

    covered = {generic(p) for p, _ in PAGES}
    # reached only by a form (POST), as a file of a course, or as the service worker itself
    elsewhere = {"/logout", "/settings/text-size", "/settings/language", "/lessons/{}/completion",
                 "/quizzes/{}/attempts", "/attempts/{}/answers/{}", "/courses/{}/assets/{}", "/sw.js",
                 "/static/{}", "/healthz", "/jobs/{}/file", "/jobs/{}/resume", "/manager/exports",
                 "/manager/certificates/regenerate",
                 "/manager/report.{}", "/trainer/quizzes/{}/publish"}
    for rule in app.url_map.iter_rules():
        if not isinstance(app.blueprints.get(rule.endpoint.rpartition(".")[0]), PageBlueprint):
            continue
        path = generic(rule.rule)
        assert path in covered or path in elsewhere, rule.rule
