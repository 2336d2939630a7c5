"""The LMS Flask extension: mounts every page and the API into a Flask app, own or host's."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from flask import Blueprint, Flask, current_app, g, request, session
from flask_babel import Babel
from flask_wtf.csrf import CSRFProtect
from sqlalchemy.orm import Session

from lms.config import Settings
from lms.services import audit
from lms.services.unit_of_work import make_sessionmaker

# App wiring builds the engine and sessionmaker: the one web module besides lms.web.db that the
# import-linter contract "Views never import the store" lets import lms.store.
from lms.store import make_engine
from lms.web import (
    account_pages,
    api,
    cert_pages,
    class_pages,
    course_pages,
    job_pages,
    lesson_pages,
    manager_pages,
    ops,
    pages,
    privacy_pages,
    quiz_pages,
    trainer_pages,
    xapi_pages,
)
from lms.web.auth import init_login
from lms.web.db import reset_write_intent, set_write_intent
from lms.web.limits import limiter
from lms.web.lti import init_lti
from lms.web.page_cache import init_page_cache
from lms.web.preference_forms import init_preference_forms
from lms.web.sso import init_sso
from lms.web.state import LMSState

__all__ = ["LMS", "PAGE_BLUEPRINTS", "LMSState"]

TRANSLATIONS = Path(__file__).resolve().parent.parent / "translations"
LANGUAGES = ("vi", "en")

# Every blueprint of HTML pages, one per feature, all mounted at the same prefix. The site shell
# (lms_pages) comes first: it carries the one template folder and the static files.
PAGE_BLUEPRINTS: tuple[Blueprint, ...] = (
    pages.bp,
    course_pages.bp,
    quiz_pages.bp,
    account_pages.bp,
    privacy_pages.bp,
    cert_pages.bp,
    job_pages.bp,
    lesson_pages.bp,
    trainer_pages.bp,
    class_pages.bp,
    manager_pages.bp,
    xapi_pages.bp,
)


class LMS:
    """``LMS().init_app(app, url_prefix="/hoc")`` mounts the LMS beside the host's own routes."""

    def __init__(self, settings: Settings | None = None) -> None:
        self._settings = settings

    def init_app(self, app: Flask, url_prefix: str | None = None) -> LMSState:
        prefix = (url_prefix or "").rstrip("/")
        settings = self._settings or Settings.load(app.config)
        own_site = app.name == "lms"
        _configure(app, settings)
        state = LMSState(settings=settings, engine=(engine := make_engine(settings.database_url)),
                         sessionmaker=make_sessionmaker(engine), url_prefix=prefix)
        app.extensions["lms"] = state
        _init_babel(app, settings)
        init_login(app)
        csrf = app.extensions.get("csrf") or CSRFProtect(app)
        limiter.init_app(app)
        _limit_in_views_only(app)
        _register_blueprints(app, csrf, prefix)
        # The header's language and text-size switches carry a token of their own (see there).
        csrf.exempt(pages.language)
        csrf.exempt(pages.text_size)
        init_preference_forms(app)
        init_lti(app, csrf, prefix)
        init_sso(app, settings, prefix)  # only when LMS_OIDC_ISSUER is set
        if own_site:
            api.register_site_errors(app, prefix)
        xapi_pages.start(state)
        app.before_request(_before)
        init_page_cache(app, state.sessionmaker, settings.content_recheck_seconds)
        ops.answer_health_first(app)
        app.teardown_request(_teardown)
        return state


def _limit_in_views_only(app: Flask) -> None:
    """Flask-Limiter checks every request in a hook of its own, for default and application-wide
    limits; the LMS sets none (lms.web.limits), and each view it limits checks its own limit when
    called. Without the hook an API request saves about 45 µs (issue 14). A host site that sets
    limits of its own for every request keeps the hook."""
    if limiter.limit_manager.default_limits or limiter.limit_manager.application_limits:
        return
    hooks = app.before_request_funcs.get(None, [])
    app.before_request_funcs[None] = [f for f in hooks if not (getattr(f, "__self__", None) is limiter
                                                               and f.__name__ == "_check_request_limit")]


def _register_blueprints(app: Flask, csrf: CSRFProtect, prefix: str) -> None:
    """Every page blueprint at the LMS's prefix, the API under it at /api/v1, health beside them."""
    for blueprint in PAGE_BLUEPRINTS:
        app.register_blueprint(blueprint, url_prefix=prefix or None)
    csrf.exempt(api.bp)  # the API authenticates with bearer tokens, never with cookies
    app.register_blueprint(api.bp, url_prefix=f"{prefix}/api/v1")
    app.register_blueprint(ops.bp, url_prefix=prefix or None)


def _configure(app: Flask, settings: Settings) -> None:
    if not app.config.get("SECRET_KEY"):
        app.config["SECRET_KEY"] = settings.secret_key
    # Flask's own defaults hold these keys (SameSite None), so setdefault would keep them: a host
    # application that chose a value keeps it, otherwise ours applies.
    app.config["SESSION_COOKIE_HTTPONLY"] = True
    if app.config.get("SESSION_COOKIE_SAMESITE") is None:
        app.config["SESSION_COOKIE_SAMESITE"] = "Lax"
    if app.config.get("REMEMBER_COOKIE_SAMESITE") is None:
        app.config["REMEMBER_COOKIE_SAMESITE"] = "Lax"
    if settings.secure_cookies:
        app.config["SESSION_COOKIE_SECURE"] = True
        app.config["REMEMBER_COOKIE_SECURE"] = True
    app.config.setdefault("REMEMBER_COOKIE_HTTPONLY", True)
    app.config.setdefault("MAX_CONTENT_LENGTH", 8 * 1024 * 1024)
    app.config.setdefault("WTF_CSRF_TIME_LIMIT", None)
    app.config.setdefault("RATELIMIT_STORAGE_URI", settings.ratelimit_storage_url)
    app.config.setdefault("RATELIMIT_HEADERS_ENABLED", True)
    app.config.setdefault("RATELIMIT_SWALLOW_ERRORS", True)
    app.config.setdefault("BABEL_DEFAULT_LOCALE", settings.default_language)
    app.config.setdefault("BABEL_DEFAULT_TIMEZONE", settings.timezone)


def _select_locale() -> str:
    wanted = request.args.get("lang")
    if wanted in LANGUAGES:
        return wanted
    chosen = session.get("lang")
    if chosen in LANGUAGES:
        return str(chosen)
    if request.path.startswith(_api_prefix()):
        best = request.accept_languages.best_match(LANGUAGES)
        if best:
            return best
    return str(_state().settings.default_language)


def _api_prefix() -> str:
    return f"{_state().url_prefix}/api/"


def _state() -> Any:
    return current_app.extensions["lms"]


def _init_babel(app: Flask, settings: Settings) -> None:
    if "babel" in app.extensions:
        return
    Babel(app, locale_selector=_select_locale, timezone_selector=lambda: settings.timezone,
          default_translation_directories=str(TRANSLATIONS))


def _before() -> None:
    # SQLite: requests that change state take the write lock up front (BEGIN IMMEDIATE).
    g.lms_write_token = set_write_intent(request.method not in ("GET", "HEAD", "OPTIONS"))
    g.lms_audit_token = audit.acting(None, request.remote_addr or "unknown")


def _teardown(_exc: BaseException | None) -> None:
    session_: Session | None = g.pop("lms_session", None)
    if session_ is not None:
        session_.close()
    token = g.pop("lms_write_token", None)
    if token is not None:
        reset_write_intent(token)
    audit_token = g.pop("lms_audit_token", None)
    if audit_token is not None:
        audit.done(audit_token)
