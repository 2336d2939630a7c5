"""Who is asking: Flask-Login sessions for pages, bearer tokens for the API; and the decorators
that let a page or an API route through only for whom lms.services.access says may open it.
Pages, the API and templates (``may``, see :func:`permissions`) ask access, never a role name."""

from __future__ import annotations

from collections.abc import Callable
from functools import wraps
from typing import Any, TypeVar

from flask import Flask, abort, g, request
from flask import session as cookie
from flask_login import LoginManager, UserMixin, current_user, login_required, login_user, logout_user
from sqlalchemy.orm import Session

from lms.services import access, accounts, audit, sessions
from lms.services.errors import ServiceError
from lms.services.records import User
from lms.services.throttle import Throttle
from lms.web.db import db, now, read_first, state, transaction

__all__ = ["Principal", "admins_only", "api_holder", "api_user", "authors_only", "bearer_token", "committing",
           "current_account", "current_session_id", "init_login", "managers_only", "permissions", "require_api_user",
           "require_token_holder", "sign_in_browser", "sign_out_browser", "throttle"]

F = TypeVar("F", bound=Callable[..., Any])
Rule = Callable[[User | None], bool]


class Principal(UserMixin):  # type: ignore[misc]
    """The logged-in account. Its id is the server-side session's (services/sessions.py): the
    cookie names a row that sign-out deletes, so a copy of the cookie dies with it."""

    def __init__(self, user: User, session_id: str) -> None:
        self.user = user
        self.session_id = session_id

    def get_id(self) -> str:
        return self.session_id


def init_login(app: Flask) -> None:
    if "login_manager" in app.extensions or hasattr(app, "login_manager"):
        return
    manager = LoginManager()
    manager.login_view = "lms_account.login"
    manager.login_message = None
    manager.session_protection = "basic"
    manager.init_app(app)

    @manager.user_loader
    def _load(session_id: str) -> Principal | None:
        # Called only when the cookie names a session: anonymous visitors cost no read.
        user = sessions.load_session(db(), session_id, now=now())
        return Principal(user, session_id) if user is not None else None


def throttle() -> Throttle:
    """The password-guessing throttle of this site (Redis when configured, else the database)."""
    settings = state().settings
    found: Throttle | None = getattr(state(), "_throttle", None)
    if found is None:
        found = Throttle.for_settings(settings.redis_url, limit=settings.login_failures_per_window)
        state()._throttle = found  # type: ignore[attr-defined]
    return found


def sign_in_browser(user: User) -> None:
    """Start a server-side session for ``user`` and put its id in the (fresh) cookie."""
    kept = {k: cookie[k] for k in ("lang", "large_text") if k in cookie}
    cookie.clear()  # nothing set before sign-in survives it but the display choices (session fixation)
    cookie.update(kept)
    with transaction() as tx:
        session_id = sessions.start_session(tx, user, now=now())
    login_user(Principal(user, session_id))


def current_session_id() -> str | None:
    if current_user and current_user.is_authenticated:
        return str(current_user.session_id)
    return None


def sign_out_browser() -> None:
    """End the session on the server, then forget it in the browser."""
    session_id = current_session_id()
    if session_id:
        with transaction() as tx:
            sessions.end_session(tx, session_id)
    logout_user()


T = TypeVar("T")


def committing(call: Callable[[Session], T]) -> T:
    """Run a password check in its own transaction, committed even when the check fails: a
    refused password must still be counted by the throttle. The refusal is raised after."""
    failure: ServiceError | None = None
    with transaction() as tx:
        try:
            result = call(tx)
        except ServiceError as exc:
            failure = exc
    if failure is not None:
        raise failure
    return result


def bearer_token() -> str | None:
    header = request.headers.get("Authorization", "")
    if header[:7].lower() == "bearer " and header[7:].strip():
        return header[7:].strip()
    return None


def current_account() -> User | None:
    if current_user and current_user.is_authenticated:
        user: User = current_user.user
        audit.acting(user, request.remote_addr or "unknown")
        return user
    return None


def api_user() -> User | None:
    """The user behind ``Authorization: Bearer``; cached on ``g`` for the request."""
    if "lms_api_user" in g:
        return g.lms_api_user  # type: ignore[no-any-return]
    user = None
    header = request.headers.get("Authorization", "")
    if header[:7].lower() == "bearer " and header[7:].strip():
        with read_first() as session:
            user = accounts.resolve_token(session, header[7:].strip(), now=now())
        if user is not None:
            audit.acting(user, request.remote_addr or "unknown")
    g.lms_api_user = user
    return user


def api_holder() -> accounts.AccountRef | None:
    """The account behind ``Authorization: Bearer`` as the attempt API needs it: its id and
    login, read without loading the account (:func:`api_user` loads it, at several times the
    cost). Cached on ``g`` for the request."""
    if "lms_api_user" in g:
        return g.lms_api_user  # type: ignore[no-any-return]
    if "lms_api_holder" in g:
        return g.lms_api_holder  # type: ignore[no-any-return]
    holder = None
    raw = bearer_token()
    if raw is not None:
        # One indexed read on the driver, before the view's transaction (and SQLite's write lock).
        holder = accounts.token_holder(db(), raw, now=now())
        if holder is not None:
            audit.acting(holder, request.remote_addr or "unknown")
    g.lms_api_holder = holder
    return holder


def require_token_holder(view: F) -> F:
    """A valid bearer token is needed (401 without one); the view reads :func:`api_holder`."""
    @wraps(view)
    def wrapped(*args: Any, **kwargs: Any) -> Any:
        if api_holder() is None:
            abort(401)
        return view(*args, **kwargs)

    return wrapped  # type: ignore[return-value]


def require_api_user(may: Rule | None = None) -> Callable[[F], F]:
    """A bearer token is needed (401 without one); with ``may`` (an lms.services.access rule), its
    account must pass it too (403)."""
    def decorate(view: F) -> F:
        @wraps(view)
        def wrapped(*args: Any, **kwargs: Any) -> Any:
            user = api_user()
            if user is None:
                abort(401)
            if may is not None and not may(user):
                abort(403)
            return view(*args, **kwargs)

        return wrapped  # type: ignore[return-value]

    return decorate


def _pages_for(may: Rule) -> Callable[[F], F]:
    """Pages for those ``may`` lets in: others signed in get 403, anonymous visitors the sign-in."""
    def decorate(view: F) -> F:
        @wraps(view)
        def wrapped(*args: Any, **kwargs: Any) -> Any:
            if not may(current_account()):
                abort(403)
            return view(*args, **kwargs)

        return login_required(wrapped)  # type: ignore[no-any-return]

    return decorate


authors_only = _pages_for(access.can_author)
"""The authoring pages (what an author may change is checked per object by the services)."""
managers_only = _pages_for(access.may_open_reports)
"""The managers' pages (which units they show is access.can_see_unit's)."""
admins_only = _pages_for(access.is_admin)
"""The administrator's pages."""


def permissions(user: User | None) -> dict[str, bool]:
    """What the layout may offer ``user``, for templates as ``may``: they show a link when it is
    True and never compare roles themselves."""
    return {"open_reports": access.may_open_reports(user), "author": access.can_author(user),
            "administer": access.is_admin(user)}
