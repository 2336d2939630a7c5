from __future__ import annotations

import json
import threading
from datetime import timedelta

import pytest
from sqlalchemy import Engine, delete
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from lms.services import quizzes
from lms.services.errors import Conflict, Invalid, NotFound
from lms.services.unit_of_work import make_sessionmaker
from lms.store import Attempt, AttemptAnswer, Quiz, User
from tests import factories
from tests.factories import now
from tests.quizhelpers import correct_response

FINAL = "an-toan-so-cuoi-khoa"


def test_real_quizzes_are_synced_with_their_banks(session: Session) -> None:
    final = session.get(Quiz, FINAL)
    assert final is not None and final.kind == "final" and final.draw_count == 12
    assert len(quizzes.active_questions(session, FINAL)) >= 20
    for course_quizzes in ("dich-vu-cong", "an-toan-so", "tri-tue-nhan-tao", "chuyen-doi-so-can-bo"):
        kinds = [q.kind for q in quizzes.list_course_quizzes(session, course_quizzes)]
        assert kinds.count("final") == 1 and kinds.count("lesson") >= 5


def test_attempt_draws_questions_and_never_shows_answers(session: Session) -> None:
    user = factories.user(session)
    attempt = quizzes.start_attempt(session, user, FINAL, now=now())
    served = quizzes.learner_questions(attempt)
    assert len(served) == 12 and len({q["id"] for q in served}) == 12
    text = json.dumps(served)
    for key in ('"fraction"', '"correct"', '"answer"', '"answers"', '"pairs"', '"spec"', '"feedback'):
        assert key not in text
    assert attempt.deadline_at == attempt.started_at + timedelta(minutes=30)
    again = quizzes.start_attempt(session, user, FINAL, now=now())
    assert again.id == attempt.id  # resumed, not a second attempt


def test_database_allows_one_open_attempt_per_learner_and_quiz(session: Session) -> None:
    user = factories.user(session)
    first = quizzes.start_attempt(session, user, FINAL, now=now())
    with pytest.raises(IntegrityError), session.begin_nested():
        session.add(Attempt(id="x" * 32, quiz_id=FINAL, user_id=user.id, number=2, status="in_progress",
                            started_at=now(), layout=[]))
    assert first.status == "in_progress"


def test_full_marks_and_grading_once(session: Session) -> None:
    user = factories.user(session)
    attempt = quizzes.start_attempt(session, user, FINAL, now=now())
    for snap in attempt.layout:
        quizzes.save_answer(session, user, attempt.id, snap["id"], correct_response(snap), now=now())
    t1 = now()
    done = quizzes.submit_attempt(session, user, attempt.id, now=t1)
    first = quizzes.attempt_result(session, done)
    assert first["score"] == first["max_score"] > 0 and first["passed"] is True
    assert all(q["correct"] for q in first["questions"])
    later = quizzes.submit_attempt(session, user, attempt.id, now=t1 + timedelta(minutes=5))
    assert quizzes.attempt_result(session, later) == first and later.submitted_at == t1
    with pytest.raises(Conflict):
        quizzes.save_answer(session, user, attempt.id, attempt.layout[0]["id"], None, now=now())


def test_answers_are_checked_and_private(session: Session) -> None:
    owner, other = factories.user(session), factories.user(session)
    attempt = quizzes.start_attempt(session, owner, FINAL, now=now())
    q = attempt.layout[0]
    with pytest.raises(NotFound):
        quizzes.save_answer(session, other, attempt.id, q["id"], None, now=now())
    with pytest.raises(NotFound):
        quizzes.submit_attempt(session, other, attempt.id, now=now())
    with pytest.raises(NotFound):
        quizzes.save_answer(session, owner, attempt.id, "not-a-question", None, now=now())
    with pytest.raises(Invalid):
        quizzes.save_answer(session, owner, attempt.id, q["id"], {"nonsense": [1]}, now=now())


def test_deadline_closes_the_attempt_with_its_saved_answers(session: Session) -> None:
    user = factories.user(session)
    t0 = now()
    attempt = quizzes.start_attempt(session, user, FINAL, now=t0)
    first = attempt.layout[0]
    quizzes.save_answer(session, user, attempt.id, first["id"], correct_response(first), now=t0 + timedelta(minutes=29))
    # within the grace period an answer still counts
    second = attempt.layout[1]
    quizzes.save_answer(session, user, attempt.id, second["id"], correct_response(second),
                        now=t0 + timedelta(minutes=30, seconds=10))
    late = quizzes.save_answer(session, user, attempt.id, attempt.layout[2]["id"], correct_response(attempt.layout[2]),
                               now=t0 + timedelta(minutes=31))
    assert late.closed_by_deadline and late.saved_at is None  # not saved: it closed the attempt instead
    assert late.attempt is not None and late.attempt.status == "submitted"
    session.refresh(attempt)
    assert attempt.status == "submitted" and attempt.finished_by == "deadline"
    assert attempt.score == first["points"] + second["points"]


def test_sweeper_finishes_abandoned_attempts(session: Session) -> None:
    user = factories.user(session)
    t0 = now() - timedelta(hours=2)
    attempt = quizzes.start_attempt(session, user, FINAL, now=t0)
    assert quizzes.finish_expired(session, now=now()) >= 1
    session.refresh(attempt)
    assert attempt.status == "submitted" and attempt.score == 0


def test_item_analysis(session: Session) -> None:
    quiz_id = "an-toan-so-bai-01"
    for good in (True, True, False, False):
        user = factories.user(session)
        attempt = quizzes.start_attempt(session, user, quiz_id, now=now())
        for snap in attempt.layout:
            response = correct_response(snap) if good else None
            if not good and snap["type"] == "single":
                response = min(snap["spec"]["choices"], key=lambda c: c["fraction"])["id"]
            quizzes.save_answer(session, user, attempt.id, snap["id"], response, now=now())
        quizzes.submit_attempt(session, user, attempt.id, now=now())
    stats = quizzes.item_analysis(session, quiz_id)
    assert len(stats) == 4 and all(s.responses == 4 for s in stats)
    assert all(s.facility == 0.5 for s in stats)
    assert all(s.discrimination is not None and s.discrimination > 0.9 for s in stats)
    singles = [s for s in stats if s.wrong_choices]
    assert singles and all(picked == 2 for s in singles for _, picked, _ in s.wrong_choices)


def test_concurrent_submissions_grade_once(engine: Engine) -> None:
    """Six submissions at once on separate connections: one grades, all see the same result."""
    with make_sessionmaker(engine, expire_on_commit=True)() as s, s.begin():
        user = factories.user(s)
        attempt = quizzes.start_attempt(s, user, FINAL, now=now())
        for snap in attempt.layout:
            quizzes.save_answer(s, user, attempt.id, snap["id"], correct_response(snap), now=now())
        user_id, attempt_id = user.id, attempt.id
    results: list[object] = []
    errors: list[BaseException] = []
    barrier = threading.Barrier(6)

    def submit() -> None:
        try:
            barrier.wait(timeout=10)  # before any lock is taken: SQLite writers queue on BEGIN IMMEDIATE
            with make_sessionmaker(engine, expire_on_commit=True)() as s, s.begin():
                u = s.get(User, user_id)
                assert u is not None
                a = quizzes.submit_attempt(s, u, attempt_id, now=now())
                results.append((a.submitted_at, json.dumps(quizzes.attempt_result(s, a), sort_keys=True)))
        except BaseException as exc:  # reported below
            errors.append(exc)

    threads = [threading.Thread(target=submit) for _ in range(6)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=60)
    try:
        assert errors == []
        assert len(results) == 6 and len(set(results)) == 1
    finally:
        with make_sessionmaker(engine, expire_on_commit=True)() as s, s.begin():
            s.execute(delete(AttemptAnswer).where(AttemptAnswer.attempt_id == attempt_id))
            s.execute(delete(Attempt).where(Attempt.id == attempt_id))
            s.execute(delete(User).where(User.id == user_id))
