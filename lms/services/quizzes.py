"""Quizzes: storing banks (from TOML, GIFT, Moodle XML, Aiken), attempts, autosave, grading
exactly once, and item analysis for trainers."""

from __future__ import annotations

import copy
import hashlib
import random
import secrets
import tempfile
import threading
import uuid
from collections import OrderedDict
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime, timedelta
from html import escape
from pathlib import Path
from typing import Any, Literal, TypedDict

from sqlalchemy import Engine, func, select
from sqlalchemy import inspect as sa_inspect
from sqlalchemy.orm import Session, make_transient_to_detached
from sqlalchemy.orm.attributes import set_committed_value
from sqlalchemy.orm.util import identity_key

from lms.config import Settings
from lms.content.importers import read_questions
from lms.content.problems import ContentError, Problem
from lms.content.quizzes import QuizDoc, QuizSettings
from lms.domain import grading
from lms.domain import question_codec as codec
from lms.domain.questions import (
    ChoiceQuestion,
    MatchingQuestion,
    NumericQuestion,
    QuestionType,
    ShortAnswerQuestion,
    TrueFalseQuestion,
)
from lms.domain.questions import Question as QuestionModel
from lms.domain.statistics import ItemStats, item_statistics
from lms.domain.text import nfc, normalise_login
from lms.services import access, accounts, audit, certificates, figures, lti, statements
from lms.services.accounts import AccountRef
from lms.services.errors import Conflict, Forbidden, Invalid, NotFound, ServiceError, Throttled
from lms.store import (
    Attempt,
    AttemptAnswer,
    AttemptStatus,
    Certificate,
    CoOwner,
    Course,
    Question,
    Quiz,
    QuizKind,
    User,
    direct,
)

__all__ = [
    "GRACE",
    "IMPORT_PASS_MARK",
    "AttemptOutcome",
    "AttemptPolicy",
    "AttemptsUsed",
    "Draw",
    "QuizSyncReport",
    "StartOutcome",
    "answer_key",
    "attempt_policy",
    "attempt_result",
    "autosave",
    "certify",
    "finish_expired",
    "get_attempt",
    "get_quiz",
    "get_quiz_for",
    "grant_co_owner",
    "import_file",
    "item_analysis",
    "learner_questions",
    "limited",
    "list_course_quizzes",
    "list_for_author",
    "new_quiz_id",
    "next_attempt_at",
    "open_attempt",
    "preview_questions",
    "read_for_start",
    "replace_bank_from_text",
    "save_answer",
    "save_answers",
    "start",
    "start_attempt",
    "start_direct",
    "store_quiz",
    "submit",
    "submit_attempt",
    "submit_direct",
    "sync_quizzes",
    "update_quiz",
]

GRACE = timedelta(seconds=30)  # network latency: answers arriving just after the deadline still count


@dataclass
class QuizSyncReport:
    created: int = 0
    updated: int = 0
    unchanged: int = 0
    questions: int = 0
    problems: list[str] = field(default_factory=list)


def gradable(snapshot: dict[str, Any]) -> QuestionModel:
    """The question an attempt's layout holds (see :func:`lms.domain.question_codec.from_snapshot`)."""
    return codec.from_snapshot(snapshot)


# ------------------------------------------------------------------ storing quizzes
def store_quiz(session: Session, *, quiz_id: str, course_id: str, title: str, kind: str, lesson_id: str | None,
               settings: QuizSettings, questions: list[QuestionModel], source: str, content_hash: str,
               now: datetime, owner_id: int | None = None, published: bool = True) -> str:
    """Create or refresh a quiz and its bank. Returns "created", "updated" or "unchanged".
    Questions that disappear are deactivated, never deleted: attempts keep pointing at them."""
    if session.get(Course, course_id) is None:
        raise NotFound("course.not_found")
    quiz = session.get(Quiz, quiz_id)
    if quiz is not None and quiz.content_hash == content_hash and quiz.published:
        return "unchanged"
    outcome = "updated" if quiz is not None else "created"
    if quiz is None:
        quiz = Quiz(id=quiz_id, owner_id=owner_id)
        session.add(quiz)
    quiz.course_id, quiz.title, quiz.kind, quiz.lesson_id = course_id, title, kind, lesson_id
    quiz.pass_mark, quiz.time_limit_minutes = settings.pass_mark, settings.time_limit_minutes
    quiz.max_attempts, quiz.cooldown_minutes = settings.max_attempts, settings.cooldown_minutes
    quiz.attempt_window_hours = settings.attempt_window_hours
    quiz.shuffle_questions, quiz.shuffle_choices = settings.shuffle_questions, settings.shuffle_choices
    quiz.review, quiz.draw_count = settings.review, settings.draw_count
    quiz.draw_rules = [[c, list(t), list(k)] for c, t, k in settings.draw_rules]
    quiz.allow_negative, quiz.source, quiz.content_hash = settings.allow_negative, source, content_hash
    quiz.published, quiz.updated_at = published, now
    session.flush()
    _store_bank(session, quiz_id, questions)
    return outcome


def _store_bank(session: Session, quiz_id: str, questions: list[QuestionModel]) -> None:
    existing = {q.local_id: q for q in session.scalars(select(Question).where(Question.quiz_id == quiz_id))}
    wanted = set()
    for position, doc in enumerate(questions, start=1):
        wanted.add(doc.local_id)
        digest = codec.content_hash(doc)
        row = existing.get(doc.local_id)
        if row is None:
            row = Question(id=f"{quiz_id}.{doc.local_id}", quiz_id=quiz_id, local_id=doc.local_id)
            session.add(row)
        if not row.content_hash or row.content_hash != digest:
            row.spec = dict(codec.to_spec(doc))
            row.content_hash = digest
        row.position, row.type, row.text_html, row.points = position, doc.type.value, doc.text_html, doc.points
        row.competences, row.tags, row.category = list(doc.competences), list(doc.tags), doc.category
        row.active = True
    for local_id, row in existing.items():
        if local_id not in wanted:
            row.active = False
    session.flush()


def sync_quizzes(session: Session, docs: list[QuizDoc], *, now: datetime) -> QuizSyncReport:
    report = QuizSyncReport()
    for doc in docs:
        outcome = store_quiz(session, quiz_id=doc.id, course_id=doc.course_id, title=doc.title, kind=doc.kind,
                             lesson_id=doc.lesson_id, settings=doc.settings, questions=doc.questions, source="toml",
                             content_hash=doc.content_hash, now=now)
        setattr(report, outcome, getattr(report, outcome) + 1)
        report.questions += len(doc.questions)
    return report


# Lesson checks first, the final last (Quiz.kind is stored as a plain string).
_KIND_ORDER: dict[str, int] = {QuizKind.LESSON: 0, QuizKind.PRACTICE: 1, QuizKind.FINAL: 2}


def list_course_quizzes(session: Session, course_id: str) -> list[Quiz]:
    quizzes = list(session.scalars(select(Quiz).where(Quiz.course_id == course_id, Quiz.published)))
    return sorted(quizzes, key=lambda q: (_KIND_ORDER.get(q.kind, 1), q.lesson_id or "", q.id))


def list_for_author(session: Session, user: User | None, course_id: str) -> list[Quiz]:
    """The course's published quizzes and the drafts ``user`` may change."""
    rows = [q for q in session.scalars(select(Quiz).where(Quiz.course_id == course_id))
            if access.can_see_quiz(session, user, q)]
    return sorted(rows, key=lambda q: (q.published, _KIND_ORDER.get(q.kind, 1), q.lesson_id or "", q.title))


def get_quiz(session: Session, quiz_id: str) -> Quiz:
    quiz = session.get(Quiz, quiz_id)
    if quiz is None or not quiz.published:
        raise NotFound("quiz.not_found")
    return quiz


def active_questions(session: Session, quiz_id: str) -> list[Question]:
    return list(session.scalars(select(Question).where(Question.quiz_id == quiz_id, Question.active)
                                .order_by(Question.position)))


# ------------------------------------------------------------------ attempts
def _draw(quiz: Quiz, bank: list[Question], rng: random.Random) -> list[Question]:
    if not quiz.draw_count or quiz.draw_count >= len(bank):
        chosen = list(bank)
    else:
        chosen = []
        for count, tags, codes in quiz.draw_rules or []:
            pool = [q for q in bank if q not in chosen and (not tags or set(tags) & set(q.tags))
                    and (not codes or set(codes) & set(q.competences))]
            chosen += rng.sample(pool, min(int(count), len(pool)))
        rest = [q for q in bank if q not in chosen]
        chosen += rng.sample(rest, max(0, min(quiz.draw_count - len(chosen), len(rest))))
        chosen.sort(key=lambda q: q.position)
    if quiz.shuffle_questions:
        rng.shuffle(chosen)
    return chosen


def _stored(q: Question) -> QuestionModel:
    """A bank row as the question model."""
    return codec.from_spec(q.type, q.spec, id=q.id, local_id=q.local_id, text_html=q.text_html, points=q.points,
                           competences=tuple(q.competences), tags=tuple(q.tags), category=q.category,
                           source=q.quiz_id, line=q.position)


def _stored_model(q: Question) -> QuestionModel:
    return codec.from_spec(q.type, q.spec, id=q.id, text_html=q.text_html, points=q.points)


def _snapshot(q: Question, model: QuestionModel, shuffle: bool, rng: random.Random) -> dict[str, Any]:
    correct: list[str] = []
    order: list[str] = []
    targets: list[str] = []
    if isinstance(model, ChoiceQuestion):
        correct = [c.id for c in model.choices]
        order = list(correct)
    elif isinstance(model, MatchingQuestion):
        order = [p.left_id for p in model.lefts]
        targets = [p.right_id for p in model.pairs]
    ordering = model.type is QuestionType.ORDERING
    if shuffle or ordering:
        rng.shuffle(order)
    if ordering and len(order) > 1:
        while order == correct:  # never show the items already in the right order
            rng.shuffle(order)
    rng.shuffle(targets)
    # The layout keeps the row's spec as stored (see codec.Snapshot): grading reads it back.
    return {"id": q.id, "type": q.type, "text_html": q.text_html, "points": q.points, "spec": q.spec,
            "order": order, "targets": targets}


def open_attempt(session: Session, user: AccountRef, quiz_id: str) -> Attempt | None:
    """The learner's attempt in progress, which they may always resume."""
    return _open_attempt(session, user, quiz_id)


def _open_attempt(session: Session, user: AccountRef, quiz_id: str) -> Attempt | None:
    return session.scalar(select(Attempt).where(Attempt.user_id == user.id, Attempt.quiz_id == quiz_id,
                                                Attempt.status == AttemptStatus.IN_PROGRESS))


def _expired(attempt: Attempt, now: datetime) -> bool:
    return attempt.deadline_at is not None and now > attempt.deadline_at + GRACE


@dataclass(frozen=True)
class StartOutcome:
    """What asking to start a quiz did. ``attempt``: the attempt started, or the one in progress
    resumed. ``refusal``: why none may start now (:class:`AttemptsUsed` says when one may;
    ``attempt.limit``, ``quiz.empty``), returned rather than raised because an attempt left open
    past its deadline may have been graded first, and that grading is kept."""

    attempt: Attempt | None
    refusal: ServiceError | None = None
    new: bool = False  # drawn by this call: no answer is saved yet


@dataclass(frozen=True)
class Draw:
    """What starting an attempt reads of the quiz: the quiz and its active questions (copies,
    attached to no session: a version is shared by every request of a worker), and each question
    as grading reads it back from an attempt's layout, by id."""

    quiz: Quiz
    bank: list[Question]
    models: dict[str, QuestionModel] = field(default_factory=dict)


# Published quizzes as starting an attempt reads them, by database and quiz id, with the quiz row
# they were read with: every column of it, so any change to the quiz's settings is seen, and its
# updated_at and content_hash, which every change to its bank moves (store_quiz,
# replace_bank_from_text). Checked against the row on every start: one read of one row by key.
_DRAWS: OrderedDict[tuple[str, str], tuple[tuple[Any, ...], Draw]] = OrderedDict()
_DRAWS_SIZE = 256
_DRAWS_LOCK = threading.Lock()
_VERSION_COLUMNS = ("published", "updated_at", "content_hash", "course_id", "title", "kind", "lesson_id", "pass_mark",
                    "time_limit_minutes", "max_attempts", "cooldown_minutes", "attempt_window_hours",
                    "shuffle_questions", "shuffle_choices", "review", "draw_count", "draw_rules", "allow_negative",
                    "source", "owner_id")
_QUIZ_VERSION = direct.Sql(f"SELECT {', '.join(_VERSION_COLUMNS)} FROM quizzes WHERE id = :id")  # noqa: S608


def _detached(entity: Any) -> Any:
    """A copy of a loaded row that no session knows: a later change in the session that loaded
    it cannot reach the copy kept for every request."""
    kind = type(entity)
    return kind(**{a.key: copy.deepcopy(getattr(entity, a.key)) for a in sa_inspect(kind).column_attrs})


def read_for_start(session: direct.On, quiz_id: str) -> Draw:
    """The quiz and its bank, for :func:`start`: read once per version of the quiz and kept (a
    start then reads three columns of the quiz row to check the version). Raises NotFound for a
    quiz that is not published."""
    return _kept_draw(session, quiz_id, direct.row_apart(session, _QUIZ_VERSION, {"id": quiz_id}))


def _kept_draw(session: direct.On, quiz_id: str, row: Any) -> Draw:
    """:func:`read_for_start` given the quiz's row as :data:`_QUIZ_VERSION` reads it (None: no such quiz)."""
    if row is None or not row[0]:
        raise NotFound("quiz.not_found")
    key, version = (_layout_key(session, quiz_id), tuple(row))
    with _DRAWS_LOCK:
        kept = _DRAWS.get(key)
        if kept is not None and kept[0] == version:
            _DRAWS.move_to_end(key)
            return kept[1]
    if isinstance(session, direct.Driver):  # a version this worker has not kept: read through the ORM
        raise direct.SessionNeeded
    quiz = _detached(get_quiz(session, quiz_id))
    bank = [_detached(q) for q in active_questions(session, quiz_id)]
    draw = Draw(quiz, bank, {q.id: _stored_model(q) for q in bank})
    with _DRAWS_LOCK:
        _DRAWS[key] = (version, draw)
        while len(_DRAWS) > _DRAWS_SIZE:
            _DRAWS.popitem(last=False)
    return draw


_OPEN_ATTEMPT = direct.Sql("SELECT id, deadline_at FROM attempts "
                           "WHERE user_id = :user AND quiz_id = :quiz AND status = 'in_progress'")
_DONE_COUNT = direct.Sql("SELECT count(*) FROM attempts "
                         "WHERE user_id = :user AND quiz_id = :quiz AND status = 'submitted'")
# ON CONFLICT DO NOTHING: a concurrent start of the same learner won the race (the database
# allows one open attempt per learner and quiz); the row then counts nothing.
_INSERT_ATTEMPT = direct.Sql(
    "INSERT INTO attempts (id, quiz_id, user_id, number, status, started_at, deadline_at, layout) "
    "VALUES (:id, :quiz, :user, :number, 'in_progress', :started, :deadline, :layout) ON CONFLICT DO NOTHING")


@dataclass(frozen=True)
class _Fresh:
    """A new attempt's layout, drawn before the transaction begins (it reads nothing the write
    lock guards): the questions in order, the layout as stored, and each question parsed."""

    layout: list[dict[str, Any]]
    stored: str
    models: dict[str, QuestionModel]

    @classmethod
    def draw(cls, draw: Draw, rng: random.Random) -> _Fresh:
        quiz = draw.quiz
        layout = [_snapshot(q, draw.models[q.id], quiz.shuffle_choices, rng) for q in _draw(quiz, draw.bank, rng)]
        return cls(layout, direct.dump_json(layout), {snap["id"]: draw.models[snap["id"]] for snap in layout})


def _attempt_rng() -> random.Random:
    """The generator one attempt's draw and shuffles use: seeded with 256 bits from the operating
    system's generator, so no one can tell one attempt's order from another's. The system generator
    itself (random.SystemRandom) made a system call for every number a draw asked of it: some twenty
    per attempt, each dearer than the whole shuffle (issue 14)."""
    return random.Random(secrets.token_bytes(32))


def _insert_attempt(on: direct.On, draw: Draw, fresh: _Fresh, user_id: int, number: int,
                    now: datetime) -> Attempt | None:
    """The new attempt, written by one statement; None when a concurrent start of the same learner
    won the race (the database allows one open attempt per learner and quiz)."""
    quiz = draw.quiz
    dialect = direct.dialect_of(on)
    attempt = Attempt(id=uuid.uuid4().hex, quiz_id=quiz.id, user_id=user_id, number=number,
                      status=AttemptStatus.IN_PROGRESS, started_at=now, layout=fresh.layout,
                      deadline_at=now + timedelta(minutes=quiz.time_limit_minutes) if quiz.time_limit_minutes else None)
    written = direct.execute(on, _INSERT_ATTEMPT, {
        "user": user_id, "quiz": quiz.id, "id": attempt.id, "number": number, "started": direct.stamp(now, dialect),
        "deadline": direct.stamp(attempt.deadline_at, dialect) if attempt.deadline_at else None,
        "layout": fresh.stored}).rowcount
    if written != 1:
        return None
    _keep_layout(on, attempt.id, fresh.models)  # the autosaves that follow need not parse the layout again
    return attempt


def start(session: Session, user: AccountRef, quiz_id: str, *, now: datetime,
          rng: random.Random | None = None, draw: Draw | None = None, settings: Settings | None = None,
          background: Callable[[int], object] | None = None) -> StartOutcome:
    """Start an attempt, or resume the one in progress. Raises (NotFound) only before any write.
    ``draw``: the quiz and bank read beforehand (:func:`read_for_start`), or read here. An attempt
    in progress found past its deadline is graded first; with ``settings``, a passing final so
    graded earns its certificate (:func:`certify`).
    The attempt is written with one statement on the driver (lms.store.direct), then attached to
    the session as the row it wrote (no flush writes it again)."""
    draw = draw or read_for_start(session, quiz_id)
    quiz = draw.quiz
    fresh = _Fresh.draw(draw, rng or _attempt_rng()) if draw.bank else None
    ids = {"user": user.id, "quiz": quiz_id}
    current = direct.execute(session, _OPEN_ATTEMPT, ids).fetchone()
    if current is not None:
        resumed = session.get(Attempt, current[0])
        assert resumed is not None
        if not _expired(resumed, now):
            return StartOutcome(resumed)
        if _finish(session, resumed, now, by="deadline") and settings is not None:
            certify(session, user, resumed, now=now, settings=settings, background=background)
    # How many were submitted: one aggregate, not every earlier attempt with its layout and result
    # (a practice quiz may be taken hundreds of times).
    done_count = direct.execute(session, _DONE_COUNT, ids).fetchone()[0] or 0
    try:
        opens_at = next_attempt_at(session, user, quiz, now=now)
    except ServiceError as refusal:
        return StartOutcome(None, refusal)
    if opens_at is not None:
        return StartOutcome(None, AttemptsUsed(quiz, opens_at))
    if fresh is None:
        return StartOutcome(None, Conflict("quiz.empty"))
    attempt = _insert_attempt(session, draw, fresh, user.id, done_count + 1, now)
    if attempt is None:
        raced = _open_attempt(session, user, quiz_id)
        if raced is None:
            raise Conflict("attempt.closed")
        return StartOutcome(raced)
    return StartOutcome(_attach(session, attempt), new=True)


# :func:`start_direct`'s two statements, each on its own (autocommit), where the general path
# takes seven round trips on PostgreSQL and holds SQLite's write lock through the Python between
# its statements (issue 14): the bearer check with the quiz's version, then the new attempt,
# numbered after the learner's submitted ones, written only when none is open (the unique index of
# open attempts settles a race, as in :data:`_INSERT_ATTEMPT`).
# SQL of this module and accounts': values go in parameters (hence the noqa: S608).
_START_READ = direct.Sql(
    "WITH holder AS (" + accounts.HOLDER_SQL + ") SELECT holder.id, holder.login, "  # noqa: S608
    + ", ".join(f"quizzes.{c}" for c in _VERSION_COLUMNS) + " FROM quizzes LEFT JOIN holder ON TRUE "
    "WHERE quizzes.id = :quiz")
_START_SQL = (
    "INSERT INTO attempts (id, quiz_id, user_id, number, status, started_at, deadline_at, layout) "
    "SELECT {id}, {quiz}, :user, 1 + (SELECT count(*) FROM attempts "
    "WHERE user_id = :user AND quiz_id = :quiz AND status = 'submitted'), 'in_progress', :started, {deadline}, "
    "{layout} WHERE NOT EXISTS (SELECT 1 FROM attempts WHERE user_id = :user AND quiz_id = :quiz "
    "AND status = 'in_progress') ON CONFLICT DO NOTHING RETURNING number")
_START_WRITE = direct.Sql(  # PostgreSQL types a parameter by its first use: here, where it is untyped
    _START_SQL.format(id=":id", quiz=":quiz", deadline=":deadline", layout=":layout"),
    postgresql=_START_SQL.format(id="CAST(:id AS varchar)", quiz="CAST(:quiz AS varchar)",
                                 deadline="CAST(:deadline AS timestamptz)", layout="CAST(:layout AS json)"))


def start_direct(engine: Engine, raw_token: str, quiz_id: str, *, now: datetime) -> Attempt | None:
    """The API's start on one pooled driver connection, without a session (lms.store.direct.Driver;
    lms.web.attempt_lane), in the plain case: the bearer check, then a new attempt of a practice
    quiz whose version this worker keeps, drawn before the write lock. The attempt returned is
    attached to no session. ``None``, with nothing written, whenever the session's use case must
    answer: no valid token, a quiz not found or not kept yet, a final (its attempt limits), an empty
    bank, an attempt in progress to resume (or to grade, past its deadline)."""
    with direct.driver(engine) as drv:
        params = accounts.holder_params(raw_token, now=now, dialect=drv.dialect)
        row = direct.execute(drv, _START_READ, {**params, "quiz": quiz_id}).fetchone()
        if row is None or row[0] is None:
            return None
        try:
            draw = _kept_draw(drv, quiz_id, row[2:])
        except (ServiceError, direct.SessionNeeded):
            return None
        quiz = draw.quiz
        if limited(quiz) or not draw.bank:
            return None
        fresh = _Fresh.draw(draw, _attempt_rng())
        attempt = Attempt(id=uuid.uuid4().hex, quiz_id=quiz.id, user_id=row[0], status=AttemptStatus.IN_PROGRESS,
                          started_at=now, layout=fresh.layout, deadline_at=now + timedelta(
                              minutes=quiz.time_limit_minutes) if quiz.time_limit_minutes else None)
        with drv.single_write():
            written = direct.execute(drv, _START_WRITE, {
                "id": attempt.id, "quiz": quiz.id, "user": row[0], "started": direct.stamp(now, drv.dialect),
                "deadline": direct.stamp(attempt.deadline_at, drv.dialect) if attempt.deadline_at else None,
                "layout": fresh.stored}).fetchall()  # all: SQLite commits at the end
    if not written:  # one is open (to resume, or to grade past its deadline), or a race: the session's case
        return None
    attempt.number = written[0][0]
    _keep_layout(drv, attempt.id, fresh.models)
    return attempt


def start_attempt(session: Session, user: AccountRef, quiz_id: str, *, now: datetime,
                  rng: random.Random | None = None) -> Attempt:
    """:func:`start` for callers that roll the whole transaction back on a refusal (the CLI,
    tests): the refusal is raised."""
    outcome = start(session, user, quiz_id, now=now, rng=rng)
    if outcome.refusal is not None:
        raise outcome.refusal
    assert outcome.attempt is not None
    return outcome.attempt


class AttemptsUsed(Throttled):
    """A final's attempts are used up for now; ``opens_at`` says when the next one may start."""

    def __init__(self, quiz: Quiz, opens_at: datetime) -> None:
        super().__init__("attempt.wait", opens_at=opens_at.isoformat())
        self.quiz, self.opens_at = quiz, opens_at


def limited(quiz: Quiz) -> bool:
    """Attempt limits and waits bind a course's final only; every other quiz is practice."""
    return quiz.kind == QuizKind.FINAL


def next_attempt_at(session: Session, user: AccountRef, quiz: Quiz, *, now: datetime) -> datetime | None:
    """When ``user`` may start a new attempt of ``quiz`` (``None``: now). Every attempt started
    counts, submitted or not, since starting one shows its questions. Raises Forbidden when a
    final allows a number of attempts in a lifetime and they are all used."""
    if not limited(quiz):
        return None
    started = list(session.scalars(select(Attempt.started_at).where(Attempt.user_id == user.id,
                                                                    Attempt.quiz_id == quiz.id)
                                   .order_by(Attempt.started_at)))
    opens: list[datetime] = []
    if quiz.max_attempts:
        if quiz.attempt_window_hours:
            window = timedelta(hours=quiz.attempt_window_hours)
            recent = [t for t in started if t > now - window]
            if len(recent) >= quiz.max_attempts:
                # the window must slide past enough of them to leave room for one more
                opens.append(recent[len(recent) - quiz.max_attempts] + window)
        elif len(started) >= quiz.max_attempts:
            raise Forbidden("attempt.limit")
    if quiz.cooldown_minutes:
        last = session.scalar(select(func.max(Attempt.submitted_at)).where(Attempt.user_id == user.id,
                                                                          Attempt.quiz_id == quiz.id))
        if last is not None and now < _aware(last) + timedelta(minutes=quiz.cooldown_minutes):
            opens.append(_aware(last) + timedelta(minutes=quiz.cooldown_minutes))
    return max(opens) if opens else None


class AttemptPolicy(TypedDict):
    """A quiz's limits on attempts, as the quiz page and the API's quiz answer show them."""

    limited: bool
    max_attempts: int
    attempt_window_hours: int
    cooldown_minutes: int


def attempt_policy(quiz: Quiz) -> AttemptPolicy:
    """What a learner is told before starting (and the API's quiz answer)."""
    if not limited(quiz):
        return {"limited": False, "max_attempts": 0, "attempt_window_hours": 0, "cooldown_minutes": 0}
    return {"limited": True, "max_attempts": quiz.max_attempts, "attempt_window_hours": quiz.attempt_window_hours,
            "cooldown_minutes": quiz.cooldown_minutes}


def _aware(moment: datetime) -> datetime:
    """An aggregate (max) comes back without the column type's UTC conversion on SQLite."""
    if isinstance(moment, str):
        moment = datetime.fromisoformat(moment)
    return moment if moment.tzinfo is not None else moment.replace(tzinfo=UTC)


def get_attempt(session: Session, user: AccountRef, attempt_id: str, *, lock: bool = False) -> Attempt:
    """The learner's own attempt; anyone else's is "not found", never "forbidden"."""
    attempt = session.get(Attempt, attempt_id, with_for_update=lock) if len(attempt_id) <= 32 else None
    if attempt is None or attempt.user_id != user.id:
        raise NotFound("attempt.not_found")
    return attempt


def saved_responses(session: direct.On, attempt: Attempt) -> dict[str, Any]:
    # Columns, not entities: autosaves are upserts, which an identity map would not see.
    dialect = direct.dialect_of(session)
    return {qid: direct.read_json(response, dialect)
            for qid, response in direct.execute(session, _SAVED, {"id": attempt.id}).fetchall()}


def learner_questions(attempt: Attempt, session: direct.On | Engine | None = None) -> list[dict[str, Any]]:
    """Questions as the learner sees them: text and choices in the order shown, never answers.
    With ``session`` (or the engine: which database), the layout's questions are read from the
    parsed layouts kept per worker."""
    models = _models_of(session, attempt) if session is not None else None
    out = []
    for snap in attempt.layout:
        items, rights = _item_html(models[snap["id"]] if models is not None else gradable(snap))
        q: dict[str, Any] = {"id": snap["id"], "type": snap["type"], "text_html": snap["text_html"],
                             "points": snap["points"],
                             "choices": [{"id": i, "text_html": items[i]} for i in snap["order"]]}
        if snap["type"] == QuestionType.MATCHING:
            q["targets"] = [{"id": i, "text_html": rights[i]} for i in snap["targets"]]
        out.append(q)
    return out


def _item_html(q: QuestionModel) -> tuple[dict[str, str], dict[str, str]]:
    """HTML by id of what a learner orders or picks (choices, matching's left items), and of
    matching's right items."""
    if isinstance(q, ChoiceQuestion):
        return {c.id: c.html for c in q.choices}, {}
    if isinstance(q, MatchingQuestion):
        return {p.left_id: p.left_html for p in q.lefts}, {p.right_id: p.right_html for p in q.pairs}
    return {}, {}


@dataclass(frozen=True)
class AttemptOutcome:
    """What an answer or a submission did to an attempt.

    ``saved``: the answer is stored (``saved_at``). ``closed_by_deadline``: the answer came after
    the deadline and its grace, so it was not stored; the attempt was graded with the answers
    saved before (``attempt`` holds the result). ``submitted``: the attempt is graded (by this
    call or an earlier one), with ``certificate`` when passing the final earned it."""

    status: Literal["saved", "closed_by_deadline", "submitted"]
    attempt_id: str
    saved_at: datetime | None = None
    attempt: Attempt | None = None
    certificate: Certificate | None = None

    @property
    def closed_by_deadline(self) -> bool:
        return self.status == "closed_by_deadline"


def save_answer(session: Session, user: AccountRef, attempt_id: str, question_id: str, response: object, *,
                now: datetime, settings: Settings | None = None,
                background: Callable[[int], object] | None = None) -> AttemptOutcome:
    """Autosave one answer: a locked read of the attempt's three mutable columns (the row lock
    orders it with a submission on PostgreSQL; SQLite's write lock does the same) and one upsert.
    The attempt's layout never changes once drawn, so it is parsed once and kept. Refusals
    (NotFound, ``attempt.closed``, Invalid) are raised before anything is written; an answer after
    the deadline closes the attempt and says so in the outcome, and with ``settings`` a passing
    final so graded earns its certificate (:func:`certify`), as a submission's would."""
    dialect = direct.dialect_of(session)
    head = direct.execute(session, _ATTEMPT_HEAD, {"id": attempt_id}).fetchone() if len(attempt_id) <= 32 else None
    if head is None or head[0] != user.id:
        raise NotFound("attempt.not_found")
    if head[1] != AttemptStatus.IN_PROGRESS:
        raise Conflict("attempt.closed")
    deadline_at = direct.read_stamp(head[2])
    if deadline_at is not None and now > deadline_at + GRACE:
        attempt = get_attempt(session, user, attempt_id, lock=True)
        cert = None
        if _finish(session, attempt, now, by="deadline") and settings is not None:
            cert = certify(session, user, attempt, now=now, settings=settings, background=background)
        return AttemptOutcome("closed_by_deadline", attempt_id, attempt=attempt, certificate=cert)
    question = _kept_layout(session, attempt_id).get(question_id)
    if question is None:
        raise NotFound("question.not_in_attempt")
    problem = grading.response_problem(question, response)
    if problem is not None:
        raise Invalid("response.invalid", {"response": problem})
    direct.execute(session, _UPSERT_ANSWER, {"a": attempt_id, "q": question_id, "r": direct.dump_json(response),
                                             "t": direct.stamp(now, dialect)})
    return AttemptOutcome("saved", attempt_id, saved_at=now)


def autosave(engine: Engine, raw_token: str, attempt_id: str, question_id: str, response: object, *,
             now: datetime) -> AttemptOutcome | None:
    """The API's autosave on one pooled driver connection, without a session (lms.store.direct.Driver;
    lms.web.attempt_lane): what :func:`save_answer` does in the plain case, as one statement
    (:data:`_AUTOSAVE_IN_ONE`), after the answer is checked against the attempt's layout (kept by
    the worker, else read first). ``None`` when the API's view must answer instead (no valid token,
    not the learner's attempt, closed, past the deadline, an answer it refuses): nothing is written
    then. A session's begin and commit cost more than the autosave's own statements, and on
    PostgreSQL each statement is a round trip (bench/README.md, issue 14)."""
    if len(attempt_id) > 32:
        return None
    with direct.driver(engine) as drv:
        question = _kept_layout(drv, attempt_id).get(question_id)
        if question is None or grading.response_problem(question, response) is not None:
            return None
        params = accounts.holder_params(raw_token, now=now, dialect=drv.dialect)
        params.update(a=attempt_id, q=question_id, r=direct.dump_json(response), t=direct.stamp(now, drv.dialect),
                      cutoff=direct.stamp(now - GRACE, drv.dialect))
        with drv.single_write():
            saved = direct.execute(drv, _AUTOSAVE_IN_ONE, params).fetchall()  # all: SQLite commits at the end
    return AttemptOutcome("saved", attempt_id, saved_at=now) if saved else None


# The whole of :func:`save_answer`'s plain case as one statement, a transaction of its own: the
# bearer check, the attempt found the holder's, in progress and within its deadline, and the
# upsert. What orders it with a submission: on PostgreSQL the attempt's row lock (as the session's
# locked read), on SQLite the write lock (lms.store.engine.single_write). Nothing is written when
# any condition fails. On PostgreSQL the autosave took six round trips of about 0.1 ms (and 55 µs
# of the worker's CPU in psycopg) each; on SQLite it held the write lock from its BEGIN IMMEDIATE
# to its COMMIT, through the Python between its statements (issue 14).
_AUTOSAVE_SQL = (
    "WITH holder AS (" + accounts.HOLDER_SQL + "), "  # noqa: S608 (SQL of this module and accounts')
    "head AS (SELECT attempts.id FROM attempts JOIN holder ON attempts.user_id = holder.id "
    "WHERE attempts.id = :a AND attempts.status = 'in_progress' "
    "AND (attempts.deadline_at IS NULL OR attempts.deadline_at >= :cutoff){lock}) "
    "INSERT INTO attempt_answers (attempt_id, question_id, response, saved_at) SELECT head.id, :q, {response}, :t "
    "FROM head WHERE TRUE ON CONFLICT (attempt_id, question_id) "
    "DO UPDATE SET response = excluded.response, saved_at = excluded.saved_at RETURNING 1")
_AUTOSAVE_IN_ONE = direct.Sql(_AUTOSAVE_SQL.format(lock="", response=":r"), postgresql=_AUTOSAVE_SQL.format(
    lock=" FOR UPDATE OF attempts", response="CAST(:r AS json)"))


def save_answers(session: Session, user: AccountRef, attempt_id: str, responses: list[tuple[str, object]], *,
                 now: datetime) -> tuple[AttemptOutcome | None, dict[str, ServiceError]]:
    """Save a page of answers (question id, response), each on its own: a refused answer (every
    refusal comes before anything is written) is reported by question id and the others are still
    saved. Stops at an answer after the deadline, whose outcome (``closed_by_deadline``: the
    attempt is graded) is returned; otherwise the last answer's."""
    outcome: AttemptOutcome | None = None
    refused: dict[str, ServiceError] = {}
    for question_id, response in responses:
        try:
            outcome = save_answer(session, user, attempt_id, question_id, response, now=now)
        except ServiceError as exc:
            refused[question_id] = exc
            continue
        if outcome.closed_by_deadline:
            break
    return outcome, refused


# An autosave's locked read of the attempt's mutable columns (the row lock orders it with a
# submission on PostgreSQL; SQLite's write lock, taken at BEGIN IMMEDIATE, does the same).
_ATTEMPT_HEAD = direct.Sql("SELECT user_id, status, deadline_at FROM attempts WHERE id = :id",
                           postgresql="SELECT user_id, status, deadline_at FROM attempts WHERE id = :id FOR UPDATE")
_UPSERT_ANSWER = direct.Sql(
    "INSERT INTO attempt_answers (attempt_id, question_id, response, saved_at) VALUES (:a, :q, :r, :t) "
    "ON CONFLICT (attempt_id, question_id) DO UPDATE SET response = excluded.response, saved_at = excluded.saved_at")
_LAYOUT = direct.Sql("SELECT layout FROM attempts WHERE id = :id")
_SAVED = direct.Sql("SELECT question_id, response FROM attempt_answers WHERE attempt_id = :id")

class _Layout(Mapping[str, QuestionModel]):
    """An attempt's questions by id, in the order drawn, each parsed from its snapshot when first
    asked for: an autosave checks one answer against one question, and a worker that did not draw
    the attempt parsed all of its questions for that (a fiftieth of the quiz's hot path)."""

    __slots__ = ("_models", "_snapshots")

    def __init__(self, snapshots: list[dict[str, Any]]) -> None:
        self._snapshots = {snap["id"]: snap for snap in snapshots}
        self._models: dict[str, QuestionModel] = {}

    def __getitem__(self, question_id: str) -> QuestionModel:
        model = self._models.get(question_id)
        if model is None:  # two threads may both parse it: the same model either way
            model = self._models[question_id] = gradable(self._snapshots[question_id])
        return model

    def __iter__(self) -> Iterator[str]:
        return iter(self._snapshots)

    def __len__(self) -> int:
        return len(self._snapshots)


# Parsed layouts of recent attempts, keyed by database and attempt id (ids are random UUIDs).
# Bounded: about 6 KB per attempt of a dozen questions, so at most a few MB per worker.
_LAYOUTS: OrderedDict[tuple[Any, str], Mapping[str, QuestionModel]] = OrderedDict()
_LAYOUTS_SIZE = 2048
_LAYOUTS_LOCK = threading.Lock()


def _layout_key(session: direct.On | Engine, attempt_id: str) -> tuple[Any, str]:
    return (direct.database_key(session), attempt_id)


def _keep_layout(session: direct.On | Engine, attempt_id: str,
                 parsed: Mapping[str, QuestionModel]) -> Mapping[str, QuestionModel]:
    with _LAYOUTS_LOCK:
        _LAYOUTS[_layout_key(session, attempt_id)] = parsed
        while len(_LAYOUTS) > _LAYOUTS_SIZE:
            _LAYOUTS.popitem(last=False)
    return parsed


def _cached_layout(session: direct.On | Engine, attempt_id: str) -> Mapping[str, QuestionModel] | None:
    key = _layout_key(session, attempt_id)
    with _LAYOUTS_LOCK:
        parsed = _LAYOUTS.get(key)
        if parsed is not None:
            _LAYOUTS.move_to_end(key)
        return parsed


def _kept_layout(session: direct.On, attempt_id: str) -> Mapping[str, QuestionModel]:
    """The attempt's questions as grading reads them, in the order drawn (its layout never
    changes once drawn, so it is parsed once per worker and kept)."""
    parsed = _cached_layout(session, attempt_id)
    if parsed is not None:
        return parsed
    row = direct.execute(session, _LAYOUT, {"id": attempt_id}).fetchone() if len(attempt_id) <= 32 else None
    if row is None:
        return {}  # no such attempt: nothing kept
    return _keep_layout(session, attempt_id, _Layout(direct.read_json(row[0], direct.dialect_of(session)) or []))


def _models_of(session: direct.On | Engine, attempt: Attempt) -> Mapping[str, QuestionModel]:
    parsed = _cached_layout(session, attempt.id)
    if parsed is not None:
        return parsed
    return _keep_layout(session, attempt.id, _Layout(attempt.layout or []))


def _graded(on: direct.On, attempt: Attempt, now: datetime, by: str, *, quiz: Quiz | None = None,
            saved: dict[str, Any] | None = None) -> tuple[Quiz, dict[str, Any]]:
    """The attempt graded with the answers saved: its quiz and the columns to store. ``quiz`` and
    ``saved``: what was already read of them, or read here."""
    quiz = quiz or _grading_quiz(on, attempt.quiz_id)
    questions = list(_kept_layout(on, attempt.id).values())
    result = grading.grade_attempt(questions, saved_responses(on, attempt) if saved is None else saved,
                                   pass_mark=quiz.pass_mark, allow_negative=quiz.allow_negative)
    stored = {"score": result.score, "max_score": result.max_score, "percent": result.percent,
              "passed": result.passed,
              "questions": [{"id": r.question_id, "score": r.score, "max_score": r.max_score, "correct": r.correct,
                             "feedback_html": "\n".join(f"<p>{f}</p>" if not f.startswith("<") else f
                                                        for f in r.feedback_html)} for r in result.questions]}
    return quiz, {"status": AttemptStatus.SUBMITTED, "submitted_at": now.astimezone(UTC), "finished_by": by,
                  "score": result.score, "max_score": result.max_score, "percent": result.percent,
                  "passed": result.passed, "result": stored}


def _store_grade(on: direct.On, attempt: Attempt, values: dict[str, Any], now: datetime) -> bool:
    """The conditional update that moves the attempt out of "in_progress", once, with its audit
    event: on PostgreSQL one statement (:data:`_GRADE_LOGGED`), on SQLite, which has no
    data-modifying CTE, the update (:data:`_GRADE`) and then the event. On success the attempt
    holds what was stored."""
    dialect = direct.dialect_of(on)
    grade = {"id": attempt.id, "by": values["finished_by"], "score": values["score"],
             "max_score": values["max_score"], "percent": values["percent"], "passed": values["passed"],
             "result": direct.dump_json(values["result"])}
    event = {"quiz_id": attempt.quiz_id, "user_id": attempt.user_id, "score": values["score"],
             "max_score": values["max_score"], "finished_by": values["finished_by"]}
    if dialect == "postgresql":  # the event's "at" is the grade's submitted_at
        logged = audit.event_params(dialect, "attempt.grade", "attempt", attempt.id, now=now, **event)
        if direct.execute(on, _GRADE_LOGGED, {**logged, **grade}).fetchone() is None:
            return False
    else:
        if direct.execute(on, _GRADE, {**grade, "at": direct.stamp(now, dialect)}).rowcount != 1:
            return False
        audit.record_now(on, "attempt.grade", "attempt", attempt.id, now=now, **event)
    for name, value in values.items():  # the row now holds exactly these: no need to read it back
        set_committed_value(attempt, name, value)
    return True


def _finish(session: Session, attempt: Attempt, now: datetime, *, by: str) -> bool:
    """Grade the saved answers and close the attempt, once: the conditional update lets exactly
    one transaction move it out of "in_progress". Returns whether this call graded it."""
    quiz, values = _graded(session, attempt, now, by)
    if not _store_grade(session, attempt, values, now):  # another transaction graded it first
        session.refresh(attempt)  # take what it stored
        return False
    figures.touch_activity(session, attempt.user_id, attempt.id, now)
    lti.record_grading(session, attempt, now=now)  # the score for a platform's line item, if launched with one
    statements.attempt_graded(session, attempt, quiz, now=now)
    return True


def submit_direct(engine: Engine, raw_token: str, attempt_id: str, *, now: datetime,
                  source: str) -> dict[str, Any] | None:
    """The API's submission on one pooled driver connection, without a session
    (lms.store.direct.Driver; lms.web.attempt_lane), in the plain case: the bearer check, the
    attempt in progress graded once and logged, the result as :func:`attempt_result` shows it.
    ``None``, with nothing written, whenever the session's unit of work has more to do: an attempt
    already graded or not the learner's, a quiz version this worker has not kept yet, a passing
    final (its certificate), a quiz launched from an LTI platform (the score to send), the
    learner's first graded attempt of the year (the summary figures). The caller does not use it
    when an LRS is configured (xAPI statements). ``source``: the client's address, for the audit log."""
    with direct.driver(engine) as drv:
        return _submit_in_one(drv, raw_token, attempt_id, now=now, source=source)


# :func:`submit_direct` in one transaction, where the general path takes nine statements (and on
# PostgreSQL two more round trips for BEGIN and COMMIT; on SQLite a read of its own for the token)
# (issue 14). The first statement is the bearer check with everything grading and the hand-back
# rules read: the attempt's row (on PostgreSQL locked, as the session's locked read; on SQLite the
# write lock, taken at BEGIN IMMEDIATE, does that: no autosave lands between the answers read here
# and the grade), its answers, its quiz's version, whether a platform waits for the score, whether
# another attempt of the learner was graded this year. Then the grade and its audit event: on
# PostgreSQL one statement, on SQLite (no data-modifying CTE) two.
# SQL of this module and others': values go in parameters (hence the noqa: S608).
_SUBMIT_READ_SQL = (
    "WITH holder AS (" + accounts.HOLDER_SQL + ") "  # noqa: S608
    "SELECT a.id, a.quiz_id, a.user_id, a.number, a.status, a.started_at, a.deadline_at, holder.login, "
    "(SELECT {answers} FROM attempt_answers WHERE attempt_id = a.id), "
    "EXISTS (" + lti.grade_link_sql(user="a.user_id", quiz="a.quiz_id") + "), "
    "NOT EXISTS (" + figures.earlier_graded_sql(user="a.user_id", attempt="a.id") + "), "
    + ", ".join(f"q.{c}" for c in _VERSION_COLUMNS) + " "
    "FROM attempts a JOIN holder ON a.user_id = holder.id JOIN quizzes q ON q.id = a.quiz_id "
    "WHERE a.id = :a{lock}")
_SUBMIT_READ = direct.Sql(
    _SUBMIT_READ_SQL.format(answers="json_group_array(json_array(question_id, json(response)))", lock=""),
    postgresql=_SUBMIT_READ_SQL.format(answers="json_agg(json_build_array(question_id, response))",
                                       lock=" FOR UPDATE OF a"))

def _submit_in_one(drv: direct.Driver, raw_token: str, attempt_id: str, *, now: datetime,
                   source: str) -> dict[str, Any] | None:
    """:func:`submit_direct`'s transaction (:data:`_SUBMIT_READ`, then :func:`_store_grade`)."""
    if len(attempt_id) > 32:
        return None
    _kept_layout(drv, attempt_id)  # read and parsed, when this worker has not yet, before the transaction
    params = accounts.holder_params(raw_token, now=now, dialect=drv.dialect)
    try:
        with drv.writing():
            row = direct.execute(drv, _SUBMIT_READ, {**params, "a": attempt_id,
                                                     **figures.year_bounds(now, drv.dialect)}).fetchone()
            if row is None or row[4] != AttemptStatus.IN_PROGRESS or row[9] or row[10]:
                raise direct.SessionNeeded  # not the holder's, graded, a platform's score, a year's first
            attempt = Attempt(id=row[0], quiz_id=row[1], user_id=row[2], number=row[3], status=row[4],
                              started_at=direct.read_stamp(row[5]), deadline_at=direct.read_stamp(row[6]))
            quiz = _kept_draw(drv, attempt.quiz_id, row[11:]).quiz
            saved = {qid: response for qid, response in direct.read_json(row[8], drv.dialect) or []}
            quiz, values = _graded(drv, attempt, now, "deadline" if _expired(attempt, now) else "learner",
                                   quiz=quiz, saved=saved)
            if values["passed"] and quiz.kind == QuizKind.FINAL:
                raise direct.SessionNeeded  # its certificate
            acting = audit.acting(accounts.TokenHolder(row[2], row[7]), source)
            try:
                moved = _store_grade(drv, attempt, values, now)
            finally:
                audit.done(acting)
            if not moved:
                raise direct.SessionNeeded
            return attempt_result(drv, attempt, quiz)
    except (ServiceError, direct.SessionNeeded):
        return None


def submit_attempt(session: Session, user: AccountRef, attempt_id: str, *, now: datetime) -> Attempt:
    """Grade the learner's attempt now (once: an attempt already graded is returned as it is).
    The attempt in progress is read, locked, by one statement on the driver, and graded with one
    conditional update."""
    row = direct.execute(session, _SUBMIT_HEAD, {"id": attempt_id}).fetchone() if len(attempt_id) <= 32 else None
    if row is None or row[2] != user.id:
        raise NotFound("attempt.not_found")
    if row[4] != AttemptStatus.IN_PROGRESS:
        return get_attempt(session, user, attempt_id)
    attempt = session.identity_map.get(identity_key(Attempt, attempt_id))
    if attempt is None:  # as the row stands: its layout is read only if asked for
        attempt = _attach(session, Attempt(
            id=row[0], quiz_id=row[1], user_id=row[2], number=row[3], status=row[4],
            started_at=direct.read_stamp(row[5]), deadline_at=direct.read_stamp(row[6]), submitted_at=None,
            finished_by=None, score=None, max_score=None, percent=None, passed=None, result=None))
    _finish(session, attempt, now, by="deadline" if _expired(attempt, now) else "learner")
    return attempt


def _attach(session: Session, attempt: Attempt) -> Attempt:
    """An attempt built from what a statement on the driver wrote or read, made the session's
    own as that row (persistent, nothing to flush). A column not given (an attempt's layout, when
    only its head was read) is read from the row when first asked for."""
    make_transient_to_detached(attempt)
    session.add(attempt)
    return attempt


_SUBMIT_HEAD_SQL = "SELECT id, quiz_id, user_id, number, status, started_at, deadline_at FROM attempts WHERE id = :id"
_SUBMIT_HEAD = direct.Sql(_SUBMIT_HEAD_SQL, postgresql=_SUBMIT_HEAD_SQL + " FOR UPDATE")
_GRADE = direct.Sql(
    "UPDATE attempts SET status = 'submitted', submitted_at = :at, finished_by = :by, score = :score, "
    "max_score = :max_score, percent = :percent, passed = :passed, result = :result "
    "WHERE id = :id AND status = 'in_progress'")
# :data:`_GRADE` with its audit event, in one statement (PostgreSQL): a round trip fewer.
# SQL of this module and audit's: values go in parameters (hence the noqa: S608).
_GRADE_LOGGED = direct.Sql(
    "WITH graded AS (UPDATE attempts SET status = 'submitted', submitted_at = :at, finished_by = :by, "  # noqa: S608
    "score = :score, max_score = :max_score, percent = :percent, passed = :passed, result = CAST(:result AS json) "
    "WHERE id = :id AND status = 'in_progress' RETURNING id) " + audit.insert_from("graded") + " RETURNING 1")


def _grading_quiz(session: direct.On, quiz_id: str) -> Quiz:
    """The quiz's settings that grading reads: the version kept for starting attempts while the
    quiz is published, else the row (an attempt left open may be graded after it was withdrawn)."""
    try:
        return read_for_start(session, quiz_id).quiz
    except NotFound:
        if isinstance(session, direct.Driver):
            raise direct.SessionNeeded from None
        quiz = session.get(Quiz, quiz_id)
        assert quiz is not None
        return quiz


def submit(session: Session, user: AccountRef, attempt_id: str, *, now: datetime, settings: Settings,
           background: Callable[[int], object] | None = None) -> AttemptOutcome:
    """The learner submits (or a page finds the time is up): grade the attempt once and, when it
    passes a course's final, issue the certificate it earns and have its PDF made
    (lms.services.certificates.award). Raises (NotFound) only before any write."""
    attempt = submit_attempt(session, user, attempt_id, now=now)
    cert = certify(session, user, attempt, now=now, settings=settings, background=background)
    return AttemptOutcome("submitted", attempt.id, attempt=attempt, certificate=cert)


def certify(session: Session, user: AccountRef | None, attempt: Attempt, *, now: datetime, settings: Settings,
            background: Callable[[int], object] | None = None) -> Certificate | None:
    """A graded attempt that passes a published course final: the course certificate it earns,
    issued with its PDF scheduled (lms.services.certificates.award), whoever graded it: the learner
    submitting, an answer or a return after the deadline, or the sweep of abandoned attempts.
    ``user``: the attempt's learner when the caller has the account at hand, else read here."""
    if not attempt.passed:
        return None
    quiz = _grading_quiz(session, attempt.quiz_id)
    if quiz.kind != QuizKind.FINAL or not quiz.published:
        return None
    account = user if isinstance(user, User) and user.id == attempt.user_id else session.get(User, attempt.user_id)
    assert account is not None
    return certificates.award(session, account, quiz.course_id, now=now, settings=settings, background=background)


def attempt_result(session: direct.On, attempt: Attempt, quiz: Quiz | None = None) -> dict[str, Any]:
    """The graded result as the quiz's review policy allows the learner to see it (``quiz``: the
    attempt's, when the caller has it)."""
    quiz = quiz or _grading_quiz(session, attempt.quiz_id)
    assert attempt.result is not None
    stored = attempt.result
    out: dict[str, Any] = {"attempt_id": attempt.id, "quiz_id": quiz.id, "score": stored["score"],
                           "max_score": stored["max_score"], "percent": stored["percent"],
                           "passed": stored["passed"], "pass_mark": quiz.pass_mark,
                           "finished_by": attempt.finished_by,
                           "submitted_at": attempt.submitted_at.isoformat() if attempt.submitted_at else None}
    if limited(quiz) and not stored["passed"]:
        # Attempts remain until the final is passed: telling which questions were wrong, or why,
        # would let a learner find the key by elimination over attempts. The score is the answer.
        out["questions"] = [{"id": q["id"], "correct": None, "score": None, "max_score": q["max_score"],
                             "feedback_html": ""} for q in stored["questions"]]
        out["review"] = "withheld"
    elif quiz.review in ("correctness", "feedback"):
        out["questions"] = [{"id": q["id"], "correct": q["correct"], "score": q["score"], "max_score": q["max_score"],
                             "feedback_html": q["feedback_html"] if quiz.review == "feedback" else ""}
                            for q in stored["questions"]]
        out["review"] = quiz.review
    else:
        out["questions"] = []
        out["review"] = quiz.review
    return out


def finish_expired(session: Session, *, now: datetime, limit: int = 500, settings: Settings | None = None,
                   background: Callable[[int], object] | None = None) -> int:
    """Close attempts left open past their deadline, grading the answers they saved; with
    ``settings``, a passing final so graded earns its certificate (:func:`certify`)."""
    stale = session.scalars(select(Attempt).where(Attempt.status == AttemptStatus.IN_PROGRESS,
                                                  Attempt.deadline_at.is_not(None),
                                                  Attempt.deadline_at < now - GRACE).limit(limit)).all()
    finished = 0
    for attempt in stale:
        if _finish(session, attempt, now, by="deadline"):
            finished += 1
            if settings is not None:
                certify(session, None, attempt, now=now, settings=settings, background=background)
    return finished


# ------------------------------------------------------------------ statistics for trainers
def item_analysis(session: Session, quiz_id: str) -> list[ItemStats]:
    attempts = session.scalars(select(Attempt).where(Attempt.quiz_id == quiz_id,
                                                     Attempt.status == AttemptStatus.SUBMITTED)).all()
    questions = {q.id: q for q in session.scalars(select(Question).where(Question.quiz_id == quiz_id))}
    rows: list[tuple[str, float, float, float, object]] = []
    for attempt in attempts:
        result = attempt.result or {}
        answers = {a.question_id: a.response for a in session.scalars(
            select(AttemptAnswer).where(AttemptAnswer.attempt_id == attempt.id))}
        total = float(result.get("score", 0))
        for q in result.get("questions", []):
            rows.append((q["id"], float(q["score"]), float(q["max_score"]), total, answers.get(q["id"])))
    models = {qid: _stored(q) for qid, q in questions.items()}
    wrong_choices = {qid: {c.id: c.html for c in m.choices if c.fraction <= 0}
                     for qid, m in models.items()
                     if isinstance(m, ChoiceQuestion) and m.type in (QuestionType.SINGLE, QuestionType.MULTIPLE)}
    titles = {qid: q.text_html for qid, q in questions.items()}
    return item_statistics(rows, wrong_choices, titles)


def attempts_count(session: Session, quiz_id: str) -> int:
    return session.scalar(select(func.count()).select_from(Attempt).where(Attempt.quiz_id == quiz_id)) or 0


IMPORT_PASS_MARK = 70.0  # the finals' mark: a practice quiz that passes at 50% teaches little


def new_quiz_id() -> str:
    """An imported quiz's id: random, never from the file name, and with an underscore that the
    ids of quizzes/*.toml files cannot contain, so an import can never take a file quiz's id."""
    return "imp_" + secrets.token_hex(6)


def _read_import(path: Path, fmt: str | None) -> tuple[list[QuestionModel], str, list[str], str]:
    """The file's questions (local ids made unique), its own title, what was skipped, its hash.
    Raises ContentError, naming file and line, on any problem."""
    result = read_questions(path, fmt)
    if result.problems:
        raise ContentError(sorted(result.problems))
    if not result.questions:
        raise ContentError([Problem(str(path), 1, "no question that can be imported")])
    seen: dict[str, int] = {}
    docs = []
    for doc in result.questions:  # imported names may repeat: make local ids unique
        n = seen.get(doc.local_id, 0)
        seen[doc.local_id] = n + 1
        docs.append(doc if n == 0 else replace(doc, local_id=f"{doc.local_id}-{n + 1}"))
    digest = hashlib.sha256(path.read_bytes()).hexdigest()
    # the file's own title, else the deepest part of its first category ("Mẫu/An toàn" -> "An toàn")
    title = (result.title or "").strip() or next(
        (d.category.rstrip("/").rsplit("/", 1)[-1].strip() for d in docs if d.category.strip()), "")
    return docs, title, [str(p) for p in result.skipped], digest


def import_title(file_title: str, filename: str) -> str:
    """A title a person reads: the file's own (a GIFT category, a Moodle XML category, ...), else
    one that names the file; never a slug made from the file name."""
    title = " ".join(nfc(file_title).split())[:300]
    return title or f"Câu hỏi nhập từ tệp {nfc(Path(filename).name)}"[:300]


def import_file(session: Session, path: Path, *, course_id: str, fmt: str | None, now: datetime,
                owner_id: int | None = None, draft: bool = False, replace: str | None = None,
                title: str | None = None, filename: str | None = None) -> tuple[str, int, list[str]]:
    """Import a GIFT / Moodle XML / Aiken file as a NEW practice quiz of the course (unlimited
    attempts, not needed for the certificate), published at once unless ``draft``. It never
    changes a quiz that exists, unless ``replace`` names an imported quiz its owner may replace
    (``owner_id`` is the person acting; ``None`` the operator at the command line). Raises
    ContentError (nothing stored) on a bad file; returns (quiz id, questions, skipped)."""
    docs, file_title, skipped, digest = _read_import(path, fmt)
    if session.get(Course, course_id) is None:
        raise NotFound("course.not_found")
    actor = session.get(User, owner_id) if owner_id is not None else None
    source = fmt or "import"

    if replace is not None:
        target = session.get(Quiz, replace)
        if target is None:
            raise NotFound("quiz.not_found")
        if not access.can_replace_quiz(session, actor, target):
            raise Forbidden("quiz.replace_forbidden")
        if target.course_id != course_id:
            raise Invalid("quiz.invalid", {"course": "quiz.other_course"})
        target.source, target.content_hash, target.updated_at = source, digest, now
        _store_bank(session, target.id, docs)
        audit.record(session, "quiz.replace", "quiz", target.id, now=now, file=path.name, questions=len(docs))
        return target.id, len(docs), skipped
    qid = new_quiz_id()
    settings = QuizSettings(pass_mark=IMPORT_PASS_MARK, shuffle_questions=False, shuffle_choices=True,
                            review="feedback")
    store_quiz(session, quiz_id=qid, course_id=course_id, kind=QuizKind.PRACTICE, lesson_id=None, settings=settings,
               title=(title or "").strip()[:300] or import_title(file_title, filename or path.name),
               questions=docs, source=source, content_hash=digest, now=now, owner_id=owner_id,
               published=not draft)
    audit.record(session, "quiz.import", "quiz", qid, now=now, file=filename or path.name, questions=len(docs),
                 course_id=course_id, draft=draft)
    return qid, len(docs), skipped


def get_quiz_for(session: Session, user: User | None, quiz_id: str, *, drafts: bool = False) -> Quiz:
    """A quiz as ``user`` may see it: published ones for everyone, drafts for their authors
    (and, with ``drafts``, for the operator at the command line)."""
    quiz = session.get(Quiz, quiz_id) if len(quiz_id) <= 100 else None
    if quiz is None or not (drafts or access.can_see_quiz(session, user, quiz)):
        raise NotFound("quiz.not_found")
    return quiz


def update_quiz(session: Session, user: User, quiz_id: str, *, title: str, pass_mark: float, publish: bool,
                now: datetime) -> Quiz:
    """Rename an imported quiz, set its pass mark, and publish it (a published one stays so)."""
    quiz = get_quiz_for(session, user, quiz_id)
    if not access.can_edit_quiz(session, user, quiz):
        raise Forbidden("auth.forbidden")
    errors = {}
    clean = " ".join(nfc(title).split())
    if not clean or len(clean) > 300:
        errors["title"] = "quiz.title"
    if not 0 < pass_mark <= 100:
        errors["pass_mark"] = "quiz.pass_mark"
    if errors:
        raise Invalid("quiz.invalid", errors)
    was = quiz.published
    quiz.title, quiz.pass_mark, quiz.updated_at = clean, float(pass_mark), now
    quiz.published = was or publish
    session.flush()
    if quiz.published and not was:
        audit.record(session, "quiz.publish", "quiz", quiz.id, now=now, title=clean, pass_mark=float(pass_mark))
    return quiz


def grant_co_owner(session: Session, actor: User | None, object_type: str, object_id: str, login: str, *,
                   now: datetime) -> None:
    """Let ``login`` change a course's lessons or an imported quiz's bank beside its owner."""
    if object_type not in ("course", "quiz"):
        raise Invalid("co_owner.invalid")
    found = session.get(Course if object_type == "course" else Quiz, object_id)
    if found is None:
        raise NotFound(f"{object_type}.not_found")
    if isinstance(found, Quiz) and access.is_file_quiz(found):
        raise Forbidden("quiz.file_only")
    if not access.can_grant(session, actor, object_type, object_id):
        raise Forbidden("auth.forbidden")
    person = session.scalar(select(User).where(User.login == normalise_login(login)))
    if person is None:
        raise NotFound("user.not_found")
    if not access.can_author(person):
        raise Invalid("co_owner.invalid", {"login": "co_owner.not_author"})
    if person.id not in access.co_owner_ids(session, object_type, object_id):
        session.add(CoOwner(object_type=object_type, object_id=object_id, user_id=person.id,
                            granted_by_id=actor.id if actor else None, granted_at=now))
        session.flush()
        audit.record(session, "co_owner.grant", object_type, object_id, now=now, user_id=person.id)


def question_docs(session: Session, quiz_id: str) -> list[QuestionModel]:
    """The quiz's active bank as the question model, read where it is stored (for export)."""
    if session.get(Quiz, quiz_id) is None:
        raise NotFound("quiz.not_found")
    return [_stored(q) for q in active_questions(session, quiz_id)]


def preview_questions(session: Session, user: User | None, quiz_id: str) -> list[dict[str, Any]]:
    """Every question of the bank as a learner would see it, with its answer key, nothing stored."""
    quiz = get_quiz_for(session, user, quiz_id)
    rng = random.Random(0)  # a stable preview
    bank = active_questions(session, quiz_id)
    fake = Attempt(layout=[_snapshot(q, _stored_model(q), quiz.shuffle_choices, rng) for q in bank])
    out = learner_questions(fake)
    for view, q in zip(out, bank, strict=True):
        view["key"] = answer_key(_stored(q))
    return out


def answer_key(q: QuestionModel) -> list[dict[str, str]]:
    """The key as an author reads it: lines of (HTML, note). Only authors' pages show it."""
    if isinstance(q, ChoiceQuestion):
        if q.type is QuestionType.ORDERING:
            return [{"html": c.html, "note": str(n)} for n, c in enumerate(q.choices, start=1)]
        return [{"html": c.html, "note": f"{round(100 * c.fraction)}%"} for c in q.choices if c.fraction > 0]
    if isinstance(q, TrueFalseQuestion):
        return [{"html": "", "note": "true" if q.answer else "false"}]
    if isinstance(q, ShortAnswerQuestion):
        return [{"html": escape(a.text), "note": f"{round(100 * a.fraction)}%"} for a in q.answers if a.fraction > 0]
    if isinstance(q, NumericQuestion):
        return [{"html": escape(f"{n.value:g} ± {n.tolerance:g}"), "note": f"{round(100 * n.fraction)}%"}
                for n in q.numbers if n.fraction > 0]
    return [{"html": p.left_html, "note": "", "match_html": p.right_html} for p in q.lefts]


def replace_bank_from_text(session: Session, user: User, quiz_id: str, text: str, *, fmt: str,
                           now: datetime) -> int:
    """Replace an editable quiz's bank with questions written in GIFT (or Aiken / Moodle XML).
    Raises ContentError with line numbers and stores nothing when the text has a problem."""
    quiz = get_quiz_for(session, user, quiz_id)
    if not access.can_edit_quiz(session, user, quiz):
        raise Forbidden("auth.forbidden")
    suffix = {"moodle-xml": ".xml"}.get(fmt, ".txt")
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / f"bank{suffix}"
        path.write_text(text, encoding="utf-8")
        docs, _, _, digest = _read_import(path, fmt)
    quiz.content_hash, quiz.updated_at = digest, now
    _store_bank(session, quiz.id, docs)
    audit.record(session, "quiz.edit", "quiz", quiz.id, now=now, questions=len(docs))
    return len(docs)
