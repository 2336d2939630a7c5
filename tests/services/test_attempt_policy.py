"""A final that measures: attempts per window, waits, a pool larger than the draw, and no key
revealed while attempts remain; practice quizzes stay unlimited."""

from __future__ import annotations

from datetime import datetime, timedelta
from pathlib import Path

import pytest
from sqlalchemy.orm import Session

from lms.content.quizzes import check_quizzes
from lms.services import quizzes
from lms.services.errors import Forbidden
from lms.store import Attempt, Certificate, Quiz, User
from tests import factories
from tests.factories import now
from tests.quizhelpers import correct_response
from tests.shared_dir import SHARED

OFFICIALS_FINAL = "chuyen-doi-so-can-bo-cuoi-khoa"
CITIZENS_FINAL = "dich-vu-cong-cuoi-khoa"
PROJECT = Path(__file__).resolve().parents[2]


def _take(session: Session, user, quiz_id: str, at, *, good: bool = False):  # type: ignore[no-untyped-def]
    attempt = quizzes.start_attempt(session, user, quiz_id, now=at)
    if good:
        for snap in attempt.layout:
            quizzes.save_answer(session, user, attempt.id, snap["id"], correct_response(snap), now=at)
    return quizzes.submit_attempt(session, user, attempt.id, now=at + timedelta(minutes=1))


def test_officials_final_allows_three_attempts_a_day_then_says_when(session: Session) -> None:
    quiz = session.get(Quiz, OFFICIALS_FINAL)
    assert quiz is not None and (quiz.max_attempts, quiz.attempt_window_hours) == (3, 24)
    user = factories.user(session, role="official")
    t0 = now()
    for i in range(3):
        _take(session, user, OFFICIALS_FINAL, t0 + timedelta(minutes=10 * i))
    with pytest.raises(quizzes.AttemptsUsed) as refused:
        quizzes.start_attempt(session, user, OFFICIALS_FINAL, now=t0 + timedelta(hours=2))
    assert refused.value.status == 429 and refused.value.opens_at == t0 + timedelta(hours=24)
    # the window slides: once the first attempt is a day old, one more may start
    _take(session, user, OFFICIALS_FINAL, t0 + timedelta(hours=24, seconds=1))
    with pytest.raises(quizzes.AttemptsUsed) as again:
        quizzes.start_attempt(session, user, OFFICIALS_FINAL, now=t0 + timedelta(hours=24, minutes=5))
    assert again.value.opens_at == t0 + timedelta(hours=24, minutes=10)


def test_an_abandoned_attempt_counts_and_resuming_is_always_allowed(session: Session) -> None:
    user = factories.user(session, role="official")
    t0 = now()
    _take(session, user, OFFICIALS_FINAL, t0)
    _take(session, user, OFFICIALS_FINAL, t0 + timedelta(minutes=5))
    open_one = quizzes.start_attempt(session, user, OFFICIALS_FINAL, now=t0 + timedelta(minutes=10))
    assert quizzes.start_attempt(session, user, OFFICIALS_FINAL, now=t0 + timedelta(minutes=11)).id == open_one.id
    # left unanswered past its deadline it is graded, and it was the third attempt of the day
    with pytest.raises(quizzes.AttemptsUsed):
        quizzes.start_attempt(session, user, OFFICIALS_FINAL, now=t0 + timedelta(hours=1))


def test_cooldown_and_lifetime_limit_of_a_final(session: Session) -> None:
    quiz = session.get(Quiz, CITIZENS_FINAL)
    assert quiz is not None
    quiz.max_attempts, quiz.attempt_window_hours, quiz.cooldown_minutes = 2, 0, 60
    user = factories.user(session)
    t0 = now()
    _take(session, user, CITIZENS_FINAL, t0)
    with pytest.raises(quizzes.AttemptsUsed) as cooling:
        quizzes.start_attempt(session, user, CITIZENS_FINAL, now=t0 + timedelta(minutes=10))
    assert cooling.value.opens_at == t0 + timedelta(minutes=61)
    _take(session, user, CITIZENS_FINAL, t0 + timedelta(minutes=62))
    with pytest.raises(Forbidden):
        quizzes.start_attempt(session, user, CITIZENS_FINAL, now=t0 + timedelta(days=30))


def test_practice_quizzes_are_unlimited_whatever_their_row_says(session: Session) -> None:
    quiz = session.get(Quiz, "dich-vu-cong-bai-01")
    assert quiz is not None and quiz.kind == "lesson"
    quiz.max_attempts, quiz.attempt_window_hours, quiz.cooldown_minutes = 1, 24, 60
    user = factories.user(session)
    t0 = now()
    for i in range(6):
        _take(session, user, quiz.id, t0 + timedelta(minutes=2 * i))
    qid, _, _ = quizzes.import_file(session, SHARED / "accept" / "sample_quiz.gift", course_id="dich-vu-cong",
                                    fmt=None, now=t0)
    for i in range(6):
        _take(session, user, qid, t0 + timedelta(minutes=2 * i))


def test_a_failed_final_withholds_correctness_and_feedback(session: Session) -> None:
    user = factories.user(session)
    failed = _take(session, user, CITIZENS_FINAL, now())
    result = quizzes.attempt_result(session, failed)
    assert result["passed"] is False and result["review"] == "withheld"
    assert len(result["questions"]) == 12
    assert all(q["correct"] is None and q["feedback_html"] == "" and q["score"] is None for q in result["questions"])
    # the stored grading still knows: only what the learner is shown is withheld
    assert failed.result is not None and any(q["correct"] is False for q in failed.result["questions"])


def test_a_passed_final_shows_each_question_with_its_feedback(session: Session) -> None:
    user = factories.user(session)
    passed = _take(session, user, CITIZENS_FINAL, now(), good=True)
    result = quizzes.attempt_result(session, passed)
    assert result["passed"] is True and result["review"] == "feedback"
    assert all(q["correct"] is True for q in result["questions"])


def test_a_practice_quiz_shows_correctness_after_a_failed_attempt(session: Session) -> None:
    user = factories.user(session)
    done = _take(session, user, "dich-vu-cong-bai-01", now())
    result = quizzes.attempt_result(session, done)
    assert result["passed"] is False and all(q["correct"] is not None for q in result["questions"])


def test_every_final_draws_from_a_larger_pool_and_caps_attempts() -> None:
    docs, problems = check_quizzes(PROJECT / "quizzes")
    assert problems == []
    finals = [d for d in docs if d.kind == "final"]
    assert len(finals) == len(list((PROJECT / "course_content").glob("*/course.toml")))  # one final per course
    for doc in finals:
        assert doc.settings.draw_count is not None and doc.settings.draw_count < len(doc.questions), doc.id
        assert doc.settings.max_attempts >= 1 and doc.settings.attempt_window_hours >= 1, doc.id


def test_content_check_refuses_a_final_without_a_larger_pool_or_a_cap(tmp_path: Path) -> None:
    source = (PROJECT / "quizzes" / f"{CITIZENS_FINAL}.toml").read_text(encoding="utf-8")
    header, _, rest = source.partition("[draw]")
    questions = rest.count("[[questions]]")
    bad = tmp_path / f"{CITIZENS_FINAL}.toml"
    bad.write_text(header.replace("max_attempts = 5", "max_attempts = 0") + "[draw]" +
                   rest.replace("count = 12", f"count = {questions}", 1), encoding="utf-8")
    _, problems = check_quizzes(bad)
    messages = " | ".join(p.message for p in problems)
    assert "draw fewer questions than its pool" in messages and "needs 'max_attempts'" in messages
    lesson = (PROJECT / "quizzes" / "dich-vu-cong-bai-01.toml").read_text(encoding="utf-8")
    limited = tmp_path / "dich-vu-cong-bai-01.toml"
    limited.write_text(lesson.replace("max_attempts = 0", "max_attempts = 2"), encoding="utf-8")
    _, problems = check_quizzes(limited)
    assert any("applies to a course's final only" in p.message for p in problems) or "max_attempts" not in lesson


def test_start_says_no_without_raising_and_keeps_the_grading_it_did(session: Session) -> None:
    """Refusing a start after grading an abandoned attempt is an outcome, not an exception: the
    caller commits, so the grading is kept rather than undone with the refusal."""
    user = factories.user(session, role="official")
    t0 = now()
    _take(session, user, OFFICIALS_FINAL, t0)
    _take(session, user, OFFICIALS_FINAL, t0 + timedelta(minutes=5))
    abandoned = quizzes.start(session, user, OFFICIALS_FINAL, now=t0 + timedelta(minutes=10)).attempt
    assert abandoned is not None
    refused = quizzes.start(session, user, OFFICIALS_FINAL, now=t0 + timedelta(hours=1))
    assert refused.attempt is None and isinstance(refused.refusal, quizzes.AttemptsUsed)
    session.commit()
    session.refresh(abandoned)
    assert abandoned.status == "submitted" and abandoned.finished_by == "deadline"


def test_submitting_a_passed_final_awards_the_certificate_and_schedules_its_pdf(session: Session) -> None:
    from sqlalchemy import select

    from lms.services import catalogue
    from lms.store import Lesson

    user = factories.user(session)
    for lesson_id in session.scalars(select(Lesson.id).where(Lesson.course_id == "dich-vu-cong")):
        catalogue.complete_lesson(session, user, lesson_id, now=now())
    attempt = quizzes.start_attempt(session, user, CITIZENS_FINAL, now=now())
    for snap in attempt.layout:
        assert quizzes.save_answer(session, user, attempt.id, snap["id"], correct_response(snap),
                                   now=now()).status == "saved"
    asked: list[int] = []
    outcome = quizzes.submit(session, user, attempt.id, now=now(), settings=factories.PDFS_LATER["settings"],
                             background=asked.append)
    assert outcome.status == "submitted" and outcome.attempt is not None and outcome.attempt.passed
    assert outcome.certificate is not None and outcome.certificate.course_id == "dich-vu-cong"
    session.commit()
    assert asked == [outcome.certificate.id]


def _final_answered_in_full(session: Session, t0: datetime) -> tuple[User, Attempt]:
    """A learner with every lesson of the citizens' course done and the final started at ``t0``
    with every answer right: passing, once graded."""
    from sqlalchemy import select

    from lms.services import catalogue
    from lms.store import Lesson

    user = factories.user(session)
    for lesson_id in session.scalars(select(Lesson.id).where(Lesson.course_id == "dich-vu-cong")):
        catalogue.complete_lesson(session, user, lesson_id, now=t0)
    attempt = quizzes.start_attempt(session, user, CITIZENS_FINAL, now=t0)
    for snap in attempt.layout:
        quizzes.save_answer(session, user, attempt.id, snap["id"], correct_response(snap), now=t0)
    return user, attempt


def _certificates(session: Session, user: User) -> list[Certificate]:
    from sqlalchemy import select

    return list(session.scalars(select(Certificate).where(Certificate.user_id == user.id)))


@pytest.mark.parametrize("graded_by", ["a late answer", "starting again", "the sweep"])
def test_a_passing_final_graded_at_its_deadline_earns_the_certificate(session: Session, graded_by: str) -> None:
    """The learner never pressed submit: the attempt is graded by the deadline, from what was
    saved, when a late answer arrives, when the learner starts the quiz again, or by `lms quiz
    finish-expired`. A pass there earns the certificate as a submitted pass does, its PDF scheduled."""
    t0 = now() - timedelta(hours=2)
    user, attempt = _final_answered_in_full(session, t0)
    later = now()
    asked: list[int] = []
    keywords = {"settings": factories.PDFS_LATER["settings"], "background": asked.append}
    if graded_by == "a late answer":
        snap = attempt.layout[0]
        outcome = quizzes.save_answer(session, user, attempt.id, snap["id"], correct_response(snap), now=later,
                                      **keywords)
        assert outcome.closed_by_deadline and outcome.certificate is not None
    elif graded_by == "starting again":
        quizzes.start(session, user, CITIZENS_FINAL, now=later, **keywords)
    else:
        assert quizzes.finish_expired(session, now=later, **keywords) >= 1
    session.commit()
    session.refresh(attempt)
    assert attempt.status == "submitted" and attempt.finished_by == "deadline" and attempt.passed
    held = _certificates(session, user)
    assert [c.course_id for c in held] == ["dich-vu-cong"] and asked == [held[0].id]


def test_a_failing_final_graded_at_its_deadline_earns_nothing(session: Session) -> None:
    user = factories.user(session)
    attempt = quizzes.start_attempt(session, user, CITIZENS_FINAL, now=now() - timedelta(hours=2))
    assert quizzes.finish_expired(session, now=now(), **factories.PDFS_LATER) >= 1
    session.refresh(attempt)
    assert attempt.status == "submitted" and not attempt.passed and _certificates(session, user) == []
