"""First passwords for officials imported from a roster.

A roster import creates accounts with no usable password. A manager of the official's unit (or
an administrator, or the operator with ``lms users setup-code``) makes a one-time code and hands
it over, printed or read out; the official enters login, code and a new password at
``/first-password``. The code is 10 characters from an alphabet without look-alikes, only its
SHA-256 is stored, it works once, expires after ``LIFETIME``, a new code replaces older unused
ones, and wrong codes count toward the same per-login throttle as passwords.
"""

from __future__ import annotations

import hashlib
import secrets
from datetime import datetime, timedelta

from sqlalchemy import select, update
from sqlalchemy.orm import Session

from lms.domain.text import normalise_login
from lms.services import access, accounts, audit
from lms.services.errors import Forbidden, Invalid, NotFound, Throttled
from lms.services.sessions import end_all
from lms.services.throttle import Throttle
from lms.store import PasswordSetupCode, User

__all__ = ["LIFETIME", "issue_code", "use_code"]

LIFETIME = timedelta(hours=72)
_ALPHABET = "ABCDEFGHJKLMNPQRSTUVWXYZ23456789"  # no 0/O, 1/I: read out over the phone


def _digest(code: str) -> str:
    clean = "".join(code.split()).replace("-", "").upper()
    return hashlib.sha256(clean.encode("utf-8")).hexdigest()


def issue_code(session: Session, actor: User | None, login: str, *, now: datetime) -> tuple[str, PasswordSetupCode]:
    """A new one-time code for ``login`` (shown once, to the one who hands it over)."""
    official = session.scalar(select(User).where(User.login == normalise_login(login)))
    if official is None or not official.is_active:
        raise NotFound("user.not_found")
    if not access.can_hand_out_setup_code(session, actor, official):
        raise Forbidden("auth.forbidden")
    session.execute(update(PasswordSetupCode).where(PasswordSetupCode.user_id == official.id,
                                                    PasswordSetupCode.used_at.is_(None))
                    .values(used_at=now))
    raw = "".join(secrets.choice(_ALPHABET) for _ in range(10))
    row = PasswordSetupCode(user_id=official.id, code_hash=_digest(raw), created_by_id=actor.id if actor else None,
                            created_at=now, expires_at=now + LIFETIME)
    session.add(row)
    session.flush()
    audit.record(session, "user.setup_code", "user", official.id, now=now, expires_at=row.expires_at.isoformat())
    return f"{raw[:5]}-{raw[5:]}", row


def use_code(session: Session, throttle: Throttle, login: str, code: str, new_password: str, *,
             now: datetime) -> User:
    """Set the password with a valid code. Raises Throttled, Forbidden (wrong, used or expired
    code: the failure is recorded, the caller commits it) or Invalid (a weak password)."""
    if throttle.blocked(session, login, now=now):
        raise Throttled("throttled")
    official = session.scalar(select(User).where(User.login == normalise_login(login)))
    row = None
    if official is not None and official.is_active:
        row = session.scalar(select(PasswordSetupCode).where(PasswordSetupCode.code_hash == _digest(code),
                                                             PasswordSetupCode.user_id == official.id))
    if row is None or row.used_at is not None or row.expires_at <= now or official is None:
        throttle.failed(session, login, now=now)
        raise Forbidden("setup_code.invalid")
    try:
        accounts.change_password(session, official, new_password)
    except Invalid as exc:
        raise Invalid("password.invalid", {"password": exc.fields.get("password", "password.invalid")}) from exc
    row.used_at = now
    end_all(session, official, now=now)
    session.flush()
    return official
