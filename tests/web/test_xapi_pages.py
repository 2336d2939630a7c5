"""Learning records seen from the site: a completion through the API writes its statement in the
request's transaction; /healthz/xapi and the admin page show what waits for the LRS."""

from __future__ import annotations

from dataclasses import replace

from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import select
from sqlalchemy.orm import Session

from lms.config import Settings
from lms.services import statements
from lms.store.models import XapiStatement
from tests import factories
from tests.conftest import csrf_token


def _bind(app: Flask, settings: Settings) -> None:
    # no LRS needs to answer here: nothing is sent, only written and counted
    statements.bind(app.extensions["lms"].sessionmaker, replace(settings, xapi_endpoint="http://127.0.0.1:9/xAPI/"))


def test_a_completion_through_the_api_is_queued_and_counted(app: Flask, client: FlaskClient, session: Session,
                                                            settings: Settings) -> None:
    _bind(app, settings)
    user = factories.user(session)
    raw = factories.token(session, user)
    session.commit()
    before = client.get("/healthz/xapi").get_json()
    r = client.post("/api/v1/lessons/an-toan-so-01/completion", json={}, headers=factories.bearer(raw))
    assert r.status_code in (200, 201)
    client.post("/api/v1/lessons/an-toan-so-01/completion", json={}, headers=factories.bearer(raw))  # again
    after = client.get("/healthz/xapi").get_json()
    assert after["pending"] == before["pending"] + 1 and after["enabled"] is True
    with app.extensions["lms"].sessionmaker() as s:
        body = s.scalars(select(XapiStatement.body).order_by(XapiStatement.seq.desc())).first()
    assert body is not None and user.login not in body and "/lessons/an-toan-so-01" in body


def test_the_admin_page_shows_the_pending_count_to_admins_only(app: Flask, client: FlaskClient,
                                                                session: Session) -> None:
    citizen = factories.user(session)
    admin = factories.user(session, role="admin", unit_code="86")
    session.commit()
    client.post("/login", data={"csrf_token": csrf_token(client, "/login"), "login": citizen.login,
                                "password": factories.PASSWORD})
    assert client.get("/admin/xapi").status_code == 403
    client.post("/logout", data={"csrf_token": csrf_token(client, "/")})
    client = app.test_client()
    client.post("/login", data={"csrf_token": csrf_token(client, "/login"), "login": admin.login,
                                "password": factories.PASSWORD})
    page = client.get("/admin/xapi?lang=vi").get_data(as_text=True)
    assert 'id="xapi-pending">0<' in page and "LMS_XAPI_ENDPOINT" in page
    assert "Waiting for the store" in client.get("/admin/xapi?lang=en").get_data(as_text=True)
