"""Courses and lessons: sync from content files, read the catalogue, record lesson progress."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path

from sqlalchemy import func, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from lms.content.courses import CourseDoc, LessonDoc, load_courses
from lms.services import statements
from lms.services.errors import Forbidden, NotFound
from lms.store import Course, Lesson, LessonCompletion, LessonVersion, User

__all__ = [
    "CourseProgress",
    "SyncReport",
    "complete_lesson",
    "course_progress",
    "get_course",
    "get_lesson",
    "lesson_unlocked",
    "list_courses",
    "record_version",
    "sync_courses",
]


@dataclass
class SyncReport:
    created: int = 0
    updated: int = 0
    unchanged: int = 0
    # Lessons whose browser-published text was kept because their file has not changed since.
    kept: list[str] = field(default_factory=list)


def sync_courses(session: Session, root: Path, *, now: datetime) -> SyncReport:
    """Load every course under ``root`` into the database. Idempotent: unchanged content is untouched.

    A lesson published in the browser keeps its text while its file stays as it was when last
    synced; once the file changes, the file wins (the browser text stays in the version history)."""
    docs = load_courses(root)  # raises ContentError before anything is written
    report = SyncReport()
    for position, doc in enumerate(docs):
        _sync_course(session, doc, position, now, report)
    session.flush()
    if docs:
        report.kept = list(session.scalars(
            select(Lesson.id).where(Lesson.course_id.in_([d.id for d in docs]), Lesson.published,
                                    Lesson.edited_at.is_not(None)).order_by(Lesson.course_id, Lesson.position)))
    return report


def record_version(session: Session, lesson: Lesson, *, origin: str, author: User | None, label: str,
                   now: datetime) -> LessonVersion:
    """Copy the lesson's current text into its history as version ``lesson.version``."""
    entry = LessonVersion(lesson_id=lesson.id, version=lesson.version, title=lesson.title,
                          markdown=lesson.markdown, html=lesson.html, origin=origin,
                          author_id=author.id if author else None, author_label=label[:254], created_at=now)
    session.add(entry)
    return entry


def _needs_markdown(session: Session, course_id: str) -> bool:
    """Lessons synced before the Markdown source was stored need one more pass to fill it."""
    return session.scalar(select(func.count()).select_from(Lesson).where(
        Lesson.course_id == course_id, Lesson.published, Lesson.markdown == "")) != 0


def _sync_lesson(session: Session, ldoc: LessonDoc, course_id: str, now: datetime) -> None:
    lesson = session.get(Lesson, ldoc.id)
    created = lesson is None
    if lesson is None:
        lesson = Lesson(id=ldoc.id, version=1)
        session.add(lesson)
    lesson.course_id = course_id
    lesson.position = ldoc.position
    lesson.published = True
    file_changed = not created and lesson.content_hash != ldoc.content_hash
    if lesson.edited_at is not None and not file_changed:
        return  # published in the browser after the file last changed: the browser text stays
    backfill = not created and not file_changed and lesson.markdown == ""
    lesson.title, lesson.title_en = ldoc.title, ldoc.title_en
    lesson.competences, lesson.minutes = list(ldoc.competences), ldoc.minutes
    lesson.html, lesson.source, lesson.content_hash = ldoc.html, ldoc.source, ldoc.content_hash
    lesson.markdown = ldoc.markdown
    if not (created or file_changed or backfill):
        return
    if file_changed:
        lesson.version += 1
        lesson.edited_at = None
    if created or file_changed:
        lesson.updated_at = now
    record_version(session, lesson, origin="file", author=None, label=ldoc.source, now=now)


def _sync_course(session: Session, doc: CourseDoc, position: int, now: datetime, report: SyncReport) -> None:
    course = session.get(Course, doc.id)
    if (course is not None and course.content_hash == doc.content_hash and course.published
            and not _needs_markdown(session, doc.id)):
        report.unchanged += 1
        return
    if course is None:
        course = Course(id=doc.id)
        session.add(course)
        report.created += 1
    else:
        report.updated += 1
    course.title, course.title_en = doc.title, doc.title_en
    course.summary, course.summary_en = doc.summary, doc.summary_en
    course.audience, course.competences = list(doc.audience), list(doc.competences)
    course.version, course.sequential, course.minutes = doc.version, doc.sequential, doc.minutes
    course.mandated, course.certificate_validity = doc.mandated, doc.certificate_validity
    course.final_quiz_id = doc.final_quiz
    course.lesson_count = len(doc.lessons)
    course.position = position
    course.published = True
    course.content_hash = doc.content_hash
    course.updated_at = now
    session.flush()
    wanted = {lesson.id for lesson in doc.lessons}
    for old in session.scalars(select(Lesson).where(Lesson.course_id == doc.id)):
        if old.id not in wanted:
            old.published = False  # kept: learners' completions still point at it
    for ldoc in doc.lessons:
        _sync_lesson(session, ldoc, doc.id, now)


def list_courses(session: Session) -> list[Course]:
    return list(session.scalars(select(Course).where(Course.published).order_by(Course.position, Course.id)))


def get_course(session: Session, course_id: str) -> Course:
    course = session.get(Course, course_id)
    if course is None or not course.published:
        raise NotFound("course.not_found")
    return course


def published_lessons(session: Session, course_id: str) -> list[Lesson]:
    return list(session.scalars(
        select(Lesson).where(Lesson.course_id == course_id, Lesson.published).order_by(Lesson.position)))


def get_lesson(session: Session, lesson_id: str) -> Lesson:
    lesson = session.get(Lesson, lesson_id)
    if lesson is None or not lesson.published or not lesson.course.published:
        raise NotFound("lesson.not_found")
    return lesson


@dataclass(frozen=True)
class CourseProgress:
    course_id: str
    completed_lessons: int
    lesson_count: int
    completed_ids: frozenset[str]

    @property
    def done(self) -> bool:
        return self.lesson_count > 0 and self.completed_lessons >= self.lesson_count


def course_progress(session: Session, user: User, course_id: str) -> CourseProgress:
    lessons = {lesson.id for lesson in published_lessons(session, course_id)}
    done = set(session.scalars(select(LessonCompletion.lesson_id).where(
        LessonCompletion.user_id == user.id, LessonCompletion.course_id == course_id)))
    completed = done & lessons
    return CourseProgress(course_id, len(completed), len(lessons), frozenset(completed))


def lesson_unlocked(session: Session, user: User | None, lesson: Lesson) -> bool:
    """In a course whose lessons unlock in order, a lesson opens once the ones before it are done."""
    if not lesson.course.sequential:
        return True
    earlier = [le.id for le in published_lessons(session, lesson.course_id) if le.position < lesson.position]
    if not earlier:
        return True
    if user is None:
        return False
    progress = course_progress(session, user, lesson.course_id)
    return set(earlier) <= progress.completed_ids


def complete_lesson(session: Session, user: User, lesson_id: str, *, now: datetime) -> CourseProgress:
    lesson = get_lesson(session, lesson_id)
    if not lesson_unlocked(session, user, lesson):
        raise Forbidden("lesson.locked")
    exists = session.scalar(select(func.count()).select_from(LessonCompletion).where(
        LessonCompletion.user_id == user.id, LessonCompletion.lesson_id == lesson.id))
    if not exists:
        try:
            with session.begin_nested():
                session.add(LessonCompletion(user_id=user.id, lesson_id=lesson.id, course_id=lesson.course_id,
                                             completed_at=now))
                statements.lesson_completed(session, user, lesson, now=now)
        except IntegrityError:
            pass  # completed by a concurrent request: the same outcome
    return course_progress(session, user, lesson.course_id)
