"""The site shell: home, the static files and service worker, the offline page, the display
settings, the error page, and the date helpers every page uses. Every page works without
JavaScript; templates only display ready values. The one template folder and static folder of
the LMS hang on this blueprint, so nothing moves on disk."""

from __future__ import annotations

import hashlib
from datetime import datetime
from functools import lru_cache
from pathlib import Path
from typing import Any

from flask import Response, redirect, render_template, request, session, url_for
from flask.typing import ResponseReturnValue
from flask_babel import format_date, get_locale
from werkzeug.exceptions import HTTPException

from lms.domain.calendar import local_date as local_day
from lms.domain.calendar import show_date, vietnamese_date
from lms.services import catalogue
from lms.web.auth import current_account, permissions
from lms.web.db import db, state
from lms.web.learning_path import course_card, duties
from lms.web.messages import message
from lms.web.page_blueprint import CSP, PageBlueprint
from lms.web.preference_forms import check_preference_token
from lms.web.redirects import safe_next

__all__ = ["CSP", "bp", "error_page", "local_date", "long_date", "static_url"]

bp = PageBlueprint("lms_pages", __name__, template_folder="templates", static_folder="static",
                   static_url_path="/static")


@bp.before_app_request
def _remember_language() -> None:
    lang = request.args.get("lang")
    if lang in ("vi", "en"):
        session["lang"] = lang


@bp.app_context_processor
def _layout() -> dict[str, Any]:
    user = current_account()
    return {"account": user, "may": permissions(user), "large_text": bool(session.get("large_text")),
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
    return show_date(value, state().settings.timezone)


def long_date(value: datetime) -> str:
    """A date in words, as a certificate states it: "ngày 02 tháng 12 năm 2026" in Vietnamese,
    "2 December 2026" in English (Babel's CLDR month names, the site's time zone)."""
    if get_locale() is not None and str(get_locale()) == "en":
        return str(format_date(local_day(value, state().settings.timezone), "d MMMM y"))
    return vietnamese_date(value)


def error_page(exc: HTTPException) -> ResponseReturnValue:
    status = exc.code or 500
    key = {404: "not_found", 405: "method_not_allowed"}.get(status, "bad_request")
    return render_template("lms/error.html", status=status, text=message(key)), status


@bp.get("/")
def home() -> ResponseReturnValue:
    courses = catalogue.list_courses(db())
    return render_template("lms/home.html", courses=[course_card(c) for c in courses],
                           duties=duties(current_account()))


def _safe_next() -> str | None:
    return safe_next(request.args.get("next"))


@bp.post("/settings/language")
def language() -> ResponseReturnValue:
    """Choose the interface language (a form, since it changes what every later page shows;
    ``?lang=`` on any page does the same for a shared link)."""
    check_preference_token()
    if request.form.get("lang") in ("vi", "en"):
        session["lang"] = request.form["lang"]
    return redirect(_safe_next() or url_for("lms_pages.home"))


@bp.post("/settings/text-size")
def text_size() -> ResponseReturnValue:
    check_preference_token()
    session["large_text"] = not session.get("large_text")
    return redirect(_safe_next() or url_for("lms_pages.home"))
