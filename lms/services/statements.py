"""Learning records (xAPI 1.0.3): write statements to the outbox in the event's transaction, and
send the outbox to the LRS.

Writing: the use cases that complete a lesson, grade an attempt and issue or revoke a
certificate call one function here. It writes nothing unless the session comes from a
sessionmaker that :func:`bind` gave an LRS (``LMS_XAPI_ENDPOINT``): without an LRS the embedded
default keeps no table of records nobody will read.

Sending: :func:`flush` takes pending rows in keyset pages (``seq`` order, a page at a time, so a
backlog of millions never sits in memory), holds each page for a short lease so two senders
never post the same rows, posts it, and marks a row sent only once the LRS has answered 200/204
(or 409 for an id it already holds). Who calls it: ``lms worker`` (RQ) when LMS_REDIS_URL is
set, else a thread of the web server (:func:`start_sender`), and ``lms xapi flush``."""

from __future__ import annotations

import functools
import json
import logging
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

from sqlalchemy import and_, func, or_, select, update
from sqlalchemy.orm import Session, sessionmaker
from sqlalchemy.sql.elements import ColumnElement

from lms.config import Settings
from lms.domain import xapi
from lms.domain.text import normalise_login
from lms.jobs import enqueue, enqueue_in
from lms.jobs.xapi import Lrs, SenderLoop
from lms.services.unit_of_work import after_commit, make_sessionmaker
from lms.store import Attempt, Certificate, Course, Lesson, Quiz, Unit, UnitLevel, User, make_engine, write_intent
from lms.store.models import XapiStatement

__all__ = ["BATCH", "FlushResult", "Target", "actor_for_login", "attempt_graded", "bind", "certificate_issued",
           "certificate_revoked", "flush", "flush_job", "lesson_completed", "login_for_actor", "replay",
           "start_sender", "status"]

log = logging.getLogger("lms.xapi")
BATCH = 500  # statements per POST: ~1 MB, well under any LRS's request limit
LEASE = timedelta(minutes=2)  # a page a sender took and did not finish is free again after this
_TARGET = "lms.xapi.target"
_WAKE = "lms.xapi.wake"
_WAKING = "lms.xapi.waking"


@dataclass(frozen=True)
class Target:
    """Where statements go and how they name people: from the settings, bound to a sessionmaker."""

    public_url: str
    actor_key: str = field(repr=False)
    endpoint: str
    username: str = ""
    password: str = field(default="", repr=False)
    redis_url: str | None = None

    @classmethod
    def from_settings(cls, settings: Settings) -> Target | None:
        endpoint = getattr(settings, "xapi_endpoint", None)
        if not endpoint:
            return None
        return cls(public_url=settings.public_url, actor_key=settings.xapi_actor_key,
                   endpoint=endpoint, username=settings.xapi_username,
                   password=settings.xapi_password, redis_url=settings.redis_url)


def bind(sessions: sessionmaker[Session], settings: Settings, *,
         wake: Callable[[], object] | None = None) -> Target | None:
    """Give the LMS's own sessionmaker its LRS (never every Session of the process: the LMS may
    live inside someone else's Flask site). ``wake`` is called after a commit that wrote
    statements (the web server's sender thread)."""
    target = Target.from_settings(settings)
    info = dict(sessions.kw.get("info") or {})
    info.pop(_TARGET, None)
    info.pop(_WAKE, None)
    if target is not None:
        info[_TARGET] = target
        if wake is not None:
            info[_WAKE] = wake
    sessions.configure(info=info)
    return target


def _now() -> datetime:
    return datetime.now(UTC)


# ------------------------------------------------------------------ writing (in the event's transaction)
def _place(session: Session, target: Target, user_id: int, unit_code: str | None) -> xapi.Place:
    commune = province = None
    unit = session.get(Unit, unit_code) if unit_code else None
    if unit is not None:
        if unit.level == UnitLevel.PROVINCE:
            province = unit.code
        else:
            commune, province = unit.code, unit.parent_code
    return xapi.Place(public_url=target.public_url, actor=xapi.actor_name(target.actor_key, user_id),
                      commune=commune, province=province)


def _write(session: Session, target: Target, statement: dict[str, Any], verb: str, now: datetime,
           ref: str | None = None) -> None:
    session.add(XapiStatement(id=statement["id"], verb=verb, ref=ref, created_at=now, tries=0,
                              body=json.dumps(statement, ensure_ascii=False, separators=(",", ":"))))
    # statements written: wake the sender once, after the outermost commit
    after_commit(session, functools.partial(_wake, session.info.get(_TARGET), session.info.get(_WAKE)), key=_WAKING)


def _wake(target: Target | None, wake: Callable[[], object] | None) -> None:
    if target is not None and target.redis_url:
        try:
            enqueue(target.redis_url, "lms.services.statements.flush_job")
        except Exception:  # the rows are safe in the outbox; the next flush sends them
            log.warning("could not queue the xAPI sender", exc_info=True)
    elif wake is not None:
        wake()


def _course_titles(session: Session, course_id: str) -> dict[str, str]:
    course = session.get(Course, course_id)
    if course is None:
        return {"course_title": course_id}
    return {"course_title": course.title, "course_title_en": course.title_en or ""}


def lesson_completed(session: Session, user: User, lesson: Lesson, *, now: datetime) -> None:
    target = session.info.get(_TARGET)
    if target is None:
        return
    st = xapi.lesson_completed(str(uuid.uuid4()), _place(session, target, user.id, user.unit_code),
                               lesson_id=lesson.id, lesson_title=lesson.title, lesson_title_en=lesson.title_en or "",
                               course_id=lesson.course_id, now=now, **_course_titles(session, lesson.course_id))
    _write(session, target, st, "completed", now)


def attempt_graded(session: Session, attempt: Attempt, quiz: Quiz, *, now: datetime) -> None:
    target = session.info.get(_TARGET)
    if target is None or attempt.score is None or attempt.max_score is None:
        return
    user = session.get(User, attempt.user_id)
    st = xapi.attempt_graded(str(uuid.uuid4()), _place(session, target, attempt.user_id,
                                                       user.unit_code if user else None),
                             quiz_id=quiz.id, quiz_title=quiz.title, course_id=quiz.course_id,
                             **_course_titles(session, quiz.course_id), score=float(attempt.score),
                             max_score=float(attempt.max_score), passed=bool(attempt.passed),
                             attempt_number=attempt.number, now=now)
    _write(session, target, st, "passed" if attempt.passed else "failed", now)


def certificate_issued(session: Session, cert: Certificate, *, now: datetime) -> None:
    target = session.info.get(_TARGET)
    if target is None:
        return
    st = xapi.certificate_earned(str(uuid.uuid4()), _place(session, target, cert.user_id, cert.unit_code),
                                 course_id=cert.course_id, now=now,
                                 **{**_course_titles(session, cert.course_id), "course_title": cert.course_title})
    _write(session, target, st, "earned", now, ref=f"certificate:{cert.code}")


def certificate_revoked(session: Session, cert: Certificate, *, now: datetime) -> None:
    """Void the ``earned`` statement of the certificate (nothing to void if it was issued before
    the LMS had an LRS)."""
    target = session.info.get(_TARGET)
    if target is None:
        return
    earned = session.scalar(select(XapiStatement.id).where(XapiStatement.ref == f"certificate:{cert.code}",
                                                           XapiStatement.verb == "earned"))
    if earned is None:
        return
    st = xapi.certificate_voided(str(uuid.uuid4()), _place(session, target, cert.user_id, cert.unit_code),
                                 earned_id=earned, now=now)
    _write(session, target, st, "voided", now, ref=f"certificate:{cert.code}")


# ------------------------------------------------------------------ sending
@dataclass
class FlushResult:
    sent: int = 0
    pending: int = 0
    rejected: int = 0
    error: str | None = None


def _pending_filter() -> tuple[ColumnElement[bool], ColumnElement[bool]]:
    return (XapiStatement.sent_at.is_(None), XapiStatement.rejected_at.is_(None))


def _claim(session: Session, after: int, token: str, now: datetime, size: int) -> list[tuple[int, str]]:
    """Take the next page of pending rows nobody holds, in one conditional UPDATE … RETURNING (of
    two senders racing for a row, one gets it). No list of ids goes to the database and back:
    at 500 parameters a page, expanding them cost more than the rows themselves."""
    free = or_(XapiStatement.claimed_until.is_(None), XapiStatement.claimed_until < now)
    page = (select(XapiStatement.seq).where(*_pending_filter(), XapiStatement.seq > after, free)
            .order_by(XapiStatement.seq).limit(size).scalar_subquery())
    taken = session.execute(update(XapiStatement).where(XapiStatement.seq.in_(page), free)
                            .values(claimed_until=now + LEASE, claimed_by=token)
                            .returning(XapiStatement.seq, XapiStatement.body)
                            .execution_options(synchronize_session=False))
    return sorted((int(seq), str(body)) for seq, body in taken)


def _release(session: Session, where: ColumnElement[bool], **values: object) -> None:
    """Record what became of rows this sender held, and let go of them."""
    session.execute(update(XapiStatement).where(where)
                    .values(claimed_until=None, claimed_by=None, tries=XapiStatement.tries + 1, **values)
                    .execution_options(synchronize_session=False))


def flush(sessions: sessionmaker[Session], target: Target, *, batch: int = BATCH, lrs: Lrs | None = None,
          limit: int | None = None) -> FlushResult:
    """Send what is pending now, page by page, until done, the LRS stops answering, or ``limit``
    statements went. Every page is its own short transaction; the HTTP call holds none."""
    own = lrs is None
    client = lrs or Lrs(target.endpoint, target.username, target.password)
    result, after = FlushResult(), 0
    try:
        while limit is None or result.sent < limit:
            token = uuid.uuid4().hex
            with write_intent(True), sessions() as session, session.begin():
                rows = _claim(session, after, token, _now(), batch)
            if not rows:
                break
            outcome = client.deliver(rows)
            done = _now()
            delivered = set(outcome.delivered)
            rest = [seq for seq, _ in rows if seq not in delivered and seq not in outcome.rejected]
            with write_intent(True), sessions() as session, session.begin():
                for seq, why in outcome.rejected.items():
                    _release(session, XapiStatement.seq == seq, rejected_at=done, last_error=why[:500])
                if rest:
                    _release(session, XapiStatement.seq.in_(rest), last_error=(outcome.error or "")[:500])
                if delivered:  # what is still held now was delivered: one range, no list of ids
                    _release(session, and_(XapiStatement.seq.between(rows[0][0], rows[-1][0]),
                                           XapiStatement.claimed_by == token), sent_at=done, last_error=None)
            result.sent += len(outcome.delivered)
            result.rejected += len(outcome.rejected)
            after = rows[-1][0]
            if outcome.error:
                result.error = outcome.error
                log.warning("the LRS did not take the statements: %s", outcome.error)
                break
    finally:
        if own:
            client.close()
    with write_intent(False), sessions() as session, session.begin():
        result.pending = _count_pending(session)
    return result


def _count_pending(session: Session) -> int:
    return int(session.scalar(select(func.count()).select_from(XapiStatement).where(*_pending_filter())) or 0)


def status(session: Session) -> dict[str, object]:
    """What the admin page and ``/healthz/xapi`` show: cheap counts over the pending index."""
    oldest = session.scalar(select(func.min(XapiStatement.created_at)).where(*_pending_filter()))
    error = session.scalar(select(XapiStatement.last_error).where(*_pending_filter(),
                                                                  XapiStatement.last_error.is_not(None))
                           .order_by(XapiStatement.seq.desc()).limit(1))
    rejected = session.scalar(select(func.count()).select_from(XapiStatement)
                              .where(XapiStatement.rejected_at.is_not(None))) or 0
    return {"enabled": session.info.get(_TARGET) is not None, "pending": _count_pending(session),
            "rejected": int(rejected), "oldest_pending": oldest.isoformat() if oldest else None,
            "last_error": error}


def replay(session: Session, *, since: datetime) -> int:
    """Queue again every statement recorded since ``since`` (for a new LRS): the same ids and
    bodies, so an LRS that already holds some of them keeps one copy."""
    moved = session.execute(update(XapiStatement).where(XapiStatement.created_at >= since)
                            .values(sent_at=None, rejected_at=None, claimed_until=None, claimed_by=None, tries=0,
                                    last_error=None)
                            .execution_options(synchronize_session=False))
    return int(getattr(moved, "rowcount", 0) or 0)


# ------------------------------------------------------------------ who is behind an opaque actor
def actor_for_login(session: Session, settings: Settings, login: str) -> dict[str, str] | None:
    """The account an LRS holds for this person (for an authorised audit)."""
    user = session.scalar(select(User).where(User.login == normalise_login(login)))
    if user is None:
        return None
    return {"homePage": settings.public_url, "name": xapi.actor_name(settings.xapi_actor_key, user.id)}


def login_for_actor(session: Session, settings: Settings, name: str) -> str | None:
    """The reverse, by recomputing every account's name (the HMAC cannot be inverted)."""
    last = 0
    while True:
        page = session.execute(select(User.id, User.login).where(User.id > last).order_by(User.id).limit(5000)).all()
        if not page:
            return None
        for user_id, login in page:
            if xapi.actor_name(settings.xapi_actor_key, user_id) == name:
                return str(login)
        last = page[-1][0]


# ------------------------------------------------------------------ runners
def start_sender(sessions: sessionmaker[Session], settings: Settings) -> SenderLoop | None:
    """The embedded default's sender (no Redis): a thread of the web process, woken after each
    commit that wrote statements, backing off while the LRS is down. Returns it (None if there
    is no LRS, or Redis has a worker for this)."""
    if not getattr(settings, "xapi_endpoint", None):
        return None
    if settings.redis_url:
        bind(sessions, settings)
        return None
    target = Target.from_settings(settings)
    assert target is not None

    def work() -> bool:
        return flush(sessions, target).error is None

    loop = SenderLoop(work)
    bind(sessions, settings, wake=loop.wake)
    return loop.start()


def flush_job(retry: int = 0) -> dict[str, int]:
    """The RQ job: send what is pending; if the LRS is down, run again later, waiting longer
    each time (up to 5 minutes), until it answers."""
    settings = Settings.load()
    engine = make_engine(settings.database_url)
    try:
        sessions = make_sessionmaker(engine)
        target = bind(sessions, settings)
        if target is None:
            return {"sent": 0, "pending": 0}
        result = flush(sessions, target)
        if result.error and result.pending and settings.redis_url:
            enqueue_in(settings.redis_url, timedelta(seconds=min(300, 5 * 2 ** min(retry, 6))),
                       "lms.services.statements.flush_job", retry + 1)
        return {"sent": result.sent, "pending": result.pending}
    finally:
        engine.dispose()
