"""Failure and attack: each refusal shows a clear Vietnamese page, signs nobody in, and is audited."""

from __future__ import annotations

import urllib.parse

import pytest
from flask.testing import FlaskClient
from sqlalchemy import Connection, select
from sqlalchemy.orm import Session, sessionmaker

from lms import create_app
from lms.config import Settings
from lms.store import AuditEvent, User
from lms.store.models import Identity
from tests.sso.partner import ProviderBrowser, ProviderControl, callback, sso_settings, start

pytestmark = pytest.mark.sso


def _refused(client: FlaskClient, session: Session, response: object, reason: str, words: str) -> None:
    html = response.get_data(as_text=True)  # type: ignore[attr-defined]
    assert 400 <= response.status_code < 600 and response.status_code != 500, html[:300]  # type: ignore[attr-defined]
    assert words in html, html[:600]
    assert "Đăng xuất" not in html
    assert client.get("/me").status_code == 302  # still nobody
    events = list(session.scalars(select(AuditEvent).where(AuditEvent.action == "sso.refused")))
    assert reason in [e.object_id for e in events], [e.object_id for e in events]


def _with_state(url: str, state: str) -> str:
    parts = urllib.parse.urlsplit(url)
    query = [(k, state if k == "state" else v) for k, v in urllib.parse.parse_qsl(parts.query)]
    return parts._replace(query=urllib.parse.urlencode(query)).geturl()


def test_forged_state_is_refused_before_the_code_is_spent(
        sso_client: FlaskClient, provider: ProviderControl, session: Session) -> None:
    url = ProviderBrowser().sign_in(start(sso_client), "eve-1")
    tokens_before = provider.stats()["tokens"]
    r = callback(sso_client, _with_state(url, "forged-state-forged-state"))
    _refused(sso_client, session, r, "state", "Phiên đăng nhập không khớp")
    assert provider.stats()["tokens"] == tokens_before


def test_callback_in_another_browser_is_refused(sso_client: FlaskClient, sso_app: object,
                                                provider: ProviderControl, session: Session) -> None:
    url = ProviderBrowser().sign_in(start(sso_client), "eve-2")
    other = sso_app.test_client()  # type: ignore[attr-defined]
    r = callback(other, url)
    _refused(other, session, r, "state", "Phiên đăng nhập không khớp")


def test_replayed_code_is_refused(sso_client: FlaskClient, sso_app: object, provider: ProviderControl,
                                  session: Session) -> None:
    url = ProviderBrowser().sign_in(start(sso_client), "replay-1")
    assert callback(sso_client, url).status_code == 302
    code = dict(urllib.parse.parse_qsl(urllib.parse.urlsplit(url).query))["code"]
    thief = sso_app.test_client()  # type: ignore[attr-defined]
    fresh = dict(urllib.parse.parse_qsl(urllib.parse.urlsplit(start(thief)).query))
    r = thief.get("/login/oidc/callback", query_string={"code": code, "state": fresh["state"]})
    _refused(thief, session, r, "code", "Mã đăng nhập đã hết hiệu lực")


@pytest.mark.parametrize(("mode", "reason", "words"), [
    ("aud", "audience", "không dành cho trang này"),
    ("expired", "expired", "đã hết hạn"),
    ("iss", "issuer", "đến từ nơi khác"),
    ("future", "token", "không hợp lệ"),
    ("nonce", "token", "không hợp lệ"),
    ("unknown-key", "token", "không hợp lệ"),
])
def test_bad_id_tokens_are_refused(sso_client: FlaskClient, provider: ProviderControl, session: Session,
                                   mode: str, reason: str, words: str) -> None:
    url = ProviderBrowser().sign_in(start(sso_client), f"{mode}-1")
    provider.tamper(mode)
    r = callback(sso_client, url)
    _refused(sso_client, session, r, reason, words)
    assert session.scalar(select(Identity).where(Identity.subject == f"{mode}-1")) is None


def test_a_rotated_signing_key_is_fetched_and_accepted(sso_client: FlaskClient, provider: ProviderControl,
                                                       session: Session) -> None:
    callback(sso_client, ProviderBrowser().sign_in(start(sso_client), "rotate-1"))  # the old key is cached
    fetched = provider.stats()["jwks"]
    provider.rotate()
    sso_client.post("/logout", data={"csrf_token": _csrf(sso_client)})
    r = callback(sso_client, ProviderBrowser().sign_in(start(sso_client), "rotate-1"))
    assert r.status_code == 302 and "sso_error" not in r.get_data(as_text=True)
    assert provider.stats()["jwks"] == fetched + 1


def _csrf(client: FlaskClient) -> str:
    from tests.conftest import csrf_token

    return csrf_token(client, "/login/oidc/complete")  # a first sign-in waits on this page


def test_denied_consent_is_refused(sso_client: FlaskClient, provider: ProviderControl, session: Session) -> None:
    url = ProviderBrowser().deny(start(sso_client), "deny-1")
    assert "error=access_denied" in url
    r = callback(sso_client, url)
    _refused(sso_client, session, r, "denied", "Bạn đã không cho phép chia sẻ thông tin")


def test_a_response_naming_another_issuer_is_refused(sso_client: FlaskClient, provider: ProviderControl,
                                                     session: Session) -> None:
    url = ProviderBrowser().sign_in(start(sso_client), "mixup-1")
    parts = urllib.parse.urlsplit(url)
    query = [(k, "https://idp.example.invalid" if k == "iss" else v) for k, v in urllib.parse.parse_qsl(parts.query)]
    r = callback(sso_client, parts._replace(query=urllib.parse.urlencode(query)).geturl())
    _refused(sso_client, session, r, "issuer", "đến từ nơi khác")


def test_provider_down_shows_a_page(settings: Settings, connection: Connection, session: Session) -> None:
    from lms.web.limits import limiter

    app = create_app(sso_settings(settings, issuer="http://127.0.0.1:9"))  # nothing listens on port 9
    app.config["TESTING"] = True
    app.extensions["lms"].sessionmaker = sessionmaker(bind=connection, join_transaction_mode="create_savepoint",
                                                      expire_on_commit=False)
    limiter.reset()
    client = app.test_client()
    r = client.get("/login/oidc")
    _refused(client, session, r, "provider_down", "Không kết nối được với hệ thống định danh")
    assert r.status_code == 503


def test_discovery_naming_another_issuer_is_refused(settings: Settings, connection: Connection,
                                                    provider: ProviderControl, session: Session) -> None:
    from lms.web.limits import limiter

    # Configured with a trailing slash the provider does not use: its discovery names another issuer.
    app = create_app(sso_settings(settings, issuer=provider.issuer + "/"))
    app.config["TESTING"] = True
    app.extensions["lms"].sessionmaker = sessionmaker(bind=connection, join_transaction_mode="create_savepoint",
                                                      expire_on_commit=False)
    limiter.reset()
    client = app.test_client()
    _refused(client, session, client.get("/login/oidc"), "issuer", "đến từ nơi khác")


def test_nothing_changes_when_unset(client: FlaskClient, settings: Settings) -> None:
    assert settings.oidc_issuer is None
    assert client.get("/login/oidc").status_code == 404
    assert "Đăng nhập bằng" not in client.get("/login").get_data(as_text=True)


def test_closed_account_cannot_sign_in(sso_client: FlaskClient, provider: ProviderControl, session: Session) -> None:
    from tests.conftest import csrf_token

    callback(sso_client, ProviderBrowser().sign_in(start(sso_client), "closed-1"))
    sso_client.post("/logout", data={"csrf_token": csrf_token(sso_client, "/login/oidc/complete")})
    identity = session.scalar(select(Identity).where(Identity.subject == "closed-1"))
    assert identity is not None
    user = session.get(User, identity.user_id)
    assert user is not None
    user.is_active = False
    session.flush()
    r = callback(sso_client, ProviderBrowser().sign_in(start(sso_client), "closed-1"))
    _refused(sso_client, session, r, "account", "Tài khoản đã bị khóa")




def test_a_token_endpoint_error_is_refused(settings: Settings, connection: Connection, provider: ProviderControl,
                                           session: Session) -> None:
    from dataclasses import replace

    from lms.web.limits import limiter

    app = create_app(replace(sso_settings(settings), oidc_client_secret="not-the-secret"))
    app.config["TESTING"] = True
    app.extensions["lms"].sessionmaker = sessionmaker(bind=connection, join_transaction_mode="create_savepoint",
                                                      expire_on_commit=False)
    limiter.reset()
    client = app.test_client()
    r = callback(client, ProviderBrowser().sign_in(start(client), "secret-1"))
    _refused(client, session, r, "provider_error", "Hệ thống định danh báo lỗi")


def test_a_browser_keeps_only_its_newest_sign_ins_and_none_past_their_time(
        sso_client: FlaskClient, provider: ProviderControl, session: Session) -> None:
    from lms.web.sso import FLOWS_KEPT

    first = start(sso_client)
    for _ in range(10):  # back, back, the button again: the cookie must not grow without end
        latest = start(sso_client)
    with sso_client.session_transaction() as cookie:
        assert len([k for k in cookie if k.startswith("_state_")]) == FLOWS_KEPT
    old = callback(sso_client, ProviderBrowser().sign_in(first, "old-flow-1"))
    _refused(sso_client, session, old, "state", "Phiên đăng nhập không khớp")
    url = ProviderBrowser().sign_in(latest, "late-1")
    with sso_client.session_transaction() as cookie:
        for key in [k for k in cookie if k.startswith("_state_")]:
            cookie[key] = {**cookie[key], "exp": 1.0}  # begun long ago
    _refused(sso_client, session, callback(sso_client, url), "state", "Phiên đăng nhập không khớp")


def test_refusal_pages_are_translated(sso_client: FlaskClient, provider: ProviderControl, session: Session) -> None:
    r = sso_client.get("/login/oidc/callback", query_string={"code": "x", "state": "forged-state-forged", "lang": "en"})
    html = r.get_data(as_text=True)
    assert r.status_code == 400 and "The sign-in session does not match" in html
    assert "Phiên đăng nhập không khớp" not in html
