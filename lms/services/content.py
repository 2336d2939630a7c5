"""Content as a whole: check and sync courses and quizzes together, with cross-references."""

from __future__ import annotations

from datetime import date, datetime
from pathlib import Path

from sqlalchemy.orm import Session

from lms.content.courses import CourseDoc, ReviewDate, check_courses, review_dates
from lms.content.problems import ContentError, Problem, line_of_key
from lms.content.quizzes import QuizDoc, check_quizzes
from lms.content.style import Finding, check_style
from lms.services.catalogue import sync_courses
from lms.services.quizzes import sync_quizzes

__all__ = ["check_all", "lessons_due_for_review", "sync_all"]


def _cross_references(courses: list[CourseDoc], quizzes: list[QuizDoc]) -> list[Problem]:
    problems: list[Problem] = []
    by_course = {c.id: c for c in courses}
    quiz_ids = {q.id for q in quizzes}
    for quiz in quizzes:
        course = by_course.get(quiz.course_id)
        if course is None:
            problems.append(Problem(quiz.source, quiz.lines["course"], f"unknown course '{quiz.course_id}'"))
        elif quiz.lesson_id and quiz.lesson_id not in {le.id for le in course.lessons}:
            problems.append(Problem(quiz.source, quiz.lines["lesson"],
                                    f"unknown lesson '{quiz.lesson_id}' in course '{quiz.course_id}'"))
    for course in courses:
        if course.final_quiz and course.final_quiz not in quiz_ids:
            toml = course.path / "course.toml"
            line = line_of_key(toml.read_text(encoding="utf-8"), "final_quiz")
            problems.append(Problem(str(toml), line, f"final quiz '{course.final_quiz}' does not exist"))
    return problems


def _check(courses_root: Path, quizzes_root: Path | None) -> tuple[list[CourseDoc], list[QuizDoc], list[Problem]]:
    courses, problems = check_courses(courses_root)
    quizzes: list[QuizDoc] = []
    if quizzes_root is not None:
        quizzes, quiz_problems = check_quizzes(quizzes_root)
        problems += quiz_problems
        if not problems:
            problems += _cross_references(courses, quizzes)
    return courses, quizzes, sorted(problems)


def check_all(courses_root: Path, quizzes_root: Path | None, *,
              today: date) -> tuple[list[Problem], str, list[Finding]]:
    """Problems (errors), a one-line summary, and warnings. The editorial rules of
    lms.content.style run once the files load: their errors join the problems."""
    courses, quizzes, problems = _check(courses_root, quizzes_root)
    warnings: list[Finding] = []
    if not problems:
        findings = check_style(courses, quizzes, today=today)
        problems = sorted(f.problem() for f in findings if not f.warning)
        warnings = [f for f in findings if f.warning]
    summary = (f"{len(courses)} courses, {sum(len(c.lessons) for c in courses)} lessons, {len(quizzes)} quizzes, "
               f"{sum(len(q.questions) for q in quizzes)} questions: ok"
               + (f" ({len(warnings)} warnings)" if warnings else ""))
    return problems, summary, warnings


def sync_all(session: Session, courses_root: Path, quizzes_root: Path | None, *, now: datetime) -> dict[str, object]:
    """Check everything first; store nothing unless every file is valid. ``lessons_kept`` lists the
    lessons whose browser-published text was kept because their file has not changed since."""
    _, quizzes, problems = _check(courses_root, quizzes_root)
    if problems:
        raise ContentError(problems)
    report = sync_courses(session, courses_root, now=now)
    out: dict[str, object] = {"courses": {"created": report.created, "updated": report.updated,
                                          "unchanged": report.unchanged},
                              "lessons_kept": report.kept}
    if quizzes_root is not None:
        qr = sync_quizzes(session, quizzes, now=now)
        out["quizzes"] = {"created": qr.created, "updated": qr.updated, "unchanged": qr.unchanged,
                          "questions": qr.questions}
    return out


def lessons_due_for_review(courses_root: Path, *, today: date, within_days: int = 30,
                           limit: int = 10) -> list[ReviewDate]:
    """Lessons whose review date has passed or comes within ``within_days`` (or that have none),
    the most overdue first: the short list a trainer sees on /trainer."""
    due = [r for r in review_dates(courses_root)
           if r.review_by is None or (r.review_by - today).days <= within_days]
    return sorted(due, key=lambda r: (r.review_by or date.min, r.lesson_id))[:limit]
