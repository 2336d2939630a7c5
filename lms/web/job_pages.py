"""Pages for long work: a job's progress page (updated in place by refresh.js while it runs, with a
link for reading without JavaScript), its file when it made one, the "jobs under way" list, and the admin's bulk
certificate regeneration. Starting a job lives with the page that asks for it.

Reading a job's page changes nothing. A job whose process died is started again by ``lms worker``
or ``lms jobs resume``, by the web server when it starts, or by its owner with the page's
"continue" button (a POST)."""

from __future__ import annotations

from typing import Any

from flask import Flask, Response, abort, current_app, flash, redirect, render_template, url_for
from flask.typing import ResponseReturnValue
from flask_babel import gettext as _
from flask_login import login_required

from lms.jobs import run_in_thread
from lms.services import certificates, job_runner, jobs
from lms.services.errors import ServiceError
from lms.services.records import Job, JobKind, JobStatus, User
from lms.web.auth import admins_only, current_account
from lms.web.db import db, now, state, transaction
from lms.web.page_blueprint import PageBlueprint

__all__ = ["bp", "job_rows", "launch", "resume_in_background"]

bp = PageBlueprint("lms_jobs", __name__)


def launch(job_id: str) -> None:
    """Start a committed job: on the Redis queue when configured, else in a thread of this
    process; inline under test (``LMS_JOBS_INLINE``, on by default when TESTING)."""
    inline = bool(current_app.config.get("LMS_JOBS_INLINE", current_app.testing))
    job_runner.start(state().sessionmaker, job_id, settings=state().settings, inline=inline)


def resume_in_background(app: Flask) -> None:
    """On the web server's start, pick up jobs a stopped process left (in a thread, so that
    starting is not held up). With Redis, ``lms worker`` does this instead."""
    lms_state = app.extensions["lms"]
    if lms_state.settings.redis_url:
        return
    run_in_thread(job_runner.resume_stale, lms_state.sessionmaker, settings=lms_state.settings)
    run_in_thread(certificates.render_pending, lms_state.sessionmaker, settings=lms_state.settings)


def _kind_label(kind: str) -> str:
    labels: dict[str, str] = {
        JobKind.QUIZ_IMPORT: _("Nhập câu hỏi"), JobKind.REPORT_EXPORT: _("Xuất báo cáo"),
        JobKind.CERTIFICATES_REGENERATE: _("Tạo lại tệp PDF chứng nhận"),
        JobKind.ROSTER_IMPORT: _("Nhập danh sách cán bộ")}
    return str(labels.get(kind, kind))


def _status_label(status: str) -> str:
    labels: dict[str, str] = {
        JobStatus.QUEUED: _("Đang chờ bắt đầu"), JobStatus.RUNNING: _("Đang chạy"),
        JobStatus.DONE: _("Đã xong"), JobStatus.FAILED: _("Không thành công")}
    return str(labels.get(status, status))


def _view(job: Job) -> dict[str, Any]:
    total = job.total or 0
    done = min(job.done, total) if total else job.done
    # A job whose process died says so, rather than "running": nothing updates it until resumed.
    stale = jobs.is_stale(job, now())
    return {"id": job.id, "kind": job.kind, "kind_label": _kind_label(job.kind), "status": job.status,
            "status_label": _("Đã dừng giữa chừng") if stale else _status_label(job.status),
            "running": job.status in jobs.ACTIVE and not stale,
            "stale": stale, "resume_url": url_for("lms_jobs.job_resume", job_id=job.id),
            "done": done, "total": total, "percent": round(100 * done / total) if total else None,
            "created": job.created_at, "url": url_for("lms_jobs.job_page", job_id=job.id)}


def job_rows(user: User) -> list[dict[str, Any]]:
    """The user's recent jobs for the "jobs under way" list on their pages."""
    return [_view(j) for j in jobs.recent_for(db(), user, now=now())]


def _outcome(job: Job) -> dict[str, Any]:
    """What the finished (or failed) job left: links and lines to show."""
    result = job.result or {}
    links: list[dict[str, str]] = []
    notes: list[str] = []
    if job.status == JobStatus.DONE:
        if job.kind == JobKind.QUIZ_IMPORT and result.get("quiz_id"):
            notes.append(_("Đã nhập %(n)s câu hỏi.", n=result.get("questions", 0)))
            notes.extend(str(line) for line in result.get("skipped", []))
            links.append({"label": _("Xem trước bài kiểm tra"),
                          "url": url_for("lms_trainer.quiz_preview", quiz_id=result["quiz_id"])})
        elif job.kind == JobKind.REPORT_EXPORT and job.output is not None:
            links.append({"label": _("Tải tệp %(name)s", name=result.get("filename", "")),
                          "url": url_for("lms_jobs.job_file", job_id=job.id)})
        elif job.kind == JobKind.CERTIFICATES_REGENERATE:
            notes.append(_("Đã xử lý %(n)s chứng nhận.", n=result.get("certificates", 0)))
    problems = [str(p) for p in result.get("problems", [])] if job.status == JobStatus.FAILED else []
    return {"links": links, "notes": notes, "problems": problems,
            "message": job.message if job.status == JobStatus.FAILED and not problems else None}


@bp.get("/jobs")
@login_required
def jobs_page() -> ResponseReturnValue:
    """"Việc đang chạy": the person's work under way and what finished in the last month."""
    user = current_account()
    assert user is not None
    rows = [_view(j) for j in jobs.recent_for(db(), user, now=now(), days=30, limit=100)]
    return render_template("lms/jobs.html", running=[r for r in rows if r["running"]],
                           finished=[r for r in rows if not r["running"]])


@bp.get("/jobs/<job_id>")
@login_required
def job_page(job_id: str) -> ResponseReturnValue:
    user = current_account()
    assert user is not None
    try:
        job = jobs.get_for(db(), user, job_id)
    except ServiceError as exc:
        abort(exc.status)
    return render_template("lms/job.html", job=_view(job), outcome=_outcome(job))


@bp.post("/jobs/<job_id>/resume")
@login_required
def job_resume(job_id: str) -> ResponseReturnValue:
    """Its owner (or an admin) starts again a job whose process died; a job still alive, or
    finished, is left as it is."""
    user = current_account()
    assert user is not None
    with transaction() as tx:
        try:
            jobs.get_for(tx, user, job_id)
        except ServiceError as exc:
            abort(exc.status)
        again = jobs.requeue_stale(tx, now=now(), only=job_id)
    for stale_id in again:
        launch(stale_id)
    return redirect(url_for("lms_jobs.job_page", job_id=job_id))


@bp.get("/jobs/<job_id>/file")
@login_required
def job_file(job_id: str) -> ResponseReturnValue:
    user = current_account()
    assert user is not None
    try:
        data, name, mimetype = jobs.output_of(db(), user, job_id)
    except ServiceError as exc:
        abort(exc.status)
    return Response(data, mimetype=mimetype, headers={"Content-Disposition": f'attachment; filename="{name}"'})


@bp.post("/manager/certificates/regenerate")
@admins_only
def certificates_regenerate() -> ResponseReturnValue:
    """Admins: make the missing certificate PDFs again, as a job with a progress page."""
    user = current_account()
    assert user is not None
    with transaction() as tx:
        job = jobs.create_certificates_regeneration(tx, owner=user, everything=False, now=now())
        job_id = job.id
    launch(job_id)
    if jobs.get_for(db(), user, job_id).status in jobs.ACTIVE:
        flash(_("Đã bắt đầu. Bạn có thể rời trang này và quay lại sau."), "success")
    return redirect(url_for("lms_jobs.job_page", job_id=job_id))
