"""Rate limits (Flask-Limiter). Storage is Redis when configured, memory otherwise."""

from __future__ import annotations

from flask import request
from flask_limiter import Limiter
from flask_limiter.util import get_remote_address

from lms.domain.text import normalise_login
from lms.web.payload import json_payload

__all__ = ["limiter", "login_key"]

limiter = Limiter(key_func=get_remote_address, default_limits=[])


def login_key() -> str:
    """Failures count per login, never per address alone: a commune office shares one address."""
    login = ""
    data = json_payload() if request.is_json else None
    if isinstance(data, dict) and isinstance(data.get("login"), str):
        login = data["login"]
    elif request.form.get("login"):
        login = request.form.get("login", "")
    return "login:" + normalise_login(login)[:254]
