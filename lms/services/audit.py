"""The audit log: recorded in the same transaction as the change it describes."""

from __future__ import annotations

from contextvars import ContextVar, Token
from datetime import datetime
from typing import Protocol

from sqlalchemy.orm import Session

from lms.store import AuditEvent, direct

__all__ = ["Actor", "acting", "done", "event_params", "insert_from", "record", "record_now"]


class Actor(Protocol):
    """Who acts, as the log names them: an account (lms.store.User) or what a bearer token
    tells of one (lms.services.accounts.TokenHolder)."""

    @property
    def id(self) -> int: ...

    @property
    def login(self) -> str: ...


# Who is acting and from where, set by the web layer per request (or "cli" for commands).
_ACTOR: ContextVar[tuple[Actor | None, str]] = ContextVar("lms_audit_actor", default=(None, "cli"))


def acting(user: Actor | None, source: str) -> Token[tuple[Actor | None, str]]:
    """Set the actor for the current request or command."""
    return _ACTOR.set((user, source[:64]))


def done(token: Token[tuple[Actor | None, str]]) -> None:
    """Forget the actor set since ``token`` (at the end of a request)."""
    try:
        _ACTOR.reset(token)
    except ValueError:  # set in another context: nothing of ours to undo
        pass


def record(session: Session, action: str, object_type: str, object_id: object, *, now: datetime,
           **detail: object) -> AuditEvent:
    user, source = _ACTOR.get()
    event = AuditEvent(at=now, actor_id=user.id if user else None, actor_label=user.login if user else "cli",
                       action=action, object_type=object_type, object_id=str(object_id)[:160], detail=detail,
                       source=source)
    session.add(event)
    return event


_COLUMNS = "INSERT INTO audit_events (at, actor_id, actor_label, action, object_type, object_id, detail, source) "
_INSERT = direct.Sql(_COLUMNS + "VALUES (:at, :actor_id, :actor_label, :action, :object_type, :object_id, :detail, "
                     ":source)")


def insert_from(source: str) -> str:
    """SQL that logs one event per row of ``source`` (a statement's CTE, as the graded row of a
    submission on PostgreSQL: lms.services.quizzes), with :func:`event_params`'s parameters."""
    return (_COLUMNS + "SELECT :at, CAST(:actor_id AS integer), :actor_label, :action, :object_type, "  # noqa: S608
            f":object_id, CAST(:detail AS json), :source FROM {direct.name(source)}")  # (the name is checked)


def event_params(dialect: str, action: str, object_type: str, object_id: object, *, now: datetime,
                 **detail: object) -> dict[str, object]:
    """The parameters of one event by the current actor (:func:`acting`), as :func:`record_now` writes it."""
    user, source = _ACTOR.get()
    return {"at": direct.stamp(now, dialect), "actor_id": user.id if user else None,
            "actor_label": user.login if user else "cli", "action": action, "object_type": object_type,
            "object_id": str(object_id)[:160], "detail": direct.dump_json(detail), "source": source}


def record_now(session: direct.On, action: str, object_type: str, object_id: object, *, now: datetime,
               **detail: object) -> None:
    """:func:`record`, written at once by one statement on the driver (lms.store.direct) instead of
    by the session's next flush: for the quiz's hot path, where the ORM's flush of this one row
    was a third of a submission (issue 14). The actor must already be stored."""
    direct.execute(session, _INSERT, event_params(direct.dialect_of(session), action, object_type, object_id,
                                                  now=now, **detail))
