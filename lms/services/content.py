"""Content as a whole: check and sync courses and quizzes together."""

from __future__ import annotations

from datetime import datetime
from pathlib import Path

from sqlalchemy.orm import Session

from lms.content.courses import check_courses
from lms.content.problems import Problem
from lms.services.catalogue import sync_courses

__all__ = ["check_all", "sync_all"]


def check_all(courses_root: Path, quizzes_root: Path | None) -> tuple[list[Problem], str]:
    problems: list[Problem] = []
    courses, course_problems = check_courses(courses_root)
    problems += course_problems
    summary = f"{len(courses)} courses, {sum(len(c.lessons) for c in courses)} lessons: ok"
    return problems, summary


def sync_all(session: Session, courses_root: Path, quizzes_root: Path | None, *, now: datetime) -> dict[str, object]:
    report = sync_courses(session, courses_root, now=now)
    return {"courses": {"created": report.created, "updated": report.updated, "unchanged": report.unchanged}}
