"""Accounts: registration, creation by an administrator, authentication, API tokens."""

from __future__ import annotations

import hashlib
import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import select
from sqlalchemy.orm import Session
from werkzeug.security import check_password_hash, generate_password_hash

from lms.domain.accounts import ROLES, password_problem, validate_registration
from lms.domain.text import nfc, normalise_login
from lms.services import audit
from lms.services.errors import Conflict, Invalid
from lms.services.units import find_unit
from lms.store import ApiToken, Role, User, direct

__all__ = [
    "HOLDER_SQL",
    "AccountRef",
    "TokenHolder",
    "authenticate",
    "change_password",
    "create_user",
    "get_user",
    "hash_password",
    "holder_params",
    "issue_token",
    "register_citizen",
    "resolve_token",
    "revoke_token",
    "token_holder",
]

# A hash of a random password: checking against it costs the same time as a real check, so a
# wrong login and a wrong password cannot be told apart by timing.
_DUMMY_HASH = generate_password_hash(secrets.token_hex(16))


def hash_password(password: str) -> str:
    return generate_password_hash(password)  # scrypt, werkzeug's current default


def register_citizen(session: Session, data: dict[str, object], *, now: datetime) -> User:
    reg, errors = validate_registration(data, current_year=now.year)
    if reg is None:
        raise Invalid("registration.invalid", errors)
    unit = find_unit(session, reg.unit_code)
    if unit is None:
        raise Invalid("registration.invalid", {"unit_code": "unit_code.unknown"})
    if _by_login(session, reg.login) is not None:
        raise Conflict("registration.invalid", {"login": "login.taken"})
    user = User(login=reg.login, full_name=reg.full_name, password_hash=hash_password(reg.password),
                role=Role.CITIZEN.value, birth_year=reg.birth_year, unit_code=unit.code, consent_at=now,
                created_at=now, credentials_version=1, is_active=True)
    session.add(user)
    session.flush()
    return user


def create_user(session: Session, *, role: str, login: str, password: str, full_name: str | None = None,
                unit_code: str | None = None, now: datetime) -> User:
    errors: dict[str, str] = {}
    if role not in ROLES:
        errors["role"] = "role.unknown"
    clean_login = normalise_login(login)
    if not clean_login:
        errors["login"] = "login.required"
    problem = password_problem(password, login)
    if problem:
        errors["password"] = problem
    if unit_code is not None:
        if find_unit(session, unit_code) is None:
            errors["unit_code"] = "unit_code.unknown"
    if errors:
        raise Invalid("user.invalid", errors)
    if _by_login(session, clean_login) is not None:
        raise Conflict("user.invalid", {"login": "login.taken"})
    user = User(login=clean_login, full_name=nfc(full_name or login).strip()[:200],
                password_hash=hash_password(password), role=role, unit_code=unit_code,
                created_at=now, credentials_version=1, is_active=True)
    session.add(user)
    session.flush()
    if role != Role.CITIZEN:
        audit.record(session, "user.role", "user", user.id, now=now, old=None, new=role)
    return user


def _by_login(session: Session, login: str) -> User | None:
    return session.scalar(select(User).where(User.login == normalise_login(login)))


def authenticate(session: Session, login: str, password: str) -> User | None:
    user = _by_login(session, login) if login else None
    if user is None or not user.is_active or user.password_hash.startswith("!"):
        check_password_hash(_DUMMY_HASH, password)
        return None
    return user if check_password_hash(user.password_hash, password) else None


def change_password(session: Session, user: User, new_password: str) -> None:
    """A new password revokes every session and token issued before it."""
    problem = password_problem(new_password, user.login)
    if problem:
        raise Invalid("password.invalid", {"password": problem})
    user.password_hash = hash_password(new_password)
    user.credentials_version += 1
    session.flush()


def _digest(raw: str) -> str:
    return hashlib.sha256(raw.encode("utf-8")).hexdigest()


def issue_token(session: Session, user: User, *, now: datetime, lifetime: timedelta) -> tuple[str, ApiToken]:
    raw = secrets.token_urlsafe(32)
    token = ApiToken(user_id=user.id, token_hash=_digest(raw), credentials_version=user.credentials_version,
                     created_at=now, expires_at=now + lifetime)
    session.add(token)
    session.flush()
    return raw, token


def resolve_token(session: Session, raw: str, *, now: datetime) -> User | None:
    token = session.scalar(select(ApiToken).where(ApiToken.token_hash == _digest(raw)))
    if token is None or token.revoked_at is not None or token.expires_at <= now:
        return None
    user = token.user
    if not user.is_active or user.credentials_version != token.credentials_version:
        return None
    return user


@dataclass(frozen=True)
class TokenHolder:
    """The account a valid bearer token speaks for, as far as the quiz API's hot path needs it
    (its id, and its login for the audit log): no ORM entity is loaded for it."""

    id: int
    login: str


AccountRef = User | TokenHolder
"""An account as the attempt use cases take it: they need only its id."""

# The token check of the quiz API's requests, on the driver (lms.store.direct): through
# SQLAlchemy, building the statement cost more than SQLite spent on the query, and the ORM load of
# the token with its joined account twice that again (bench/README.md, issue 14). HOLDER_SQL is
# also a part of larger statements (the autosave's on PostgreSQL: lms.services.quizzes), with the
# parameters :func:`holder_params` gives.
HOLDER_SQL = (
    "SELECT users.id, users.login FROM api_tokens JOIN users ON users.id = api_tokens.user_id "
    "WHERE api_tokens.token_hash = :digest AND api_tokens.revoked_at IS NULL AND api_tokens.expires_at > :now "
    "AND users.is_active = :active AND api_tokens.credentials_version = users.credentials_version")
_HOLDER = direct.Sql(HOLDER_SQL)


def holder_params(raw: str, *, now: datetime, dialect: str) -> dict[str, object]:
    """The parameters of :data:`HOLDER_SQL` for the bearer token ``raw`` at ``now``."""
    return {"digest": _digest(raw), "active": True, "now": direct.stamp(now, dialect)}


def token_holder(session: direct.On, raw: str, *, now: datetime) -> TokenHolder | None:
    """What :func:`resolve_token` decides, in one indexed read of two columns (before the
    session's transaction begins, when it has not: lms.store.direct.row_apart)."""
    row = direct.row_apart(session, _HOLDER, holder_params(raw, now=now, dialect=direct.dialect_of(session)))
    return None if row is None else TokenHolder(row[0], row[1])


def revoke_token(session: Session, raw: str, *, now: datetime) -> bool:
    token = session.scalar(select(ApiToken).where(ApiToken.token_hash == _digest(raw)))
    if token is None or token.revoked_at is not None:
        return False
    token.revoked_at = now
    session.flush()
    return True


def get_user(session: Session, user_id: int) -> User | None:
    return session.get(User, user_id)
