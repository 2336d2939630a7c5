"""Factory functions for test data, through the same services the product uses."""

from __future__ import annotations

import itertools
from datetime import UTC, datetime, timedelta
from types import SimpleNamespace
from typing import Any

from sqlalchemy.orm import Session

from lms.services import accounts
from lms.store import User

_seq = itertools.count(1)
PASSWORD = "Mat-khau-2026!"
VINH_LONG_COMMUNE = "28756"  # Phường Phú Khương, Vĩnh Long


# The certificate-PDF keywords of the use cases that may issue a certificate, for tests that do not
# make PDFs: no queue, and a background that leaves them pending (the pending row is the queue).
PDFS_LATER: dict[str, Any] = {"settings": SimpleNamespace(redis_url=None), "background": lambda _id: None}


def now() -> datetime:
    return datetime.now(UTC)


def user(session: Session, *, role: str = "citizen", unit_code: str | None = VINH_LONG_COMMUNE,
         full_name: str = "Nguyễn Thị Hồng Nhung", password: str = PASSWORD) -> User:
    n = next(_seq)
    return accounts.create_user(session, role=role, login=f"user{n}@example.vn", password=password,
                                full_name=full_name, unit_code=unit_code, now=now())


def token(session: Session, u: User) -> str:
    raw, _ = accounts.issue_token(session, u, now=now(), lifetime=timedelta(days=1))
    return raw


def bearer(raw: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {raw}"}


def co_owner(session: Session, u: User, object_type: str, object_id: str) -> User:
    """Let ``u`` change a course's lessons or an imported quiz (as the operator's CLI grants it)."""
    from lms.services.quizzes import grant_co_owner

    grant_co_owner(session, None, object_type, object_id, u.login, now=now())
    return u
