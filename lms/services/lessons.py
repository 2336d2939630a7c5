"""Lesson authoring in the browser: preview a lesson's Markdown, publish it as a new version.

A preview renders and checks exactly as ``lms content sync`` does (the same body checks, the
same Markdown rendering and nh3 allow-list) and stores nothing. Publishing stores the text as
the lesson's next version, keeps it in ``lesson_versions`` and records it in the audit log.
How browser edits and the files in course_content/ meet is described in
docs/content-format.md ("Editing lessons in the browser") and applied in ``catalogue.sync_courses``.
"""

from __future__ import annotations

import unicodedata
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path

from sqlalchemy import select
from sqlalchemy.orm import Session

from lms.content.courses import BodyProblem, check_lesson_body, render_lesson
from lms.services import access, audit, catalogue
from lms.services.errors import Conflict, Forbidden, Invalid
from lms.store import Lesson, LessonVersion, User

__all__ = [
    "Draft",
    "DraftInvalid",
    "Published",
    "can_edit",
    "editable_lesson",
    "history",
    "preview",
    "publish",
]

MAX_TITLE = 200
MAX_MARKDOWN = 200_000


@dataclass(frozen=True)
class Draft:
    """A lesson text as it would be published: normalised, checked and rendered."""

    title: str
    markdown: str
    html: str
    problems: list[BodyProblem]


@dataclass(frozen=True)
class Published:
    lesson_id: str
    version: int
    changed: bool


class DraftInvalid(Invalid):
    """The draft cannot be published; ``problems`` name the body lines at fault."""

    def __init__(self, key: str, problems: list[BodyProblem], fields: dict[str, str] | None = None) -> None:
        super().__init__(key, fields)
        self.problems = problems


def can_edit(session: Session, user: User | None, course_id: str) -> bool:
    """May edit the course's lessons: the rule is lms.services.access.can_edit_course."""
    return access.can_edit_course(session, user, course_id)


def editable_lesson(session: Session, user: User | None, lesson_id: str) -> Lesson:
    """The lesson ``user`` may edit; Forbidden before NotFound, so that learners learn nothing."""
    if not access.may_edit_lessons(user):
        raise Forbidden("auth.forbidden")  # before looking the lesson up: learners learn nothing
    lesson = catalogue.get_lesson(session, lesson_id)
    if not access.can_edit_course(session, user, lesson.course_id):
        raise Forbidden("auth.forbidden")
    return lesson


def _normalise(text: str) -> str:
    return unicodedata.normalize("NFC", text.replace("\r\n", "\n").replace("\r", "\n"))


def preview(lesson: Lesson, title: str, markdown: str, *, course_folder: Path,
            asset_base: str | None = None) -> Draft:
    """Check and render a draft of ``lesson``. Pure: nothing is read from or written to the database.

    ``course_folder`` holds the course's ``assets/`` (images are checked against it);
    ``asset_base`` points image URLs elsewhere than the stored ``../courses/<id>/assets``."""
    body = _normalise(markdown)
    problems = check_lesson_body(body, course_folder)
    if len(body) > MAX_MARKDOWN:
        problems.insert(0, BodyProblem(1, "body.too_long", f"lesson text is longer than {MAX_MARKDOWN} characters"))
    html = render_lesson(body, lesson.course_id, asset_base=asset_base, folder=course_folder)
    return Draft(title=_normalise(title).strip(), markdown=body, html=html, problems=problems)


def publish(session: Session, user: User | None, lesson_id: str, *, title: str, markdown: str,
            base_version: int | None, course_folder: Path, now: datetime) -> Published:
    """Store the draft as the lesson's next version, at once visible to learners.

    ``base_version`` is the version the editor started from: when someone else published in
    between, Conflict is raised rather than silently overwriting their text."""
    lesson = editable_lesson(session, user, lesson_id)
    assert user is not None
    # Lock the row (PostgreSQL; SQLite writers are serialised already) so that two editors
    # publishing at once cannot both build on the same version.
    session.refresh(lesson, with_for_update=True)
    draft = preview(lesson, title, markdown, course_folder=course_folder)
    fields: dict[str, str] = {}
    if not draft.title:
        fields["title"] = "lesson.title_required"
    elif len(draft.title) > MAX_TITLE:
        fields["title"] = "lesson.title_too_long"
    if draft.problems:
        fields["body"] = "lesson.body_invalid"
    if fields:
        raise DraftInvalid("lesson.invalid", draft.problems, fields)
    if base_version is not None and base_version != lesson.version:
        raise Conflict("lesson.changed", version=lesson.version)
    if draft.title == lesson.title and draft.markdown == lesson.markdown:
        return Published(lesson.id, lesson.version, changed=False)
    previous = lesson.version
    lesson.version = previous + 1
    lesson.title, lesson.markdown, lesson.html = draft.title, draft.markdown, draft.html
    lesson.edited_at = lesson.updated_at = now
    catalogue.record_version(session, lesson, origin="browser", author=user, label=user.login, now=now)
    audit.record(session, "lesson.publish", "lesson", lesson.id, now=now, course_id=lesson.course_id,
                 version=lesson.version, previous_version=previous, title=lesson.title)
    session.flush()
    return Published(lesson.id, lesson.version, changed=True)


def history(session: Session, lesson_id: str) -> list[LessonVersion]:
    """Every stored version of a lesson, newest first."""
    return list(session.scalars(select(LessonVersion).where(LessonVersion.lesson_id == lesson_id)
                                .order_by(LessonVersion.version.desc())))
