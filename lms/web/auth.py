"""Who is asking: Flask-Login sessions for pages, bearer tokens for the API."""

from __future__ import annotations

from collections.abc import Callable
from functools import wraps
from typing import Any, TypeVar

from flask import Flask, abort, g, request
from flask_login import LoginManager, UserMixin, current_user

from lms.services import accounts, audit
from lms.store import User
from lms.web.db import db, now

__all__ = ["Principal", "api_user", "current_account", "init_login", "require_api_user"]

F = TypeVar("F", bound=Callable[..., Any])


class Principal(UserMixin):  # type: ignore[misc]
    """The logged-in account. The session id carries the credentials version, so a password
    change logs out every other session."""

    def __init__(self, user: User) -> None:
        self.user = user

    def get_id(self) -> str:
        return f"{self.user.id}:{self.user.credentials_version}"


def init_login(app: Flask) -> None:
    if "login_manager" in app.extensions or hasattr(app, "login_manager"):
        return
    manager = LoginManager()
    manager.login_view = "lms_pages.login"
    manager.login_message = None
    manager.session_protection = "basic"
    manager.init_app(app)

    @manager.user_loader
    def _load(user_id: str) -> Principal | None:
        try:
            uid, version = (int(x) for x in user_id.split(":", 1))
        except ValueError:
            return None
        user = db().get(User, uid)
        if user is None or not user.is_active or user.credentials_version != version:
            return None
        return Principal(user)


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
        user = accounts.resolve_token(db(), header[7:].strip(), now=now())
        if user is not None:
            audit.acting(user, request.remote_addr or "unknown")
    g.lms_api_user = user
    return user


def require_api_user(*roles: str) -> Callable[[F], F]:
    def decorate(view: F) -> F:
        @wraps(view)
        def wrapped(*args: Any, **kwargs: Any) -> Any:
            user = api_user()
            if user is None:
                abort(401)
            if roles and user.role not in roles:
                abort(403)
            return view(*args, **kwargs)

        return wrapped  # type: ignore[return-value]

    return decorate
