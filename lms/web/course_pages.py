"""Reading a course: the catalogue, a course's page and its files, a lesson page by page, and
the learner's "I have finished this lesson"."""

from __future__ import annotations

from flask import abort, flash, redirect, render_template, request, send_file, session, url_for
from flask.typing import ResponseReturnValue
from flask_babel import gettext as _
from flask_login import login_required

from lms.content.assets import asset_file
from lms.services import catalogue, certificates
from lms.services import lessons as lesson_service
from lms.services import quizzes as quiz_service
from lms.services.errors import ServiceError
from lms.services.records import QuizKind
from lms.web import learning_path as path
from lms.web.auth import current_account
from lms.web.certificate_pdfs import background
from lms.web.db import db, now, state, transaction
from lms.web.learning_path import certificate_needs, course_card, duties
from lms.web.messages import message
from lms.web.page_blueprint import PageBlueprint
from lms.web.pages import local_date

__all__ = ["bp"]

bp = PageBlueprint("lms_courses", __name__)


@bp.get("/courses")
def courses() -> ResponseReturnValue:
    return render_template("lms/courses.html", courses=[course_card(c) for c in catalogue.list_courses(db())])


@bp.get("/courses/<course_id>")
def course(course_id: str) -> ResponseReturnValue:
    session_ = db()
    try:
        c = catalogue.get_course(session_, course_id)
    except ServiceError:
        abort(404)
    user = current_account()
    progress = catalogue.course_progress(session_, user, c.id) if user else None
    lessons = []
    done = progress.completed_ids if progress else frozenset()
    blocker: dict[str, str] | None = None  # the first lesson not yet done opens the locked ones after it
    for le in catalogue.published_lessons(session_, c.id):
        url = url_for("lms_courses.lesson", lesson_id=le.id)
        locked = c.sequential and blocker is not None
        lessons.append({"title": le.title, "minutes": le.minutes, "done": le.id in done, "locked": locked,
                        "unlock": blocker if locked else None, "url": url,
                        "version": le.version, "updated": local_date(le.updated_at)})
        if blocker is None and le.id not in done:
            blocker = {"title": le.title, "url": url}
    quiz_links = [{"title": q.title, "final": q.kind == QuizKind.FINAL,
                   "url": url_for("lms_quizzes.quiz", quiz_id=q.id)}
                  for q in quiz_service.list_course_quizzes(session_, c.id)]
    return render_template("lms/course.html", course=course_card(c), lessons=lessons,
                           progress=progress, competences=c.competences, quizzes=quiz_links,
                           duties=[d for d in duties(user) if d["course_id"] == c.id],
                           needs=certificate_needs(session_, user, c))


@bp.get("/courses/<course_id>/assets/<path:filename>")
def course_asset(course_id: str, filename: str) -> ResponseReturnValue:
    path = asset_file(state().settings.content_path, course_id, filename)
    if path is None:  # outside the course's assets/ (.., absolute, a link out) or missing: the same 404
        abort(404)
    return send_file(path, max_age=86400)


@bp.get("/lessons/<lesson_id>")
def lesson(lesson_id: str) -> ResponseReturnValue:
    session_ = db()
    try:
        le = catalogue.get_lesson(session_, lesson_id)
    except ServiceError:
        abort(404)
    user = current_account()
    course_view = {"id": le.course_id, "title": le.course.title,
                   "url": url_for("lms_courses.course", course_id=le.course_id)}
    # a lesson an LTI launch opened is opened directly: the platform decides the order there
    opened_by_launch = lesson_id in session.get("lti_lessons", ())
    if not opened_by_launch and not catalogue.lesson_unlocked(session_, user, le):
        first = path.lock_reason(session_, user, le)
        return render_template("lms/lesson_locked.html", lesson={"title": le.title}, course=course_view,
                               unlock={"title": first.title, "url": url_for("lms_courses.lesson", lesson_id=first.id)}
                               if first else None)
    progress = catalogue.course_progress(session_, user, le.course_id) if user else None
    siblings = catalogue.published_lessons(session_, le.course_id)
    index = next(i for i, s in enumerate(siblings) if s.id == le.id)
    nxt = siblings[index + 1] if index + 1 < len(siblings) else None
    pages = path.split_pages(le.html)
    asked = request.args.get("trang", "")
    number = int(asked) if asked.isdigit() else (path.remembered_page(le.id) if user else None) or 1
    number = min(max(number, 1), len(pages))
    if user is not None:
        path.remember_page(le.id, number)

    def page_url(n: int) -> str:
        return url_for("lms_courses.lesson", lesson_id=le.id, trang=n)

    done = bool(progress and le.id in progress.completed_ids)
    final_url = url_for("lms_quizzes.quiz", quiz_id=le.course.final_quiz_id) if le.course.final_quiz_id else None
    return render_template(
        "lms/lesson.html", lesson={"id": le.id, "title": le.title, "html": pages[number - 1], "minutes": le.minutes,
                                   "position": le.position, "count": len(siblings), "version": le.version,
                                   "updated": local_date(le.updated_at)},
        page={"number": number, "count": len(pages), "last": number == len(pages),
              "previous_url": page_url(number - 1) if number > 1 else None,
              "next_url": page_url(number + 1) if number < len(pages) else None},
        edit_url=url_for("lms_lesson_editor.lesson_edit", lesson_id=le.id)
        if lesson_service.can_edit(session_, user, le.course_id) else None,
        course=course_view, done=done,
        next_url=url_for("lms_courses.lesson", lesson_id=nxt.id) if nxt else (final_url if done else None),
        next_is_final=nxt is None and done and final_url is not None)


@bp.post("/lessons/<lesson_id>/completion")
@login_required
def complete_lesson(lesson_id: str) -> ResponseReturnValue:
    user = current_account()
    assert user is not None
    try:
        with transaction() as session_:
            progress = catalogue.complete_lesson(session_, user, lesson_id, now=now())
            if progress.done:
                certificates.award(session_, user, progress.course_id, now=now(), settings=state().settings,
                                   background=background())
    except ServiceError as exc:
        if exc.status == 404:
            abort(404)
        flash(message(exc.key), "warning")
        return redirect(url_for("lms_courses.lesson", lesson_id=lesson_id))
    flash(_("Đã ghi nhận: bạn hoàn thành %(done)s/%(total)s bài.", done=progress.completed_lessons,
            total=progress.lesson_count), "success")
    # On to what comes next, from its top: never a reload of the lesson just finished.
    return redirect(path.next_after(db(), user, catalogue.get_lesson(db(), lesson_id)))
