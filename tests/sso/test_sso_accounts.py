"""Accounts behind single sign-on: linking without takeover, roster officials, the unit's rule,
identities at /me, signing out."""

from __future__ import annotations

import re
import urllib.parse

import pytest
from flask.testing import FlaskClient
from sqlalchemy import select
from sqlalchemy.orm import Session

from lms.services import accounts
from lms.services.roster import UNUSABLE_PASSWORD
from lms.store import AuditEvent, User
from lms.store.models import Identity
from tests import factories
from tests.conftest import csrf_token
from tests.sso.partner import ISSUER, ProviderBrowser, ProviderControl, callback, start

pytestmark = pytest.mark.sso


def _citizen_with_login(session: Session, login: str) -> User:
    user = accounts.create_user(session, role="citizen", login=login, password=factories.PASSWORD,
                                full_name="Võ Thị Hoa", unit_code=factories.VINH_LONG_COMMUNE, now=factories.now())
    user.consent_at = factories.now()
    session.flush()
    return user


def _official(session: Session, login: str, unit_code: str = factories.VINH_LONG_COMMUNE) -> User:
    user = User(login=login, full_name="Đặng Văn Quan", password_hash=UNUSABLE_PASSWORD, role="official",
                unit_code=unit_code, created_at=factories.now(), credentials_version=1, is_active=True)
    session.add(user)
    session.flush()
    return user


def test_verified_phone_of_an_existing_account_links_only_after_its_password(
        sso_client: FlaskClient, provider: ProviderControl, session: Session) -> None:
    hoa = _citizen_with_login(session, "0913000001")
    provider.people(**{"hoa-1": {"name": "Võ Thị Hoa", "phone_number": "+84913000001",
                                 "phone_number_verified": True}})
    r = callback(sso_client, ProviderBrowser().sign_in(start(sso_client, "/courses"), "hoa-1"))
    assert r.status_code == 302 and r.headers["Location"].endswith("/login/oidc/link")
    assert sso_client.get("/me").status_code == 302  # not signed in yet: no silent takeover
    page = sso_client.get("/login/oidc/link").get_data(as_text=True)
    assert "0913000001" in page and 'type="password"' in page
    token = csrf_token(sso_client, "/login/oidc/link")
    wrong = sso_client.post("/login/oidc/link", data={"csrf_token": token, "password": "not-the-password"})
    assert wrong.status_code == 401 and sso_client.get("/me").status_code == 302
    assert session.scalar(select(Identity).where(Identity.subject == "hoa-1")) is None
    right = sso_client.post("/login/oidc/link", data={"csrf_token": token, "password": factories.PASSWORD})
    assert right.status_code == 302 and urllib.parse.urlsplit(right.headers["Location"]).path == "/courses"
    identity = session.scalar(select(Identity).where(Identity.subject == "hoa-1"))
    assert identity is not None and identity.user_id == hoa.id
    assert "Võ Thị Hoa" in sso_client.get("/me").get_data(as_text=True)
    sso_client.post("/logout", data={"csrf_token": csrf_token(sso_client, "/")})
    again = callback(sso_client, ProviderBrowser().sign_in(start(sso_client), "hoa-1"))
    assert again.status_code == 302 and not again.headers["Location"].endswith("/link")


def test_an_unverified_phone_never_reaches_an_existing_account(
        sso_client: FlaskClient, provider: ProviderControl, session: Session) -> None:
    hoa = _citizen_with_login(session, "0913000002")
    provider.people(**{"mallory-1": {"name": "Kẻ Giả Mạo", "phone_number": "0913000002",
                                     "phone_number_verified": False}})
    r = callback(sso_client, ProviderBrowser().sign_in(start(sso_client), "mallory-1"))
    assert r.status_code == 302 and r.headers["Location"].endswith("/login/oidc/complete")
    identity = session.scalar(select(Identity).where(Identity.subject == "mallory-1"))
    assert identity is not None and identity.user_id != hoa.id
    assert identity.user.login.startswith("sso-")


def test_a_roster_official_signs_in_with_a_matching_verified_phone(
        sso_client: FlaskClient, provider: ProviderControl, session: Session) -> None:
    quan = _official(session, "0913000003")
    provider.people(**{"quan-1": {"name": "Đặng Văn Quan", "phone_number": "+84 913 000 003",
                                  "phone_number_verified": True}})
    r = callback(sso_client, ProviderBrowser().sign_in(start(sso_client, "/me"), "quan-1"))
    assert r.status_code == 302 and urllib.parse.urlsplit(r.headers["Location"]).path == "/me"
    assert "Đặng Văn Quan" in sso_client.get("/me").get_data(as_text=True)
    identity = session.scalar(select(Identity).where(Identity.subject == "quan-1"))
    assert identity is not None and identity.user_id == quan.id
    event = session.scalar(select(AuditEvent).where(AuditEvent.action == "sso.link"))
    assert event is not None and event.detail["how"] == "roster"


def test_a_roster_official_signs_in_with_a_matching_verified_email(
        sso_client: FlaskClient, provider: ProviderControl, session: Session) -> None:
    quan = _official(session, "quan.dv@vinhlong.gov.vn")
    provider.people(**{"quan-2": {"name": "Đặng Văn Quan", "email": "Quan.DV@vinhlong.gov.vn",
                                  "email_verified": True}})
    # A deployment asking e-mail too sets LMS_OIDC_SCOPES="openid profile phone email"; here the
    # authorization request is widened the same way.
    authorize = start(sso_client).replace("scope=openid+profile+phone", "scope=openid+profile+phone+email")
    r = callback(sso_client, ProviderBrowser().sign_in(authorize, "quan-2"))
    assert r.status_code == 302
    identity = session.scalar(select(Identity).where(Identity.subject == "quan-2"))
    assert identity is not None and identity.user_id == quan.id


def test_a_unit_requiring_sso_stops_its_officials_passwords(
        sso_client: FlaskClient, provider: ProviderControl, session: Session) -> None:
    manager = factories.user(session, role="manager", unit_code="86")
    official = factories.user(session, role="official")
    elsewhere = factories.user(session, role="official", unit_code="00004")  # Hà Nội
    login = sso_client.post("/login", data={"csrf_token": csrf_token(sso_client, "/login"),
                                            "login": manager.login, "password": factories.PASSWORD})
    assert login.status_code == 302
    page = sso_client.get("/manager?unit=28756").get_data(as_text=True)
    assert 'name="officials_sso_only"' in page
    token = csrf_token(sso_client, "/manager?unit=28756")
    r = sso_client.post("/manager/sso", data={"csrf_token": token, "unit": "28756", "officials_sso_only": "yes"})
    assert r.status_code == 302
    assert sso_client.post("/manager/sso", data={"csrf_token": token, "unit": "00004",
                                                  "officials_sso_only": "yes"}).status_code == 403
    sso_client.post("/logout", data={"csrf_token": csrf_token(sso_client, "/")})
    refused = sso_client.post("/login", data={"csrf_token": csrf_token(sso_client, "/login"),
                                              "login": official.login, "password": factories.PASSWORD})
    assert refused.status_code == 403 and "định danh điện tử" in refused.get_data(as_text=True)
    assert sso_client.get("/me").status_code == 302
    api = sso_client.post("/api/v1/tokens", json={"login": official.login, "password": factories.PASSWORD})
    assert api.status_code == 403
    other = sso_client.post("/login", data={"csrf_token": csrf_token(sso_client, "/login"),
                                            "login": elsewhere.login, "password": factories.PASSWORD})
    assert other.status_code == 302
    assert session.scalar(select(AuditEvent).where(AuditEvent.action == "sso.policy")) is not None


def test_identities_at_me_can_be_removed_but_not_the_last_way_in(
        sso_client: FlaskClient, provider: ProviderControl, session: Session) -> None:
    callback(sso_client, ProviderBrowser().sign_in(start(sso_client), "only-1"))
    identity = session.scalar(select(Identity).where(Identity.subject == "only-1"))
    assert identity is not None
    user = identity.user
    user.unit_code, user.consent_at = factories.VINH_LONG_COMMUNE, factories.now()
    session.flush()
    page = sso_client.get("/me").get_data(as_text=True)
    assert ISSUER in page and "only-1" in page
    remove = re.search(r'action="(/me/identities/\d+/delete)"', page)
    assert remove
    token = csrf_token(sso_client, "/me")
    r = sso_client.post(remove.group(1), data={"csrf_token": token})
    assert r.status_code == 302
    assert "cách đăng nhập duy nhất" in sso_client.get("/me").get_data(as_text=True)
    assert session.get(Identity, identity.id) is not None
    accounts.change_password(session, user, "Mot-mat-khau-moi-2026")
    session.flush()
    # The password change signs out other sessions, this one included: sign in again with it.
    sso_client.post("/login", data={"csrf_token": csrf_token(sso_client, "/login"), "login": user.login,
                                    "password": "Mot-mat-khau-moi-2026"})
    identity_id = identity.id
    r = sso_client.post(remove.group(1), data={"csrf_token": csrf_token(sso_client, "/me")})
    assert r.status_code == 302
    session.expire_all()
    assert session.scalar(select(Identity).where(Identity.id == identity_id)) is None


def test_someone_elses_identity_cannot_be_removed(
        sso_client: FlaskClient, provider: ProviderControl, session: Session) -> None:
    other = factories.user(session)
    theirs = Identity(user_id=other.id, protocol="oidc", issuer=ISSUER, subject="theirs-1",
                      created_at=factories.now())
    session.add(theirs)
    session.flush()
    callback(sso_client, ProviderBrowser().sign_in(start(sso_client), "mine-1"))
    mine = session.scalar(select(Identity).where(Identity.subject == "mine-1"))
    assert mine is not None
    mine.user.unit_code, mine.user.consent_at = factories.VINH_LONG_COMMUNE, factories.now()
    session.flush()
    r = sso_client.post(f"/me/identities/{theirs.id}/delete", data={"csrf_token": csrf_token(sso_client, "/me")})
    assert r.status_code == 404
    assert session.get(Identity, theirs.id) is not None


def test_sign_out_ends_the_session_and_offers_the_providers_logout(
        sso_client: FlaskClient, provider: ProviderControl) -> None:
    callback(sso_client, ProviderBrowser().sign_in(start(sso_client), "bye-1"))
    r = sso_client.post("/logout", data={"csrf_token": csrf_token(sso_client, "/login/oidc/complete")})
    html = r.get_data(as_text=True)
    assert r.status_code == 200 and "Bạn đã đăng xuất khỏi trang học" in html
    link = re.search(r'href="(http://127\.0\.0\.1:\d+/session/end\?[^"]+)"', html)
    assert link and "id_token_hint=" in link.group(1)
    assert sso_client.get("/me").status_code == 302


def test_a_signed_in_person_links_another_identity_but_never_someone_elses(
        sso_client: FlaskClient, provider: ProviderControl, session: Session) -> None:
    owner = _citizen_with_login(session, "0913000009")
    taken = factories.user(session)
    session.add(Identity(user_id=taken.id, protocol="oidc", issuer=ISSUER, subject="taken-1",
                         created_at=factories.now()))
    session.flush()
    sso_client.post("/login", data={"csrf_token": csrf_token(sso_client, "/login"), "login": owner.login,
                                    "password": factories.PASSWORD})
    me = sso_client.get("/me").get_data(as_text=True)
    assert "Liên kết với VNeID" in me
    r = callback(sso_client, ProviderBrowser().sign_in(start(sso_client, "/me"), "extra-1"))
    assert r.status_code == 302 and urllib.parse.urlsplit(r.headers["Location"]).path == "/me"
    assert [i.subject for i in session.scalars(select(Identity).where(Identity.user_id == owner.id))] == ["extra-1"]
    r = callback(sso_client, ProviderBrowser().sign_in(start(sso_client, "/me"), "taken-1"))
    assert "đã gắn với một tài khoản khác" in sso_client.get("/me").get_data(as_text=True)
    taken_identity = session.scalar(select(Identity).where(Identity.subject == "taken-1"))
    assert taken_identity is not None and taken_identity.user_id == taken.id
    assert "Võ Thị Hoa" in sso_client.get("/me").get_data(as_text=True)  # still the same person
