"""The token of the language and text-size switches in every page's header.

Those switches are POST forms (a crawler following links must not flip them) and, like every
form, refuse a request another site makes a browser send. Every other form carries Flask-WTF's
token, which lives in the visitor's Flask session; the switches are on every page, so a visitor
who is not signed in would get a session cookie, signed twice over, on every page only to carry
that token: 118 µs of a kept page that otherwise costs about 300 µs (bench/README.md, issue 14).

So the switches carry a token of their own, a signed double-submit cookie (OWASP's name for it):
a random value in the HttpOnly, SameSite=Lax cookie ``lms_pref``, and in the form
HMAC-SHA256(key, value), the key derived from the app's SECRET_KEY. Another site can neither
read the cookie nor compute the HMAC; a value planted in the cookie (by a sibling subdomain,
say) is useless without the matching HMAC. A wrong or missing token is refused exactly as
Flask-WTF refuses one (400). The token guards only these two switches; all else keeps Flask-WTF's.
"""

from __future__ import annotations

import hashlib
import hmac
import secrets

from flask import Flask, Response, current_app, g, request
from flask_wtf.csrf import CSRFError

__all__ = ["COOKIE", "FIELD", "check_preference_token", "init_preference_forms", "preference_token"]

COOKIE = "lms_pref"
FIELD = "preference_token"
_YEAR = 365 * 24 * 3600  # pages kept offline by the service worker keep working switches


def _key() -> bytes:
    key: bytes | None = current_app.extensions.get("lms_preference_key")
    if key is None:
        secret = str(current_app.config["SECRET_KEY"]).encode()
        key = hmac.new(secret, b"lms preference forms", hashlib.sha256).digest()
        current_app.extensions["lms_preference_key"] = key
    return key


def _sign(value: str) -> str:
    return hmac.new(_key(), value.encode(), hashlib.sha256).hexdigest()


def _cookie_value() -> str | None:
    value = request.cookies.get(COOKIE)
    return value if value and 16 <= len(value) <= 64 else None


def preference_token() -> str:
    """The token for this visitor's switches; a visitor without the cookie is given one with
    this response."""
    value = _cookie_value() or g.get("lms_pref_new")
    if value is None:
        value = g.lms_pref_new = secrets.token_urlsafe(18)
    return _sign(value)


def check_preference_token() -> None:
    """Refuse (400, like Flask-WTF) a switch whose token does not match the visitor's cookie."""
    value = _cookie_value()
    sent = request.form.get(FIELD, "")
    if value is None or not hmac.compare_digest(sent.encode(), _sign(value).encode()):
        raise CSRFError("The preference token is missing or does not match.")


def _give_cookie(response: Response) -> Response:
    value = g.get("lms_pref_new")
    if value is not None:
        config = current_app.config
        response.set_cookie(COOKIE, value, max_age=_YEAR, path=config.get("SESSION_COOKIE_PATH") or "/",
                            secure=bool(config.get("SESSION_COOKIE_SECURE")), httponly=True, samesite="Lax")
    return response


def init_preference_forms(app: Flask) -> None:
    app.jinja_env.globals["preference_token"] = preference_token
    app.after_request(_give_cookie)
