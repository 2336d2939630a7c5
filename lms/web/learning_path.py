"""The way through a course, as the pages show it: a lesson cut into pages at its `## ` sections,
where "Tôi đã học xong bài này" leads, what a locked lesson waits for, and what a certificate
still needs. View-models only: the rules themselves live in services and domain."""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Any

from flask import session as cookie
from flask import url_for
from flask_babel import format_decimal, format_percent
from sqlalchemy.orm import Session

from lms.services import access, catalogue, certificates, mandates
from lms.services import quizzes as quiz_service
from lms.services.records import Course, Lesson, PdfStatus, User
from lms.web.db import db, now

__all__ = ["CertificateNeeds", "certificate_needs", "course_card", "duties", "lock_reason", "next_after",
           "remember_page", "remembered_page", "score_text", "split_pages"]

# Markdown's `## ` heading becomes <h2>; a page starts at each one. Cutting the cached HTML (never
# re-rendering the Markdown) keeps the services' rendered-lesson cache the only renderer.
_SECTION = re.compile(r"(?=<h2[\s>])", re.IGNORECASE)
_REMEMBERED = 30  # lessons whose page a signed-in learner's cookie remembers


def split_pages(html: str) -> list[str]:
    """The lesson's pages: one per `## ` section; what comes before the first belongs to the first."""
    parts = _SECTION.split(html)
    if len(parts) > 1 and parts[0].strip():
        parts = [parts[0] + parts[1], *parts[2:]]
    pages = [p for p in parts if p.strip()]
    return pages or [html]


def remembered_page(lesson_id: str) -> int | None:
    value = (cookie.get("lesson_pages") or {}).get(lesson_id)
    return value if isinstance(value, int) else None


def remember_page(lesson_id: str, number: int) -> None:
    """Signed-in learners only: a visitor gets no stored session (API.md), the URL says the page."""
    pages = dict(cookie.get("lesson_pages") or {})
    if pages.get(lesson_id) == number:
        return
    pages.pop(lesson_id, None)
    pages[lesson_id] = number
    while len(pages) > _REMEMBERED:
        pages.pop(next(iter(pages)))
    cookie["lesson_pages"] = pages


def lock_reason(session: Session, user: User | None, lesson: Lesson) -> Lesson | None:
    """The first earlier lesson still to be done: finishing it (and those before it) opens this one."""
    done = catalogue.course_progress(session, user, lesson.course_id).completed_ids if user else frozenset()
    for earlier in catalogue.published_lessons(session, lesson.course_id):
        if earlier.position >= lesson.position:
            return None
        if earlier.id not in done:
            return earlier
    return None


def next_after(session: Session, user: User, lesson: Lesson) -> str:
    """Where a learner goes after finishing a lesson: the next lesson not yet done, else the final
    assessment (whose page says what a certificate needs), else the course."""
    siblings = catalogue.published_lessons(session, lesson.course_id)
    done = catalogue.course_progress(session, user, lesson.course_id).completed_ids
    later = [le for le in siblings if le.position > lesson.position and le.id not in done]
    if later:
        return url_for("lms_courses.lesson", lesson_id=later[0].id)
    earlier = [le for le in siblings if le.id not in done and le.id != lesson.id]
    if earlier:
        return url_for("lms_courses.lesson", lesson_id=earlier[0].id)
    if lesson.course.final_quiz_id:
        return url_for("lms_quizzes.quiz", quiz_id=lesson.course.final_quiz_id)
    return url_for("lms_courses.course", course_id=lesson.course_id)


@dataclass
class CertificateNeeds:
    """What a course's certificate asks for, and for a signed-in learner how far they are."""
    course_title: str
    lesson_count: int
    lessons_done: int | None
    pass_mark: int | None
    final_url: str | None
    missing: list[dict[str, str]] = field(default_factory=list)
    certificate: dict[str, Any] | None = None


def certificate_needs(session: Session, user: User | None, course: Course) -> CertificateNeeds:
    lessons = catalogue.published_lessons(session, course.id)
    final = quiz_service.get_quiz(session, course.final_quiz_id) if course.final_quiz_id else None
    needs = CertificateNeeds(
        course_title=course.title, lesson_count=len(lessons), lessons_done=None,
        pass_mark=int(final.pass_mark) if final else None,
        final_url=url_for("lms_quizzes.quiz", quiz_id=final.id) if final else None)
    if user is None:
        return needs
    done = catalogue.course_progress(session, user, course.id).completed_ids
    needs.lessons_done = len(done)
    needs.missing = [{"title": le.title, "url": url_for("lms_courses.lesson", lesson_id=le.id)}
                     for le in lessons if le.id not in done]
    held = [c for c in certificates.list_for_user(session, user) if c.course_id == course.id and c.revoked_at is None]
    if held:
        cert = held[0]
        needs.certificate = {"code": cert.code, "ready": cert.pdf_status == PdfStatus.READY,
                             "url": url_for("lms_certificates.my_certificates")}
    return needs


def score_text(score: float, max_score: float) -> dict[str, str]:
    """'8/12' and '67%' in the reader's language (Vietnamese writes 8,5 where English writes 8.5)."""
    share = score / max_score if max_score else 0.0
    return {"score": format_decimal(score, "#,##0.##"), "max": format_decimal(max_score, "#,##0.##"),
            "percent": format_percent(share, "#,##0%")}


def course_card(c: Any) -> dict[str, Any]:
    """A course as the home page, the catalogue and the course page show it, in the reader's language."""
    english = cookie.get("lang") == "en"
    return {"id": c.id, "title": c.title_en if english and c.title_en else c.title,
            "summary": c.summary_en if english and c.summary_en else c.summary,
            "lesson_count": c.lesson_count, "minutes": c.minutes, "mandated": c.mandated,
            "url": url_for("lms_courses.course", course_id=c.id)}


def duties(user: Any) -> list[dict[str, Any]]:
    """The signed-in person's mandated courses this training year, with their deadlines."""
    if not access.has_duties(user):
        return []
    return [{"course": m.course_title, "course_id": m.course_id, "due": m.due.strftime("%d/%m/%Y"),
             "done": m.done, "overdue": m.overdue, "url": url_for("lms_courses.course", course_id=m.course_id)}
            for m in mandates.mandates_for(db(), user, today=now().date())]
