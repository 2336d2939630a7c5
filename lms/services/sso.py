"""Single sign-on use cases: who a verified OpenID Connect identity is in the LMS.

The web layer speaks the protocol (Authlib validates state, PKCE, the ID token's signature, ``iss``,
``aud``, ``exp``, ``iat`` and ``nonce``) and hands over claims that are already verified. Here those
claims become an account: the one linked to (issuer, ``sub``), a roster official whose login is the
verified phone or e-mail, an existing account that must prove itself with its password once, or a
new citizen. Only the claims in ``KEPT_CLAIMS`` are ever read; ID-card numbers, photos, addresses
and the rest of what a national provider may send are dropped on arrival and never stored.
"""

from __future__ import annotations

import hashlib
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum

from sqlalchemy import select
from sqlalchemy.orm import Session

from lms.domain.accounts import login_kind
from lms.domain.text import nfc, normalise_login
from lms.services import audit
from lms.services.access import can_see_unit
from lms.services.accounts import authenticate
from lms.services.errors import Conflict, Forbidden, Invalid, NotFound
from lms.services.roster import UNUSABLE_PASSWORD
from lms.services.units import find_unit
from lms.store import Role, Unit, UnitLevel, User
from lms.store.models import Identity, SsoUnitPolicy

__all__ = [
    "KEPT_CLAIMS",
    "NO_PASSWORD",
    "Claims",
    "Failure",
    "Outcome",
    "OutcomeKind",
    "claims_from",
    "complete_profile",
    "has_usable_password",
    "identities_of",
    "link_to",
    "link_with_password",
    "missing_profile",
    "officials_sso_only",
    "password_allowed",
    "record_failure",
    "remove_identity",
    "set_officials_sso_only",
    "sign_in",
]

PROTOCOL = "oidc"
# What an account created by single sign-on holds instead of a password hash: nothing matches it.
NO_PASSWORD = "!sso"
# The only claims read from the ID token and userinfo (docs/sso.md says why each is kept).
KEPT_CLAIMS = ("sub", "name", "phone_number", "phone_number_verified", "email", "email_verified")


class Failure(StrEnum):
    """Why a sign-in was refused; each has its own page and audit event."""

    PROVIDER_DOWN = "provider_down"
    DENIED = "denied"
    PROVIDER_ERROR = "provider_error"
    STATE = "state"
    CODE = "code"
    AUDIENCE = "audience"
    EXPIRED = "expired"
    ISSUER = "issuer"
    TOKEN = "token"
    ACCOUNT = "account"
    PASSWORD_ONLY = "password_only"


@dataclass(frozen=True)
class Claims:
    issuer: str
    subject: str
    name: str | None = None
    phone: str | None = None  # as a login: 0xxxxxxxxx
    phone_verified: bool = False
    email: str | None = None
    email_verified: bool = False

    def verified_logins(self) -> list[str]:
        """Logins this person has proved to own, as the provider vouches for them."""
        found = []
        if self.phone and self.phone_verified and login_kind(self.phone) == "phone":
            found.append(self.phone)
        if self.email and self.email_verified and login_kind(self.email) == "email":
            found.append(self.email)
        return found


def _true(value: object) -> bool:
    # Some providers send booleans as strings; only an explicit yes counts as verified.
    return value is True or (isinstance(value, str) and value.strip().lower() == "true")


def claims_from(issuer: str, raw: Mapping[str, object]) -> Claims:
    """Read the kept claims (ID token merged with userinfo); everything else is ignored."""
    kept = {k: raw.get(k) for k in KEPT_CLAIMS}
    subject = kept["sub"]
    if not isinstance(subject, str) or not subject or len(subject) > 255:
        raise Invalid("sso.subject")
    name = kept["name"]
    phone = kept["phone_number"]
    email = kept["email"]
    return Claims(
        issuer=issuer, subject=subject,
        name=nfc(name).strip()[:200] or None if isinstance(name, str) else None,
        phone=normalise_login(phone) if isinstance(phone, str) and phone.strip() else None,
        phone_verified=_true(kept["phone_number_verified"]),
        email=normalise_login(email) if isinstance(email, str) and email.strip() else None,
        email_verified=_true(kept["email_verified"]))


class OutcomeKind(StrEnum):
    SIGNED_IN = "signed_in"  # a linked identity, or a roster official matched by verified login
    CREATED = "created"  # a new citizen account
    LINK_NEEDED = "link_needed"  # an account with this verified login exists: its password, once


@dataclass(frozen=True)
class Outcome:
    kind: OutcomeKind
    user: User


def _identity(session: Session, issuer: str, subject: str) -> Identity | None:
    return session.scalar(select(Identity).where(Identity.issuer == issuer, Identity.subject == subject))


def _link(session: Session, user: User, claims: Claims, *, now: datetime, how: str) -> Identity:
    identity = Identity(user_id=user.id, protocol=PROTOCOL, issuer=claims.issuer, subject=claims.subject,
                        created_at=now, last_used_at=now)
    session.add(identity)
    session.flush()
    audit.record(session, "sso.link", "user", user.id, now=now, issuer=claims.issuer, how=how)
    return identity


def _by_login(session: Session, login: str) -> User | None:
    return session.scalar(select(User).where(User.login == normalise_login(login)))


def sign_in(session: Session, claims: Claims, *, now: datetime) -> Outcome:
    """The account these verified claims sign in to (Forbidden ``sso.account`` if it is closed)."""
    identity = _identity(session, claims.issuer, claims.subject)
    if identity is not None:
        user = identity.user
        if not user.is_active:
            raise Forbidden("sso.account")
        identity.last_used_at = now
        audit.record(session, "sso.sign_in", "user", user.id, now=now, issuer=claims.issuer)
        session.flush()
        return Outcome(OutcomeKind.SIGNED_IN, user)
    for login in claims.verified_logins():
        holder = _by_login(session, login)
        if holder is None:
            continue
        if not holder.is_active:
            raise Forbidden("sso.account")
        if holder.role == Role.OFFICIAL and holder.password_hash == UNUSABLE_PASSWORD:
            # A roster official who never set a password: the provider's verified phone or e-mail
            # equal to the roster's login is the proof the first-password step would have asked.
            _link(session, holder, claims, now=now, how="roster")
            return Outcome(OutcomeKind.SIGNED_IN, holder)
        # Anyone else proves they hold the account (its password, once): no silent takeover by
        # whoever controls an identity with the same phone number.
        return Outcome(OutcomeKind.LINK_NEEDED, holder)
    user = _new_citizen(session, claims, now=now)
    _link(session, user, claims, now=now, how="created")
    return Outcome(OutcomeKind.CREATED, user)


def _new_citizen(session: Session, claims: Claims, *, now: datetime) -> User:
    logins = [x for x in claims.verified_logins() if _by_login(session, x) is None]
    # Without a verified, free phone or e-mail the account gets a login no person can type: it
    # is reached only through the provider, and it never collides with a real login.
    login = logins[0] if logins else "sso-" + hashlib.sha256(
        f"{claims.issuer}\n{claims.subject}".encode()).hexdigest()[:20]
    user = User(login=login, full_name=claims.name or login, password_hash=NO_PASSWORD, role=Role.CITIZEN.value,
                unit_code=None, consent_at=None, created_at=now, credentials_version=1, is_active=True)
    session.add(user)
    session.flush()
    audit.record(session, "sso.account_created", "user", user.id, now=now, issuer=claims.issuer)
    return user


def link_to(session: Session, user: User, claims: Claims, *, now: datetime) -> bool:
    """Add an identity to the signed-in person's account. False when it is already theirs;
    Conflict ``identity.taken`` when another account holds it (it is never moved silently)."""
    identity = _identity(session, claims.issuer, claims.subject)
    if identity is not None:
        if identity.user_id != user.id:
            raise Conflict("identity.taken")
        identity.last_used_at = now
        session.flush()
        return False
    _link(session, user, claims, now=now, how="signed_in")
    return True


def link_with_password(session: Session, claims: Claims, user_id: int, password: str, *,
                       now: datetime) -> User | None:
    """Link the identity to ``user_id`` if ``password`` is that account's; None when it is not."""
    user = session.get(User, user_id)
    if user is None or _identity(session, claims.issuer, claims.subject) is not None:
        return None
    if authenticate(session, user.login, password) is None:
        audit.record(session, "sso.link_refused", "user", user.id, now=now, issuer=claims.issuer)
        return None
    _link(session, user, claims, now=now, how="password")
    return user


def missing_profile(user: User) -> list[str]:
    """What a citizen created from claims still lacks: ``unit_code`` and/or ``consent``."""
    if user.role != Role.CITIZEN:
        return []
    missing = []
    if not user.unit_code:
        missing.append("unit_code")
    if user.consent_at is None:
        missing.append("consent")
    return missing


def complete_profile(session: Session, user: User, *, unit_code: str | None, consent: bool,
                     now: datetime) -> None:
    """Fill in what the claims lacked. Only what ``missing_profile`` names is taken."""
    missing = missing_profile(user)
    errors = {}
    unit: Unit | None = None
    if "unit_code" in missing:
        unit = find_unit(session, unit_code or "") if unit_code else None
        if not unit_code:
            errors["unit_code"] = "unit_code.required"
        elif unit is None or unit.level != UnitLevel.COMMUNE:
            errors["unit_code"] = "unit_code.unknown"
    if "consent" in missing and not consent:
        errors["consent"] = "consent.required"
    if errors:
        raise Invalid("registration.invalid", errors)
    if unit is not None:
        user.unit_code = unit.code
    if "consent" in missing:
        user.consent_at = now
    session.flush()


def identities_of(session: Session, user: User) -> list[Identity]:
    return list(session.scalars(select(Identity).where(Identity.user_id == user.id).order_by(Identity.id)))


def remove_identity(session: Session, user: User, identity_id: int, *, now: datetime) -> None:
    """Unlink one of the person's identities, unless it is their last way to sign in."""
    identity = session.get(Identity, identity_id)
    if identity is None or identity.user_id != user.id:
        raise NotFound("identity.not_found")
    others = [i for i in identities_of(session, user) if i.id != identity.id]
    if not others and (user.password_hash.startswith("!") or not password_allowed(session, user)):
        raise Conflict("identity.last")
    session.delete(identity)
    audit.record(session, "sso.unlink", "user", user.id, now=now, issuer=identity.issuer)
    session.flush()


def _unit_chain(session: Session, unit_code: str | None) -> list[str]:
    codes = []
    while unit_code and unit_code not in codes:
        codes.append(unit_code)
        unit = session.get(Unit, unit_code)
        unit_code = unit.parent_code if unit else None
    return codes


def password_allowed(session: Session, user: User) -> bool:
    """False for an official whose unit, or the province above it, requires single sign-on."""
    if user.role != Role.OFFICIAL:
        return True
    chain = _unit_chain(session, user.unit_code)
    if not chain:
        return True
    required = session.scalar(select(SsoUnitPolicy.unit_code).where(
        SsoUnitPolicy.unit_code.in_(chain), SsoUnitPolicy.officials_sso_only.is_(True)).limit(1))
    return required is None


def officials_sso_only(session: Session, unit_code: str) -> bool:
    policy = session.get(SsoUnitPolicy, unit_code)
    return bool(policy and policy.officials_sso_only)


def set_officials_sso_only(session: Session, manager: User, unit_code: str, required: bool, *,
                           now: datetime) -> None:
    """A manager requires (or stops requiring) single sign-on for the officials of their unit."""
    if find_unit(session, unit_code) is None:
        raise NotFound("unit.not_found")
    if not can_see_unit(session, manager, unit_code):
        raise Forbidden("auth.forbidden")
    policy = session.get(SsoUnitPolicy, unit_code)
    old = bool(policy and policy.officials_sso_only)
    if policy is None:
        policy = SsoUnitPolicy(unit_code=unit_code, officials_sso_only=required, updated_at=now)
        session.add(policy)
    policy.officials_sso_only = required
    policy.updated_by_id = manager.id
    policy.updated_at = now
    audit.record(session, "sso.policy", "unit", unit_code, now=now, old=old, new=required)
    session.flush()


def record_failure(session: Session, failure: Failure, *, now: datetime, issuer: str | None,
                   detail: str = "") -> None:
    """An audit event for a refused sign-in (nobody is signed in by it)."""
    audit.record(session, "sso.refused", "sso", failure.value, now=now, issuer=issuer, detail=detail[:300])


def has_usable_password(user: User) -> bool:
    return not user.password_hash.startswith("!") and bool(user.password_hash)

