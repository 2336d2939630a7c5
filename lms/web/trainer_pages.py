"""Authoring pages for trainers: import question files, edit a bank as GIFT, preview a quiz
as a learner sees it, and read its item analysis."""

from __future__ import annotations

from collections.abc import Callable
from functools import wraps
from pathlib import Path
from typing import Any

from flask import abort, flash, redirect, render_template, request, url_for
from flask.typing import ResponseReturnValue
from flask_babel import gettext as _
from flask_login import login_required

from lms.content.problems import ContentError
from lms.services import catalogue, lessons, quizzes
from lms.services.errors import ServiceError
from lms.web.auth import current_account
from lms.web.db import db, now, transaction
from lms.web.pages import bp

__all__: list[str] = []

AUTHORS = ("trainer", "manager", "admin")


def _authors_only(view: Callable[..., Any]) -> Callable[..., Any]:
    @wraps(view)
    def wrapped(*args: Any, **kwargs: Any) -> Any:
        user = current_account()
        if user is None or user.role not in AUTHORS:
            abort(403)
        return view(*args, **kwargs)

    protected: Callable[..., Any] = login_required(wrapped)
    return protected


@bp.get("/trainer")
@_authors_only
def trainer_home() -> ResponseReturnValue:
    session = db()
    user = current_account()
    assert user is not None
    courses = []
    for c in catalogue.list_courses(session):
        rows = [{"title": q.title, "kind": q.kind, "source": q.source,
                 "preview": url_for("lms_pages.quiz_preview", quiz_id=q.id),
                 "stats": url_for("lms_pages.quiz_statistics", quiz_id=q.id),
                 "edit": url_for("lms_pages.quiz_edit", quiz_id=q.id) if quizzes.can_edit(user, q) else None}
                for q in quizzes.list_course_quizzes(session, c.id)]
        lesson_rows = ([{"title": le.title, "url": url_for("lms_pages.lesson", lesson_id=le.id),
                         "edit": url_for("lms_pages.lesson_edit", lesson_id=le.id), "version": le.version}
                        for le in catalogue.published_lessons(session, c.id)] if lessons.can_edit(user) else [])
        courses.append({"title": c.title, "quizzes": rows, "lessons": lesson_rows})
    from lms.web.job_pages import job_rows

    return render_template("lms/trainer.html", courses=courses, jobs=job_rows(user), reviews=_reviews_due())


def _reviews_due() -> list[dict[str, Any]]:
    from lms.domain.certificates import VN
    from lms.services.content import lessons_due_for_review
    from lms.web.db import state

    today = now().astimezone(VN).date()
    return [{"title": r.title, "url": url_for("lms_pages.lesson", lesson_id=r.lesson_id),
             "date": r.review_by.strftime("%d/%m/%Y") if r.review_by else None,
             "overdue": r.review_by is None or r.review_by < today}
            for r in lessons_due_for_review(state().settings.content_path, today=today)]


@bp.route("/trainer/import", methods=["GET", "POST"])
@_authors_only
def quiz_import() -> ResponseReturnValue:
    user = current_account()
    assert user is not None
    choices = [(c.id, c.title) for c in catalogue.list_courses(db())]
    problems: list[str] = []
    status = 200
    if request.method == "POST":
        upload = request.files.get("file")
        course_id = request.form.get("course", "")
        fmt = request.form.get("format") or None
        if fmt not in (None, "gift", "moodle-xml", "aiken"):
            fmt = None
        if upload is None or not upload.filename:
            problems.append(_("Hãy chọn một tệp câu hỏi."))
        elif course_id not in dict(choices):
            problems.append(_("Hãy chọn khóa học."))
        else:
            # A large bank takes a while: the import is a job with a progress page the trainer
            # may leave. One that finished at once (inline, under test) goes straight on.
            from lms.services import jobs
            from lms.web.job_pages import launch

            name = Path(upload.filename).name or "cau-hoi.txt"
            with transaction() as session:
                job_id = jobs.create(session, kind="quiz_import", owner=user, now=now(), payload=upload.read(),
                                     params={"filename": name, "course_id": course_id, "format": fmt}).id
            launch(job_id)
            job = jobs.get_for(db(), user, job_id)
            if job.status == "failed":
                problems = [str(p) for p in (job.result or {}).get("problems", [])] or [job.message or ""]
            elif job.status == "done" and job.result:
                flash(_("Đã nhập %(n)s câu hỏi.", n=job.result["questions"]), "success")
                for line in job.result.get("skipped", []):
                    flash(str(line), "warning")
                return redirect(url_for("lms_pages.quiz_preview", quiz_id=job.result["quiz_id"]))
            else:
                return redirect(url_for("lms_pages.job_page", job_id=job_id))
        status = 422
    return render_template("lms/trainer_import.html", courses=choices, problems=problems), status


@bp.get("/trainer/quizzes/<quiz_id>/preview")
@_authors_only
def quiz_preview(quiz_id: str) -> ResponseReturnValue:
    session = db()
    try:
        quiz = quizzes.get_quiz(session, quiz_id)
    except ServiceError:
        abort(404)
    return render_template("lms/trainer_preview.html", quiz={"id": quiz.id, "title": quiz.title},
                           questions=quizzes.preview_questions(session, quiz_id))


@bp.get("/trainer/quizzes/<quiz_id>/statistics")
@_authors_only
def quiz_statistics(quiz_id: str) -> ResponseReturnValue:
    session = db()
    try:
        quiz = quizzes.get_quiz(session, quiz_id)
    except ServiceError:
        abort(404)
    rows = [{"text_html": s.text_html, "responses": s.responses,
             "facility": None if s.facility is None else round(100 * s.facility),
             "discrimination": None if s.discrimination is None else round(s.discrimination, 2),
             "wrong": [{"html": t, "count": n, "share": round(100 * sh)} for t, n, sh in s.wrong_choices]}
            for s in quizzes.item_analysis(session, quiz_id)]
    return render_template("lms/trainer_statistics.html", quiz={"title": quiz.title}, rows=rows)


@bp.route("/trainer/quizzes/<quiz_id>/edit", methods=["GET", "POST"])
@_authors_only
def quiz_edit(quiz_id: str) -> ResponseReturnValue:
    from lms.content.gift_export import export_gift

    user = current_account()
    assert user is not None
    session = db()
    try:
        quiz = quizzes.get_quiz(session, quiz_id)
    except ServiceError:
        abort(404)
    if not quizzes.can_edit(user, quiz):
        abort(403)
    problems: list[str] = []
    status = 200
    text = export_gift(quizzes.question_docs(session, quiz_id), title=quiz.title)
    if request.method == "POST":
        text = request.form.get("gift", "")
        try:
            with transaction() as tx:
                count = quizzes.replace_bank_from_text(tx, user, quiz_id, text, fmt="gift", now=now())
        except ContentError as exc:
            problems = [_("Dòng %(n)s: %(m)s", n=p.line, m=p.message) for p in exc.problems]
            status = 422
        else:
            flash(_("Đã lưu %(n)s câu hỏi.", n=count), "success")
            return redirect(url_for("lms_pages.quiz_preview", quiz_id=quiz_id))
    return render_template("lms/trainer_edit.html", quiz={"id": quiz.id, "title": quiz.title}, text=text,
                           problems=problems), status
