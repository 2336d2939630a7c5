"""The unit of work: the one sessionmaker every LMS session comes from (web requests, CLI
commands, background jobs, tests).

Its sessions keep the summary figures settled before each commit (lms.services.figures) and run
work meant for after the commit (queueing a job, starting a thread, waking the xAPI sender)
through :func:`after_commit`, once the outermost transaction has committed. The wiring is
explicit and happens here, when a sessionmaker is built, on that maker's own session class:
importing any LMS module registers nothing, and a host site's sessions are never touched."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from sqlalchemy import Connection, Engine
from sqlalchemy.orm import Session, sessionmaker

from lms.services import figures
from lms.store import UnitOfWorkParticipant, build_sessionmaker
from lms.store import after_commit as _after_commit

__all__ = ["PARTICIPANTS", "after_commit", "make_sessionmaker"]

# What every transaction keeps in step with, in the order they settle before commit.
PARTICIPANTS: tuple[UnitOfWorkParticipant, ...] = (figures.KEEPER,)


def make_sessionmaker(bind: Engine | Connection, **kwargs: Any) -> sessionmaker[Session]:
    """The LMS's sessionmaker over an engine (or a connection, with ``join_transaction_mode``)."""
    return build_sessionmaker(bind, participants=PARTICIPANTS, **kwargs)


def after_commit(session: Session, callback: Callable[[], object], *, key: str | None = None) -> None:
    """Run ``callback`` once ``session``'s outermost transaction has committed; dropped on rollback.
    A ``key`` already waiting in this transaction is not added twice."""
    _after_commit(session, callback, key=key)
