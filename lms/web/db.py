"""One SQLAlchemy session per request, from the LMS state of the current app."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime

from flask import current_app, g
from sqlalchemy.orm import Session

# The one page-side door to the store's transaction machinery (allowed by the import-linter
# contract "Views never import the store"): SQLite takes the write lock up front (BEGIN
# IMMEDIATE) for a block declared ``with write_intent(True):``, so a view that reads, then
# writes, waits its turn instead of failing with "database is locked".
from lms.store.engine import database_answers, reset_write_intent, set_write_intent, write_intent
from lms.web.state import LMSState

__all__ = ["database_answers", "db", "now", "read_first", "reset_write_intent", "set_write_intent", "state",
           "transaction", "write_intent"]


def state() -> LMSState:
    return current_app.extensions["lms"]  # type: ignore[no-any-return]


def db() -> Session:
    session: Session | None = g.get("lms_session")
    if session is None:
        session = state().sessionmaker()
        g.lms_session = session
    return session


def now() -> datetime:
    return datetime.now(UTC)


@contextmanager
def transaction() -> Iterator[Session]:
    """The request's unit of work (a session of lms.services.unit_of_work's sessionmaker): commits
    on success, which settles the summary figures first and then runs the work registered with
    ``after_commit``; rolls back on error, which drops that work. Reads made before (the token
    lookup, say) join it rather than failing with "already begun"."""
    session = db()
    if session.in_transaction():
        try:
            yield session
            session.commit()
        except BaseException:
            session.rollback()
            raise
    else:
        with session.begin():
            yield session


@contextmanager
def read_first() -> Iterator[Session]:
    """A read in a transaction of its own, ended before the request's write transaction begins:
    on SQLite a request that writes takes the database's one write lock when that begins, and
    what it reads first (the bearer token, a quiz's questions) need not hold the lock (issue 14).
    Nothing is changed, so ending it writes nothing, and what it loaded stays loaded
    (expire_on_commit=False). Inside a transaction already begun, it simply joins it."""
    session = db()
    fresh = not session.in_transaction()
    with write_intent(False):
        yield session
    if fresh:
        session.commit()
