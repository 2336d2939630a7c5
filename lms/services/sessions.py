"""Signed-in sessions kept on the server, and what ends them.

A browser's cookie carries a random session id; ``web_sessions`` holds its SHA-256 as the primary
key. Each signed-in request reads that one row (joined with its account); visitors who are not
signed in have no row and cost no read. Signing out deletes the row, so a cookie replayed from
before the sign-out is refused; a password change deletes every other session of the account and
revokes every other API token.
"""

from __future__ import annotations

import hashlib
import secrets
from datetime import datetime, timedelta

from sqlalchemy import delete, update
from sqlalchemy.orm import Session

from lms.services import accounts
from lms.services.errors import Invalid, ServiceError, Throttled
from lms.services.throttle import Throttle
from lms.store import ApiToken, User, WebSession

__all__ = ["FRESH_SIGN_IN", "LIFETIME", "Throttled", "WrongPassword", "change_password", "check_password", "end_all",
           "end_session", "load_session", "sign_in", "signed_in_recently", "start_session"]

# Absolute lifetime of a browser session (ASVS 7.3.2): a session cookie that a shared computer
# kept open is not valid forever.
LIFETIME = timedelta(hours=12)
# How recent a sign-in must be to stand in for the password prompt of an account that has no
# password (signed in through the national identity only): closing the account.
FRESH_SIGN_IN = timedelta(minutes=10)


class WrongPassword(ServiceError):
    code = "unauthorized"
    status = 401


def _digest(raw: str) -> str:
    return hashlib.sha256(raw.encode("utf-8")).hexdigest()


def start_session(session: Session, user: User, *, now: datetime) -> str:
    """A new server-side session; returns the id for the cookie (only its hash is stored)."""
    raw = secrets.token_urlsafe(32)
    session.add(WebSession(id=_digest(raw), user_id=user.id, credentials_version=user.credentials_version,
                           created_at=now, expires_at=now + LIFETIME))
    session.flush()
    return raw


def load_session(session: Session, raw: str, *, now: datetime) -> User | None:
    """The account behind a session id, or None when it ended: one read by primary key."""
    if not raw or len(raw) > 100:
        return None
    row = session.get(WebSession, _digest(raw))
    if row is None or row.expires_at <= now:
        return None
    user = row.user
    if not user.is_active or user.credentials_version != row.credentials_version:
        return None
    return user


def signed_in_recently(session: Session, raw: str | None, *, now: datetime) -> bool:
    """Whether the browser session ``raw`` began, with a sign-in, within :data:`FRESH_SIGN_IN`
    of ``now``: what closing an account asks, in place of its password, of a person who has none."""
    if not raw or len(raw) > 100:
        return False
    row = session.get(WebSession, _digest(raw))
    return row is not None and timedelta(0) <= now - row.created_at <= FRESH_SIGN_IN


def end_session(session: Session, raw: str) -> None:
    session.execute(delete(WebSession).where(WebSession.id == _digest(raw)))


def end_all(session: Session, user: User, *, now: datetime, keep_session: str | None = None,
            keep_token: str | None = None) -> None:
    """End every session and token of the account except the ones named (the caller's own)."""
    sessions = delete(WebSession).where(WebSession.user_id == user.id)
    if keep_session:
        sessions = sessions.where(WebSession.id != _digest(keep_session))
    session.execute(sessions)
    tokens = update(ApiToken).where(ApiToken.user_id == user.id, ApiToken.revoked_at.is_(None))
    if keep_token:
        tokens = tokens.where(ApiToken.token_hash != _digest(keep_token))
    session.execute(tokens.values(revoked_at=now))
    # The kept ones follow the account to its new credentials version; every other one is gone.
    if keep_session:
        session.execute(update(WebSession).where(WebSession.id == _digest(keep_session))
                        .values(credentials_version=user.credentials_version))
    if keep_token:
        session.execute(update(ApiToken).where(ApiToken.token_hash == _digest(keep_token))
                        .values(credentials_version=user.credentials_version))
    session.flush()


def check_password(session: Session, throttle: Throttle, user: User, password: str, *, now: datetime) -> None:
    """A password prompt for a signed-in account (the password change, closing the account):
    counted and throttled with sign-in, since it guesses the same secret."""
    if throttle.blocked(session, user.login, now=now):
        raise Throttled("throttled")
    if accounts.authenticate(session, user.login, password) is None:
        throttle.failed(session, user.login, now=now)
        raise WrongPassword("password.wrong")


def change_password(session: Session, throttle: Throttle, user: User, current: str, new: str, *, now: datetime,
                    keep_session: str | None = None, keep_token: str | None = None) -> None:
    """Raises Throttled, WrongPassword (the failure is recorded: the caller commits it) or
    Invalid (a weak new password). On success every other session and token ends."""
    check_password(session, throttle, user, current, now=now)
    if new == current:
        raise Invalid("password.invalid", {"new_password": "password.unchanged"})
    try:
        accounts.change_password(session, user, new)
    except Invalid as exc:
        raise Invalid("password.invalid", {"new_password": exc.fields.get("password", "password.invalid")}) from exc
    end_all(session, user, now=now, keep_session=keep_session, keep_token=keep_token)


def sign_in(session: Session, throttle: Throttle, login: str, password: str, *, now: datetime) -> User:
    """Sign-in with throttling: Throttled when the login is locked, WrongPassword otherwise."""
    if throttle.blocked(session, login, now=now):
        raise Throttled("throttled")
    user = accounts.authenticate(session, login, password)
    if user is None:
        throttle.failed(session, login, now=now)
        raise WrongPassword("auth.invalid")
    return user
