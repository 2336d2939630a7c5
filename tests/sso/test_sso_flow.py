"""Sign-in with a real OpenID Provider over HTTP: the request, first and later sign-ins, linking."""

from __future__ import annotations

import urllib.parse
from datetime import UTC, datetime

import pytest
from flask.testing import FlaskClient
from sqlalchemy import select
from sqlalchemy.orm import Session

from lms.store import User
from lms.store.models import Identity
from tests.conftest import csrf_token
from tests.sso.partner import CLIENT_ID, ISSUER, ProviderBrowser, ProviderControl, callback, start

pytestmark = pytest.mark.sso


def user_now() -> datetime:
    return datetime.now(UTC)


def _complete(client: FlaskClient, commune: str = "28756") -> None:
    token = csrf_token(client, "/login/oidc/complete")
    r = client.post("/login/oidc/complete", data={"csrf_token": token, "province": "86", "consent": "yes"})
    assert r.status_code == 200 and commune in r.get_data(as_text=True)
    r = client.post("/login/oidc/complete", data={"csrf_token": token, "province": "86", "unit_code": commune,
                                                  "consent": "yes"})
    assert r.status_code == 302, r.get_data(as_text=True)


def test_request_to_the_provider_uses_code_flow_pkce_state_and_nonce(sso_client: FlaskClient) -> None:
    q = dict(urllib.parse.parse_qsl(urllib.parse.urlsplit(start(sso_client)).query))
    assert q["response_type"] == "code" and q["client_id"] == CLIENT_ID
    assert q["code_challenge_method"] == "S256" and len(q["code_challenge"]) == 43
    assert len(q["state"]) >= 16 and len(q["nonce"]) >= 16
    assert q["redirect_uri"] == "http://localhost/login/oidc/callback"
    assert set(q["scope"].split()) == {"openid", "profile", "phone"}


def test_login_page_shows_the_provider_button_before_the_password_form(sso_client: FlaskClient) -> None:
    html = sso_client.get("/login").get_data(as_text=True)
    assert "Đăng nhập bằng VNeID" in html
    assert html.index("Đăng nhập bằng VNeID") < html.index('type="password"')


def test_first_sign_in_creates_a_citizen_asks_only_commune_and_consent(
        sso_client: FlaskClient, provider: ProviderControl, session: Session) -> None:
    provider.people(**{"an-1": {"name": "Nguyễn Thị An", "phone_number": "+84912345001",
                                "phone_number_verified": True, "national_id": "079123456789",
                                "picture": "https://idp.example/photo.jpg"}})
    url = ProviderBrowser().sign_in(start(sso_client, "/courses"), "an-1")
    r = callback(sso_client, url)
    assert r.status_code == 302 and r.headers["Location"].endswith("/login/oidc/complete")
    page = sso_client.get("/login/oidc/complete").get_data(as_text=True)
    assert 'name="province"' in page and 'name="consent"' in page
    assert 'name="full_name"' not in page and 'name="login"' not in page and 'name="password"' not in page
    # Until answered, the site's pages lead back to the question page.
    waiting = sso_client.get("/courses")
    assert waiting.status_code == 302 and waiting.headers["Location"].endswith("/login/oidc/complete")
    # The wait left no request's actor behind for work done outside any request.
    from lms.services import audit

    assert audit.record(session, "test.outside", "test", 1, now=user_now()).actor_id is None
    _complete(sso_client)
    assert sso_client.get("/courses").status_code == 200
    user = session.scalar(select(User).where(User.login == "0912345001"))
    assert user is not None and user.full_name == "Nguyễn Thị An" and user.role == "citizen"
    assert user.unit_code == "28756" and user.consent_at is not None
    assert user.password_hash.startswith("!")  # no password to forget, none to guess
    identity = session.scalar(select(Identity).where(Identity.user_id == user.id))
    assert identity is not None and (identity.issuer, identity.subject, identity.protocol) == (ISSUER, "an-1", "oidc")
    # The ID-card number and the photo went nowhere: not in any column of the account.
    stored = " ".join(str(getattr(user, c.key)) for c in User.__table__.columns)
    assert "079123456789" not in stored and "photo" not in stored
    me = sso_client.get("/me").get_data(as_text=True)
    assert "Nguyễn Thị An" in me and "an-1" in me


def test_second_sign_in_opens_the_same_account_and_honours_next(
        sso_client: FlaskClient, provider: ProviderControl, session: Session) -> None:
    provider.people(**{"binh-1": {"name": "Trần Văn Bình", "phone_number": "0912345002",
                                  "phone_number_verified": True}})
    callback(sso_client, ProviderBrowser().sign_in(start(sso_client), "binh-1"))
    _complete(sso_client)
    sso_client.post("/logout", data={"csrf_token": csrf_token(sso_client, "/")})
    assert sso_client.get("/me").status_code == 302
    r = callback(sso_client, ProviderBrowser().sign_in(start(sso_client, "/courses"), "binh-1"))
    assert r.status_code == 302 and urllib.parse.urlsplit(r.headers["Location"]).path == "/courses"
    assert len(list(session.scalars(select(User).where(User.full_name == "Trần Văn Bình")))) == 1


def test_next_off_site_is_ignored(sso_client: FlaskClient, provider: ProviderControl) -> None:
    provider.people(**{"cuong-1": {"name": "Lê Cường"}})
    callback(sso_client, ProviderBrowser().sign_in(start(sso_client, "//evil.example/x"), "cuong-1"))
    _complete(sso_client)
    sso_client.post("/logout", data={"csrf_token": csrf_token(sso_client, "/")})
    r = callback(sso_client, ProviderBrowser().sign_in(start(sso_client, "//evil.example/x"), "cuong-1"))
    assert r.status_code == 302 and r.headers["Location"] in ("/", "http://localhost/")


def test_api_me_lists_identities(sso_client: FlaskClient, provider: ProviderControl, session: Session) -> None:
    from datetime import UTC, datetime, timedelta

    from lms.services import accounts

    provider.people(**{"dung-1": {"name": "Phạm Dung"}})
    callback(sso_client, ProviderBrowser().sign_in(start(sso_client), "dung-1"))
    identity = session.scalar(select(Identity).where(Identity.subject == "dung-1"))
    assert identity is not None
    raw, _ = accounts.issue_token(session, identity.user, now=datetime.now(UTC), lifetime=timedelta(hours=1))
    session.flush()
    body = sso_client.get("/api/v1/me", headers={"Authorization": f"Bearer {raw}"}).get_json()
    assert body["identities"] == [{"issuer": ISSUER, "subject": "dung-1"}]
    assert {"id", "login", "full_name", "role", "unit_code"} <= set(body)


def test_mounted_under_a_prefix_in_a_host_site(database_url: str, connection: object,
                                               provider: ProviderControl) -> None:
    from flask import Flask
    from sqlalchemy.orm import sessionmaker

    from lms import LMS
    from tests.sso.partner import CLIENT_SECRET

    host = Flask("provincial_portal")
    host.config.update(LMS_DATABASE_URL=database_url, LMS_SECRET_KEY="h" * 40, TESTING=True,
                       LMS_OIDC_ISSUER=provider.issuer, LMS_OIDC_CLIENT_ID=CLIENT_ID,
                       LMS_OIDC_CLIENT_SECRET=CLIENT_SECRET, LMS_OIDC_NAME="Cổng dịch vụ công tỉnh")

    @host.get("/")
    def home() -> str:
        return "cổng thông tin tỉnh"

    state = LMS().init_app(host, url_prefix="/hoc")
    state.sessionmaker = sessionmaker(bind=connection, join_transaction_mode="create_savepoint")
    c = host.test_client()
    assert "Đăng nhập bằng Cổng dịch vụ công tỉnh" in c.get("/hoc/login").get_data(as_text=True)
    r = c.get("/hoc/login/oidc")
    q = dict(urllib.parse.parse_qsl(urllib.parse.urlsplit(r.headers["Location"]).query))
    assert r.status_code == 302 and q["redirect_uri"] == "http://localhost/hoc/login/oidc/callback"
    assert c.get("/login/oidc").status_code == 404 and c.get("/").status_code == 200
