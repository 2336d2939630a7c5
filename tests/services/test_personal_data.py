from __future__ import annotations

import json

from flask.testing import FlaskClient
from sqlalchemy.orm import Session

from lms.services import accounts, catalogue, certificates
from lms.store import Course, User
from tests import factories
from tests.factories import now


def test_export_holds_everything_and_closing_keeps_certificates_verifiable(client: FlaskClient,
                                                                           session: Session) -> None:
    user = factories.user(session, full_name="Đặng Quỳnh Như")
    catalogue.complete_lesson(session, user, "an-toan-so-01", now=now())
    course = session.get(Course, "an-toan-so")
    assert course is not None
    cert = certificates.issue(session, user, course, now=now(), source="online")
    raw = factories.token(session, user)
    login = user.login
    session.commit()
    auth = factories.bearer(raw)
    data = client.get("/api/v1/me/export", headers=auth).json
    assert data["account"]["login"] == login and data["lesson_completions"][0]["lesson_id"] == "an-toan-so-01"
    assert data["certificates"][0]["code"] == cert.code
    assert "password" not in json.dumps(data)
    assert client.post("/api/v1/me/closure", json={}, headers=auth).status_code == 400
    assert client.post("/api/v1/me/closure", json={"confirm": True}, headers=auth).status_code == 204
    assert client.get("/api/v1/me", headers=auth).status_code == 401  # its tokens are gone
    session.expire_all()
    closed = session.get(User, user.id)
    assert closed is not None and closed.login != login and closed.birth_year is None and not closed.is_active
    assert accounts.authenticate(session, login, factories.PASSWORD) is None
    verified = client.get(f"/api/v1/verify/{cert.code}").json
    assert verified["valid"] is True and verified["holder"] == "Đặng Quỳnh Như"
