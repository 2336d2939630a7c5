"""Authoring pages for trainers: import question files, edit a bank as GIFT, preview a quiz
as a learner sees it, and read its item analysis."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from flask import abort, flash, redirect, render_template, request, url_for
from flask.typing import ResponseReturnValue
from flask_babel import gettext as _

from lms.content.gift_export import export_gift
from lms.content.problems import ContentError
from lms.domain.calendar import local_date
from lms.services import access, catalogue, jobs, lessons, quizzes
from lms.services.content import lessons_due_for_review
from lms.services.errors import ServiceError
from lms.services.records import JobKind, JobStatus, Quiz
from lms.web.auth import authors_only, current_account
from lms.web.db import db, now, state, transaction
from lms.web.job_pages import job_rows, launch
from lms.web.messages import message
from lms.web.page_blueprint import PageBlueprint

__all__ = ["bp"]

bp = PageBlueprint("lms_trainer", __name__)


@bp.get("/trainer")
@authors_only
def trainer_home() -> ResponseReturnValue:
    session = db()
    user = current_account()
    assert user is not None
    courses = []
    for c in catalogue.list_courses(session):
        rows = [{"title": q.title, "kind": q.kind, "source": q.source, "draft": not q.published,
                 "preview": url_for("lms_trainer.quiz_preview", quiz_id=q.id),
                 "stats": url_for("lms_trainer.quiz_statistics", quiz_id=q.id),
                 "edit": url_for("lms_trainer.quiz_edit", quiz_id=q.id)
                 if access.can_edit_quiz(session, user, q) else None}
                for q in quizzes.list_for_author(session, user, c.id)]
        lesson_rows = ([{"title": le.title, "url": url_for("lms_courses.lesson", lesson_id=le.id),
                         "edit": url_for("lms_lesson_editor.lesson_edit", lesson_id=le.id), "version": le.version}
                        for le in catalogue.published_lessons(session, c.id)]
                       if lessons.can_edit(session, user, c.id) else [])
        courses.append({"title": c.title, "quizzes": rows, "lessons": lesson_rows})

    return render_template("lms/trainer.html", courses=courses, jobs=job_rows(user), reviews=_reviews_due())


def _reviews_due() -> list[dict[str, Any]]:
    today = local_date(now())
    return [{"title": r.title, "url": url_for("lms_courses.lesson", lesson_id=r.lesson_id),
             "date": r.review_by.strftime("%d/%m/%Y") if r.review_by else None,
             "overdue": r.review_by is None or r.review_by < today}
            for r in lessons_due_for_review(state().settings.content_path, today=today)]


@bp.route("/trainer/import", methods=["GET", "POST"])
@authors_only
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
        title = " ".join(request.form.get("title", "").split())[:300]
        if fmt not in (None, "gift", "moodle-xml", "aiken"):
            fmt = None
        if upload is None or not upload.filename:
            problems.append(_("Hãy chọn một tệp câu hỏi."))
        elif course_id not in dict(choices):
            problems.append(_("Hãy chọn khóa học."))
        else:
            # A large bank takes a while: the import is a job with a progress page the trainer
            # may leave. One that finished at once (inline, under test) goes straight on.

            name = Path(upload.filename).name or "cau-hoi.txt"
            with transaction() as session:
                job_id = jobs.create(session, kind=JobKind.QUIZ_IMPORT, owner=user, now=now(), payload=upload.read(),
                                     params={"filename": name, "course_id": course_id, "format": fmt,
                                             "title": title, "draft": True}).id
            launch(job_id)
            job = jobs.get_for(db(), user, job_id)
            if job.status == JobStatus.FAILED:
                problems = [str(p) for p in (job.result or {}).get("problems", [])] or [job.message or ""]
            elif job.status == JobStatus.DONE and job.result:
                flash(_("Đã nhập %(n)s câu hỏi thành một bản nháp: học viên chưa thấy. Hãy xem lại rồi bấm "
                        "\"Xuất bản\".", n=job.result["questions"]), "success")
                for line in job.result.get("skipped", []):
                    flash(str(line), "warning")
                return redirect(url_for("lms_trainer.quiz_preview", quiz_id=job.result["quiz_id"]))
            else:
                return redirect(url_for("lms_jobs.job_page", job_id=job_id))
        status = 422
    return render_template("lms/trainer_import.html", courses=choices, problems=problems), status


def _authored_quiz(quiz_id: str) -> Quiz:
    """The quiz if the signed-in author may see it (drafts: only those who may change them)."""
    try:
        return quizzes.get_quiz_for(db(), current_account(), quiz_id)
    except ServiceError:
        abort(404)


def _preview_view(q: dict[str, Any], number: int) -> dict[str, Any]:
    """A question with the inputs a learner gets (disabled here) and its answer key."""
    name = f"q-{number}"
    view: dict[str, Any] = {"number": number, "type": q["type"], "text_html": q["text_html"], "name": name,
                            "choices": [{"html": c["text_html"], "input_id": f"{name}-{i}"}
                                        for i, c in enumerate(q["choices"])],
                            "targets": [t["text_html"] for t in q.get("targets", [])],
                            "positions": [str(n) for n in range(1, len(q["choices"]) + 1)]}
    key = q.get("key", [])
    if q["type"] == "true_false":
        view["choices"] = [{"html": _("Đúng"), "input_id": f"{name}-t"}, {"html": _("Sai"), "input_id": f"{name}-f"}]
        key = [{"html": _("Đúng") if k["note"] == "true" else _("Sai"), "note": ""} for k in key]
    view["key"] = key
    return view


@bp.get("/trainer/quizzes/<quiz_id>/preview")
@authors_only
def quiz_preview(quiz_id: str) -> ResponseReturnValue:
    session = db()
    user = current_account()
    quiz = _authored_quiz(quiz_id)
    questions = [_preview_view(q, n) for n, q in enumerate(quizzes.preview_questions(session, user, quiz_id), 1)]
    editable = access.can_edit_quiz(session, user, quiz)
    return render_template("lms/trainer_preview.html", questions=questions, errors={}, quiz={
        "id": quiz.id, "title": quiz.title, "pass_mark": quiz.pass_mark, "draft": not quiz.published,
        "kind": quiz.kind, "editable": editable, "policy": quizzes.attempt_policy(quiz),
        "publish_url": url_for("lms_trainer.quiz_publish", quiz_id=quiz.id)})


@bp.post("/trainer/quizzes/<quiz_id>/publish")
@authors_only
def quiz_publish(quiz_id: str) -> ResponseReturnValue:
    """Save the title and pass mark; with "Xuất bản", make the draft visible to learners."""
    user = current_account()
    assert user is not None
    quiz = _authored_quiz(quiz_id)
    if not access.can_edit_quiz(db(), user, quiz):
        abort(403)
    publish = request.form.get("action") == "publish"
    try:
        mark = float(request.form.get("pass_mark", "").replace(",", "."))
    except ValueError:
        mark = -1.0
    try:
        with transaction() as tx:
            quizzes.update_quiz(tx, user, quiz_id, title=request.form.get("title", ""), pass_mark=mark,
                                publish=publish, now=now())
    except ServiceError as exc:
        errors = {k: message(v) for k, v in exc.fields.items()} or {"form": message(exc.key)}
        session = db()
        questions = [_preview_view(q, n)
                     for n, q in enumerate(quizzes.preview_questions(session, user, quiz_id), 1)]
        return render_template("lms/trainer_preview.html", questions=questions, errors=errors, quiz={
            "id": quiz.id, "title": request.form.get("title", ""), "pass_mark": request.form.get("pass_mark", ""),
            "draft": not quiz.published, "kind": quiz.kind, "editable": True,
            "policy": quizzes.attempt_policy(quiz),
            "publish_url": url_for("lms_trainer.quiz_publish", quiz_id=quiz.id)}), 422
    flash(_("Đã xuất bản: học viên đã thấy bài kiểm tra này trong khóa học.") if publish
          else _("Đã lưu tên và điểm đạt."), "success")
    return redirect(url_for("lms_trainer.quiz_preview", quiz_id=quiz_id))


@bp.get("/trainer/quizzes/<quiz_id>/statistics")
@authors_only
def quiz_statistics(quiz_id: str) -> ResponseReturnValue:
    session = db()
    quiz = _authored_quiz(quiz_id)
    rows = [{"text_html": s.text_html, "responses": s.responses,
             "facility": None if s.facility is None else round(100 * s.facility),
             "discrimination": None if s.discrimination is None else round(s.discrimination, 2),
             "wrong": [{"html": t, "count": n, "share": round(100 * sh)} for t, n, sh in s.wrong_choices]}
            for s in quizzes.item_analysis(session, quiz_id)]
    return render_template("lms/trainer_statistics.html", quiz={"title": quiz.title}, rows=rows)


@bp.route("/trainer/quizzes/<quiz_id>/edit", methods=["GET", "POST"])
@authors_only
def quiz_edit(quiz_id: str) -> ResponseReturnValue:
    user = current_account()
    assert user is not None
    session = db()
    quiz = _authored_quiz(quiz_id)
    if not access.can_edit_quiz(session, user, quiz):
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
            return redirect(url_for("lms_trainer.quiz_preview", quiz_id=quiz_id))
    return render_template("lms/trainer_edit.html", quiz={"id": quiz.id, "title": quiz.title}, text=text,
                           problems=problems), status
