"""Password-guessing throttle: failures counted per login, shared by every worker and process.

At most ``limit`` failed password checks per login within ``window`` (API.md: 10 in 15 minutes);
after that every password prompt for that login (sign-in page, ``POST /api/v1/tokens``, the
password change, closing the account) answers "throttled" without checking the password, until
the oldest counted failure leaves the window.

The soft lock (docs/security.md, "Sign-in throttling"): attempts refused while throttled are not
counted, so a stranger who knows a login can hold it for at most one window after their last
tenth guess, never lock it for good; a successful check does not clear the count (an attacker
who also knows the password gains nothing from that). The count lives in the database
(``login_failures``) or, when ``LMS_REDIS_URL`` is set, in a Redis sorted set per login, so it is
the same whichever process answers. Only a SHA-256 of the normalised login is stored.
"""

from __future__ import annotations

import hashlib
import secrets
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any, Protocol

from sqlalchemy import delete, func, select
from sqlalchemy.orm import Session

from lms.domain.text import normalise_login
from lms.store import LoginFailure

__all__ = ["DatabaseCounter", "RedisCounter", "Throttle", "login_key"]

WINDOW = timedelta(minutes=15)
LIMIT = 10


def login_key(login: str) -> str:
    """What the counter is keyed by: the login as sign-in normalises it, hashed."""
    return hashlib.sha256(("login:" + normalise_login(login)[:254]).encode("utf-8")).hexdigest()


class Counter(Protocol):
    def count(self, session: Session, key: str, *, since: datetime) -> int: ...

    def add(self, session: Session, key: str, *, now: datetime, since: datetime) -> None: ...


class DatabaseCounter:
    """Rows in ``login_failures``; written in the caller's transaction."""

    def count(self, session: Session, key: str, *, since: datetime) -> int:
        return int(session.scalar(select(func.count()).select_from(LoginFailure)
                                  .where(LoginFailure.key == key, LoginFailure.failed_at > since)) or 0)

    def add(self, session: Session, key: str, *, now: datetime, since: datetime) -> None:
        # Rows that left the window are of no further use: dropped here, so the table stays small.
        session.execute(delete(LoginFailure).where(LoginFailure.key == key, LoginFailure.failed_at <= since))
        session.add(LoginFailure(key=key, failed_at=now))
        session.flush()


@dataclass
class RedisCounter:
    """A sorted set per login (score: the failure's time), expiring with the window."""

    client: Any  # a redis.Redis; its stubs type every reply as maybe-awaitable
    prefix: str = "lms:login-failures:"
    window: timedelta = field(default=WINDOW)

    def count(self, session: Session, key: str, *, since: datetime) -> int:
        name = self.prefix + key
        self.client.zremrangebyscore(name, "-inf", since.timestamp())
        return int(self.client.zcard(name))

    def add(self, session: Session, key: str, *, now: datetime, since: datetime) -> None:
        name = self.prefix + key
        pipe = self.client.pipeline()
        pipe.zadd(name, {f"{now.timestamp()}:{secrets.token_hex(4)}": now.timestamp()})
        pipe.zremrangebyscore(name, "-inf", since.timestamp())
        pipe.expire(name, int(self.window.total_seconds()) + 60)
        pipe.execute()


@dataclass
class Throttle:
    counter: Counter
    limit: int = LIMIT
    window: timedelta = WINDOW

    @classmethod
    def for_settings(cls, redis_url: str | None, limit: int = LIMIT) -> Throttle:
        if redis_url:
            import redis  # only a site with Redis configured needs the client

            return cls(RedisCounter(redis.Redis.from_url(redis_url)), limit=limit)
        return cls(DatabaseCounter(), limit=limit)

    def blocked(self, session: Session, login: str, *, now: datetime) -> bool:
        return self.counter.count(session, login_key(login), since=now - self.window) >= self.limit

    def failed(self, session: Session, login: str, *, now: datetime) -> None:
        self.counter.add(session, login_key(login), now=now, since=now - self.window)
