"""Single sign-on use cases on verified claims (the protocol is tested against a real provider in
tests/sso/)."""

from __future__ import annotations

import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session

from lms.services import sso
from lms.services.errors import Conflict, Forbidden, Invalid, NotFound
from lms.store import AuditEvent
from lms.store.models import Identity
from tests import factories

ISSUER = "https://sso.example.gov.vn"


def test_only_the_kept_claims_are_read() -> None:
    claims = sso.claims_from(ISSUER, {
        "sub": "abc", "name": "Nguye\u0302\u0303n Văn A", "phone_number": "+84 912 000 111",
        "phone_number_verified": True, "national_id": "079123456789", "picture": "data:image/png;base64,AAAA",
        "address": {"formatted": "Vĩnh Long"}, "birthdate": "1960-01-01"})
    assert claims == sso.Claims(issuer=ISSUER, subject="abc", name="Nguyễn Văn A", phone="0912000111",
                                phone_verified=True)
    assert set(sso.KEPT_CLAIMS) == {"sub", "name", "phone_number", "phone_number_verified", "email",
                                    "email_verified"}


@pytest.mark.parametrize("flag", [False, None, "false", "yes", 1])
def test_only_an_explicit_true_counts_as_verified(flag: object) -> None:
    claims = sso.claims_from(ISSUER, {"sub": "x", "phone_number": "0912000111", "phone_number_verified": flag})
    assert claims.verified_logins() == []


@pytest.mark.parametrize("sub", [None, "", 5, "x" * 256])
def test_a_subject_must_be_a_short_string(sub: object) -> None:
    with pytest.raises(Invalid):
        sso.claims_from(ISSUER, {"sub": sub})


def test_new_citizen_has_no_password_and_lacks_commune_and_consent(session: Session) -> None:
    claims = sso.claims_from(ISSUER, {"sub": "s1", "name": "Lý Thị Mai", "phone_number": "0912000222",
                                      "phone_number_verified": True})
    outcome = sso.sign_in(session, claims, now=factories.now())
    assert outcome.kind is sso.OutcomeKind.CREATED
    user = outcome.user
    assert (user.login, user.full_name, user.role) == ("0912000222", "Lý Thị Mai", "citizen")
    assert user.password_hash == sso.NO_PASSWORD and not sso.has_usable_password(user)
    assert sso.missing_profile(user) == ["unit_code", "consent"]
    with pytest.raises(Invalid) as caught:
        sso.complete_profile(session, user, unit_code="86", consent=False, now=factories.now())  # a province
    assert caught.value.fields == {"unit_code": "unit_code.unknown", "consent": "consent.required"}
    sso.complete_profile(session, user, unit_code=factories.VINH_LONG_COMMUNE, consent=True, now=factories.now())
    assert sso.missing_profile(user) == []
    again = sso.sign_in(session, claims, now=factories.now())
    assert again.kind is sso.OutcomeKind.SIGNED_IN and again.user.id == user.id


def test_same_subject_at_another_issuer_is_another_person(session: Session) -> None:
    a = sso.sign_in(session, sso.Claims(issuer=ISSUER, subject="same"), now=factories.now()).user
    b = sso.sign_in(session, sso.Claims(issuer="https://other.example", subject="same"), now=factories.now()).user
    assert a.id != b.id and a.login != b.login


def test_verified_login_of_an_account_with_a_password_needs_it(session: Session) -> None:
    owner = factories.user(session)
    claims = sso.Claims(issuer=ISSUER, subject="s2", email=owner.login, email_verified=True)
    outcome = sso.sign_in(session, claims, now=factories.now())
    assert outcome.kind is sso.OutcomeKind.LINK_NEEDED and outcome.user.id == owner.id
    assert sso.identities_of(session, owner) == []
    assert sso.link_with_password(session, claims, owner.id, "wrong-password", now=factories.now()) is None
    assert sso.link_with_password(session, claims, owner.id, factories.PASSWORD, now=factories.now()) is owner
    assert [(i.issuer, i.subject) for i in sso.identities_of(session, owner)] == [(ISSUER, "s2")]
    actions = list(session.scalars(select(AuditEvent.action).where(AuditEvent.object_id == str(owner.id))))
    assert "sso.link_refused" in actions and "sso.link" in actions


def test_closed_account_is_refused(session: Session) -> None:
    owner = factories.user(session)
    session.add(Identity(user_id=owner.id, protocol="oidc", issuer=ISSUER, subject="s3", created_at=factories.now()))
    owner.is_active = False
    session.flush()
    with pytest.raises(Forbidden):
        sso.sign_in(session, sso.Claims(issuer=ISSUER, subject="s3"), now=factories.now())


def test_policy_of_a_province_covers_its_communes(session: Session) -> None:
    manager = factories.user(session, role="manager", unit_code="86")
    official = factories.user(session, role="official")
    citizen = factories.user(session)
    assert sso.password_allowed(session, official)
    sso.set_officials_sso_only(session, manager, "86", True, now=factories.now())
    assert not sso.password_allowed(session, official) and sso.password_allowed(session, citizen)
    assert sso.officials_sso_only(session, "86") and not sso.officials_sso_only(session, "28756")
    sso.set_officials_sso_only(session, manager, "86", False, now=factories.now())
    assert sso.password_allowed(session, official)
    with pytest.raises(Forbidden):
        sso.set_officials_sso_only(session, official, "86", True, now=factories.now())
    with pytest.raises(NotFound):
        sso.set_officials_sso_only(session, manager, "99999", True, now=factories.now())


def test_the_last_way_in_stays(session: Session) -> None:
    user = sso.sign_in(session, sso.Claims(issuer=ISSUER, subject="s4"), now=factories.now()).user
    only = sso.identities_of(session, user)[0]
    with pytest.raises(Conflict):
        sso.remove_identity(session, user, only.id, now=factories.now())
    second = sso.Claims(issuer="https://other.example", subject="s4b")
    session.add(Identity(user_id=user.id, protocol="oidc", issuer=second.issuer, subject=second.subject,
                         created_at=factories.now()))
    session.flush()
    sso.remove_identity(session, user, only.id, now=factories.now())
    assert [i.issuer for i in sso.identities_of(session, user)] == ["https://other.example"]
    stranger = factories.user(session)
    with pytest.raises(NotFound):
        sso.remove_identity(session, stranger, sso.identities_of(session, user)[0].id, now=factories.now())
