"""The audit log: recorded in the same transaction as the change it describes."""

from __future__ import annotations

from contextvars import ContextVar, Token
from datetime import datetime
from typing import Protocol

from sqlalchemy.orm import Session

from lms.store import AuditEvent, direct

__all__ = ["Actor", "acting", "done", "record", "record_now"]


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


_INSERT = direct.Sql(
    "INSERT INTO audit_events (at, actor_id, actor_label, action, object_type, object_id, detail, source) "
    "VALUES (:at, :actor_id, :actor_label, :action, :object_type, :object_id, :detail, :source)")


def record_now(session: direct.On, action: str, object_type: str, object_id: object, *, now: datetime,
               **detail: object) -> None:
    """:func:`record`, written at once by one statement on the driver (lms.store.direct) instead of
    by the session's next flush: for the quiz's hot path, where the ORM's flush of this one row
    was a third of a submission (issue 14). The actor must already be stored."""
    user, source = _ACTOR.get()
    direct.execute(session, _INSERT, {
        "at": direct.stamp(now, direct.dialect_of(session)), "actor_id": user.id if user else None,
        "actor_label": user.login if user else "cli", "action": action, "object_type": object_type,
        "object_id": str(object_id)[:160], "detail": direct.dump_json(detail), "source": source})
