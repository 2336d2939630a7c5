"""Pages and API bodies made from published content, rendered once and kept per process.

A visitor who is not signed in sees the same home page, course page and lesson page as every
other such visitor with the same language and text size; the lesson API answers the same to
everyone. Those responses are kept (see lms.services.content_cache for when they go stale)
and served without touching the database or Jinja. The one per-visitor part of a page, the
token of its header's switches (lms.web.preference_forms), and Flask-WTF's CSRF token should a
kept page ever carry another form, is rendered as a placeholder and filled in per response, so
each token stays the visitor's own. Signed-in visitors, pages carrying a flashed message and every
other endpoint are rendered as before."""

from __future__ import annotations

import secrets
from typing import Any

from flask import Flask, current_app, g, request, session
from flask_wtf.csrf import generate_csrf

from lms.services.content_cache import ContentStamp, RenderedCache
from lms.web.db import db, write_intent
from lms.web.preference_forms import preference_token

__all__ = ["KEPT_ENDPOINTS", "PageCache", "init_page_cache"]

# Endpoints whose answer depends only on published content and the visitor's display choices.
KEPT_PAGES = frozenset({"lms_pages.home", "lms_courses.courses", "lms_courses.course", "lms_courses.lesson"})
KEPT_API = frozenset({"lms_api.lesson", "lms_api.courses", "lms_api.course"})
KEPT_ENDPOINTS = KEPT_PAGES | KEPT_API
_REMEMBER_COOKIE = "remember_token"


class PageCache:
    def __init__(self, stamp: ContentStamp, store: RenderedCache) -> None:
        self.stamp = stamp
        self.store = store
        # Never guessable by a lesson's author, so no content can smuggle a token in.
        self.marker = f"csrf-{secrets.token_hex(16)}"
        self.preference_marker = f"pref-{secrets.token_hex(16)}"

    def fill(self, body: str) -> str:
        """A kept page's body with this visitor's own tokens in place of the placeholders."""
        if self.preference_marker in body:
            body = body.replace(self.preference_marker, preference_token())
        if self.marker in body:  # only made when the page has such a form: it costs a session cookie
            body = body.replace(self.marker, generate_csrf())
        return body


def init_page_cache(app: Flask, sessions: Any, interval: float) -> PageCache:
    cache = PageCache(ContentStamp(sessions, interval=interval), RenderedCache())
    app.extensions["lms_page_cache"] = cache
    # First of all the request hooks: a kept answer needs none of the others (no rate limit
    # applies to these endpoints, no audit actor, no write), and skipping them is most of what
    # a kept page still cost.
    app.before_request_funcs.setdefault(None, []).insert(0, _serve_kept)
    app.after_request(_keep)
    app.context_processor(_csrf_placeholder)
    return cache


def _cache() -> PageCache:
    return current_app.extensions["lms_page_cache"]  # type: ignore[no-any-return]


def _key() -> tuple[Any, ...] | None:
    endpoint = request.endpoint
    if request.method != "GET" or endpoint not in KEPT_ENDPOINTS or "lang" in request.args:
        return None  # ?lang= is remembered in the session by a later hook: rendered as before
    where = (endpoint, request.script_root, request.full_path)
    if endpoint in KEPT_API:
        return where
    if "_user_id" in session or "_flashes" in session or _REMEMBER_COOKIE in request.cookies:
        return None
    return (*where, session.get("lang"), bool(session.get("large_text")))


def _serve_kept() -> Any:
    method = request.method
    if method not in ("GET", "HEAD", "OPTIONS"):
        # This request may publish content: the next kept page checks the fingerprint first.
        _cache().stamp.invalidate()
        return None
    key = _key()
    if key is None:
        return None
    cache = _cache()
    if current_app.testing:
        cache.stamp.invalidate()  # tests change content behind the app's back, at any moment
    with write_intent(False):  # runs before the hook that declares it: a read
        # The request's session is opened only when the fingerprint is due for a reading: a kept
        # page served from a fresh stamp opens none, and so has none to close.
        stamp = cache.stamp.peek() or cache.stamp.current(db())
    kept = cache.store.get(key, stamp)
    if kept is None:
        g.lms_page_key, g.lms_page_stamp = key, stamp
        return None
    mimetype, body = kept
    if key[0] in KEPT_PAGES:
        body = cache.fill(body)
    return current_app.response_class(body, mimetype=mimetype)


def _csrf_placeholder() -> dict[str, Any]:
    if g.get("lms_page_key") is not None and g.lms_page_key[0] in KEPT_PAGES:
        cache = _cache()
        return {"csrf_token": lambda: cache.marker, "preference_token": lambda: cache.preference_marker}
    return {}


def _keep(response: Any) -> Any:
    key = g.pop("lms_page_key", None)
    if key is None or response.direct_passthrough:
        return response
    stamp = g.pop("lms_page_stamp")
    cache = _cache()
    if response.mimetype not in ("text/html", "application/json"):
        return response
    body = response.get_data(as_text=True)
    if response.status_code == 200:
        cache.store.put(key, stamp, (response.mimetype, body))
    if key[0] in KEPT_PAGES:
        filled = cache.fill(body)
        if filled is not body:
            response.set_data(filled)
    return response
