"""HTML pages. Every page works without JavaScript; templates only display ready values."""

from __future__ import annotations

import hashlib
from datetime import datetime
from functools import lru_cache
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

from flask import (
    Blueprint,
    Response,
    abort,
    flash,
    redirect,
    render_template,
    request,
    session,
    url_for,
)
from flask.typing import ResponseReturnValue
from flask_babel import format_date, get_locale
from flask_babel import gettext as _
from flask_login import login_required
from sqlalchemy import select
from werkzeug.exceptions import HTTPException

from lms.domain.certificates import vietnamese_date
from lms.services import accounts, catalogue, sessions
from lms.services import lessons as lesson_service
from lms.services.errors import ServiceError
from lms.store import Unit
from lms.web import sso as sso_pages
from lms.web.auth import committing, current_account, sign_in_browser, sign_out_browser, throttle
from lms.web.db import db, now, state, transaction
from lms.web.forms import LoginForm, RegistrationForm
from lms.web.messages import message
from lms.web.redirects import safe_next

__all__ = ["bp", "error_page", "local_date", "long_date", "static_url"]

bp = Blueprint("lms_pages", __name__, template_folder="templates", static_folder="static",
               static_url_path="/static")

# Inline scripts are allowed so that accessibility auditors injected into the live page (axe-core
# through Playwright, screen-reader test extensions) can run; the pages themselves never carry an
# inline script or event attribute (a test checks), see docs/decisions/0003-csp-allows-audit-scripts.md.
CSP = ("default-src 'self'; img-src 'self' data:; style-src 'self'; script-src 'self' 'unsafe-inline'; "
       "connect-src 'self'; worker-src 'self'; object-src 'none'; base-uri 'self'; form-action 'self'; "
       "frame-ancestors 'self'")


@bp.before_app_request
def _remember_language() -> None:
    lang = request.args.get("lang")
    if lang in ("vi", "en"):
        session["lang"] = lang


@bp.before_request
def _refuse_nul_characters() -> Any:
    """U+0000 belongs in no path, query or form field, and PostgreSQL can neither store nor
    compare it: refuse it here, the same on every database (the API does the same)."""
    if "\x00" in request.path:
        abort(404)
    fields = (*request.args.items(multi=True), *request.form.items(multi=True))
    if any("\x00" in value for _, value in fields):
        abort(400)
    return None


@bp.after_request
def _security_headers(response: Any) -> Any:
    response.headers.setdefault("Content-Security-Policy", CSP)
    response.headers.setdefault("X-Content-Type-Options", "nosniff")
    response.headers.setdefault("Referrer-Policy", "same-origin")
    return response


@bp.app_context_processor
def _layout() -> dict[str, Any]:
    user = current_account()
    return {"account": user, "large_text": bool(session.get("large_text")),
            "lang": session.get("lang") or state().settings.default_language, "static_url": static_url}


STATIC = Path(__file__).resolve().parent / "static"


@lru_cache(maxsize=64)
def _digest(filename: str, mtime_ns: int) -> str:
    return hashlib.sha256((STATIC / filename).read_bytes()).hexdigest()[:12]


def static_url(filename: str) -> str:
    """A static file's URL carrying a hash of its content (``?v=``): the service worker keeps a
    versioned file for good, and a changed file gets a new URL."""
    try:
        version = _digest(filename, (STATIC / filename).stat().st_mtime_ns)
    except OSError:
        return url_for("lms_pages.static", filename=filename)
    return url_for("lms_pages.static", filename=filename, v=version)


@bp.get("/sw.js")
def service_worker() -> ResponseReturnValue:
    """The service worker, served from the LMS's root (not /static/) so that its scope covers
    every page of the LMS, mounted under a prefix or not."""
    return Response((STATIC / "sw.js").read_bytes(), mimetype="text/javascript",
                    headers={"Service-Worker-Allowed": url_for("lms_pages.home"), "Cache-Control": "no-cache"})


@bp.get("/offline")
def offline() -> ResponseReturnValue:
    """Shown by the service worker for a page that was never visited while online."""
    return render_template("lms/offline.html")


def local_date(value: datetime | None) -> str | None:
    """A stored UTC time as the site's local date, dd/mm/yyyy."""
    if value is None:
        return None
    return value.astimezone(ZoneInfo(state().settings.timezone)).strftime("%d/%m/%Y")


def long_date(value: datetime) -> str:
    """A date in words, as a certificate states it: "ngày 02 tháng 12 năm 2026" in Vietnamese,
    "2 December 2026" in English (Babel's CLDR month names, the site's time zone)."""
    if get_locale() is not None and str(get_locale()) == "en":
        local = value.astimezone(ZoneInfo(state().settings.timezone))
        return str(format_date(local.date(), "d MMMM y"))
    return vietnamese_date(value)


def error_page(exc: HTTPException) -> ResponseReturnValue:
    status = exc.code or 500
    key = {404: "not_found", 405: "method_not_allowed"}.get(status, "bad_request")
    return render_template("lms/error.html", status=status, text=message(key)), status


@bp.get("/")
def home() -> ResponseReturnValue:
    courses = catalogue.list_courses(db())
    return render_template("lms/home.html", courses=[_course_card(c) for c in courses],
                           duties=_duties(current_account()))


def _course_card(c: Any) -> dict[str, Any]:
    english = session.get("lang") == "en"
    return {"id": c.id, "title": c.title_en if english and c.title_en else c.title,
            "summary": c.summary_en if english and c.summary_en else c.summary,
            "lesson_count": c.lesson_count, "minutes": c.minutes, "mandated": c.mandated,
            "url": url_for("lms_pages.course", course_id=c.id)}


@bp.get("/courses")
def courses() -> ResponseReturnValue:
    return render_template("lms/courses.html", courses=[_course_card(c) for c in catalogue.list_courses(db())])


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
        url = url_for("lms_pages.lesson", lesson_id=le.id)
        locked = c.sequential and blocker is not None
        lessons.append({"title": le.title, "minutes": le.minutes, "done": le.id in done, "locked": locked,
                        "unlock": blocker if locked else None, "url": url,
                        "version": le.version, "updated": local_date(le.updated_at)})
        if blocker is None and le.id not in done:
            blocker = {"title": le.title, "url": url}
    from lms.services import quizzes as quiz_service
    from lms.web.learning_path import certificate_needs

    quiz_links = [{"title": q.title, "final": q.kind == "final", "url": url_for("lms_pages.quiz", quiz_id=q.id)}
                  for q in quiz_service.list_course_quizzes(session_, c.id)]
    return render_template("lms/course.html", course=_course_card(c), lessons=lessons,
                           progress=progress, competences=c.competences, quizzes=quiz_links,
                           duties=[d for d in _duties(user) if d["course_id"] == c.id],
                           needs=certificate_needs(session_, user, c))


def _duties(user: Any) -> list[dict[str, Any]]:
    """The signed-in person's mandated courses this training year, with their deadlines."""
    if user is None or user.role != "official":
        return []
    from lms.services import mandates

    return [{"course": m.course_title, "course_id": m.course_id, "due": m.due.strftime("%d/%m/%Y"),
             "done": m.done, "overdue": m.overdue, "url": url_for("lms_pages.course", course_id=m.course_id)}
            for m in mandates.mandates_for(db(), user, today=now().date())]


@bp.get("/courses/<course_id>/assets/<path:filename>")
def course_asset(course_id: str, filename: str) -> ResponseReturnValue:
    from flask import send_file

    from lms.content.assets import asset_file

    path = asset_file(state().settings.content_path, course_id, filename)
    if path is None:  # outside the course's assets/ (.., absolute, a link out) or missing: the same 404
        abort(404)
    return send_file(path, max_age=86400)


@bp.get("/lessons/<lesson_id>")
def lesson(lesson_id: str) -> ResponseReturnValue:
    from lms.web import learning_path as path

    session_ = db()
    try:
        le = catalogue.get_lesson(session_, lesson_id)
    except ServiceError:
        abort(404)
    user = current_account()
    course_view = {"id": le.course_id, "title": le.course.title,
                   "url": url_for("lms_pages.course", course_id=le.course_id)}
    # a lesson an LTI launch opened is opened directly: the platform decides the order there
    opened_by_launch = lesson_id in session.get("lti_lessons", ())
    if not opened_by_launch and not catalogue.lesson_unlocked(session_, user, le):
        first = path.lock_reason(session_, user, le)
        return render_template("lms/lesson_locked.html", lesson={"title": le.title}, course=course_view,
                               unlock={"title": first.title, "url": url_for("lms_pages.lesson", lesson_id=first.id)}
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
        return url_for("lms_pages.lesson", lesson_id=le.id, trang=n)

    done = bool(progress and le.id in progress.completed_ids)
    final_url = url_for("lms_pages.quiz", quiz_id=le.course.final_quiz_id) if le.course.final_quiz_id else None
    return render_template(
        "lms/lesson.html", lesson={"id": le.id, "title": le.title, "html": pages[number - 1], "minutes": le.minutes,
                                   "position": le.position, "count": len(siblings), "version": le.version,
                                   "updated": local_date(le.updated_at)},
        page={"number": number, "count": len(pages), "last": number == len(pages),
              "previous_url": page_url(number - 1) if number > 1 else None,
              "next_url": page_url(number + 1) if number < len(pages) else None},
        edit_url=url_for("lms_pages.lesson_edit", lesson_id=le.id)
        if lesson_service.can_edit(session_, user, le.course_id) else None,
        course=course_view, done=done,
        next_url=url_for("lms_pages.lesson", lesson_id=nxt.id) if nxt else (final_url if done else None),
        next_is_final=nxt is None and done and final_url is not None)


@bp.post("/lessons/<lesson_id>/completion")
@login_required
def complete_lesson(lesson_id: str) -> ResponseReturnValue:
    from lms.web import learning_path as path

    user = current_account()
    assert user is not None
    try:
        with transaction() as session_:
            progress = catalogue.complete_lesson(session_, user, lesson_id, now=now())
            if progress.done:
                from lms.services import certificates
                from lms.web.certificate_pdfs import background

                certificates.award(session_, user, progress.course_id, now=now(), settings=state().settings,
                                   background=background())
    except ServiceError as exc:
        if exc.status == 404:
            abort(404)
        flash(message(exc.key), "warning")
        return redirect(url_for("lms_pages.lesson", lesson_id=lesson_id))
    flash(_("Đã ghi nhận: bạn hoàn thành %(done)s/%(total)s bài.", done=progress.completed_lessons,
            total=progress.lesson_count), "success")
    # On to what comes next, from its top: never a reload of the lesson just finished.
    return redirect(path.next_after(db(), user, catalogue.get_lesson(db(), lesson_id)))


@bp.route("/login", methods=["GET", "POST"])
def login() -> ResponseReturnValue:
    form = LoginForm()
    status = 200
    if form.validate_on_submit():
        login, password = form.login.data or "", form.password.data or ""
        try:
            user = committing(lambda tx: sessions.sign_in(tx, throttle(), login, password, now=now()))
        except ServiceError as exc:
            form.password.errors.append(message(exc.key))
            status = exc.status
        else:
            refusal = sso_pages.password_refusal(user)
            if refusal is None:
                sign_in_browser(user)
                return redirect(safe_next(request.args.get("next")) or url_for("lms_pages.home"))
            form.password.errors.append(refusal)  # the unit requires its officials to use single sign-on
            status = 403
    elif request.method == "POST":
        status = 400
    return render_template("lms/login.html", form=form, sso_button=sso_pages.button()), status


def _safe_next() -> str | None:
    return safe_next(request.args.get("next"))


@bp.post("/logout")
def logout() -> ResponseReturnValue:
    sign_out_browser()
    return sso_pages.after_logout() or redirect(url_for("lms_pages.home"))


@bp.route("/register", methods=["GET", "POST"])
def register() -> ResponseReturnValue:
    session_ = db()
    from lms.services.collation import sorted_by_name

    provinces = sorted_by_name(session_.scalars(select(Unit).where(Unit.level == "province")), lambda u: u.name)
    province = request.values.get("province", "")
    if province not in {p.code for p in provinces}:
        return render_template("lms/register_province.html", provinces=provinces)
    communes = sorted_by_name(session_.scalars(select(Unit).where(Unit.parent_code == province)), lambda u: u.name)
    form = RegistrationForm()
    form.unit_code.choices = [("", _("— Chọn xã, phường —"))] + [(u.code, u.name) for u in communes]
    status = 200
    if form.validate_on_submit():
        data = {"full_name": form.full_name.data, "login": form.login.data, "password": form.password.data,
                "birth_year": form.birth_year.data, "unit_code": form.unit_code.data}
        try:
            with transaction() as tx:
                user = accounts.register_citizen(tx, data, now=now())
            sign_in_browser(user)
            flash(_("Chào mừng bạn! Tài khoản đã được tạo."), "success")
            return redirect(url_for("lms_pages.courses"))
        except ServiceError as exc:
            for name, key in exc.fields.items():
                getattr(form, name).errors.append(message(key))
            status = exc.status
    elif request.method == "POST":
        status = 422
    province_name = next(p.name for p in provinces if p.code == province)
    return render_template("lms/register.html", form=form, province=province,
                           province_name=province_name), status


@bp.get("/me")
@login_required
def me() -> ResponseReturnValue:
    user = current_account()
    assert user is not None
    session_ = db()
    rows = []
    for c in catalogue.list_courses(session_):
        p = catalogue.course_progress(session_, user, c.id)
        rows.append({"title": c.title, "url": url_for("lms_pages.course", course_id=c.id),
                     "done": p.completed_lessons, "total": p.lesson_count})
    from lms.web.job_pages import job_rows

    duties = _duties(user)
    return render_template("lms/me.html", user={"full_name": user.full_name, "login": user.login,
                                                "unit": user.unit.name if user.unit else ""}, rows=rows,
                           duties=duties, jobs=job_rows(user), identities=sso_pages.identity_rows(user),
                           link_identity=sso_pages.link_more_url())


@bp.post("/settings/language")
def language() -> ResponseReturnValue:
    """Choose the interface language (a form, since it changes what every later page shows;
    ``?lang=`` on any page does the same for a shared link)."""
    if request.form.get("lang") in ("vi", "en"):
        session["lang"] = request.form["lang"]
    return redirect(_safe_next() or url_for("lms_pages.home"))


@bp.post("/settings/text-size")
def text_size() -> ResponseReturnValue:
    session["large_text"] = not session.get("large_text")
    return redirect(_safe_next() or url_for("lms_pages.home"))
