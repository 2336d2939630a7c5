"""Operational endpoints: health, and the learning-record queue's figures for monitoring (kept
apart from ``/healthz``, which stays one cheap query)."""

from __future__ import annotations

from collections.abc import Callable, Iterable
from typing import Any

from flask import Blueprint, Flask, jsonify, request
from flask.typing import ResponseReturnValue

from lms.services import statements
from lms.web.db import database_answers, db, state

__all__ = ["HealthFirst", "bp"]

bp = Blueprint("lms_ops", __name__)


def _health(ok: bool) -> tuple[dict[str, str], int]:
    return ({"status": "ok", "database": "ok"}, 200) if ok else ({"status": "degraded", "database": "unavailable"}, 503)


@bp.get("/healthz")
def healthz() -> ResponseReturnValue:
    """A load balancer asks this many times a second, and a request's session (opened, begun,
    closed) cost more than the query. On the LMS's own site :class:`HealthFirst` answers it."""
    body, status = _health(database_answers(state().engine))
    return jsonify(body), status


class HealthFirst:
    """WSGI: ``GET /healthz`` answered in front of Flask (``create_app`` installs it), with what
    the view answers: Flask's request context and the site's hooks were most of the check's cost
    (issue 14). A site that mounts the LMS keeps the view, answered before its other hooks."""

    def __init__(self, app: Flask, inner: Callable[..., Iterable[bytes]], path: str = "/healthz") -> None:
        self._app, self._inner, self._path = app, inner, path

    def __call__(self, environ: dict[str, Any], start_response: Callable[..., Any]) -> Iterable[bytes]:
        if environ.get("PATH_INFO") != self._path or environ.get("REQUEST_METHOD") not in ("GET", "HEAD"):
            return self._inner(environ, start_response)
        body, status = _health(database_answers(self._app.extensions["lms"].engine))
        data = self._app.json.dumps(body, separators=(",", ":")).encode() + b"\n"  # as jsonify sends it
        start_response("200 OK" if status == 200 else "503 SERVICE UNAVAILABLE",
                       [("Content-Type", "application/json"), ("Content-Length", str(len(data)))])
        return [data] if environ["REQUEST_METHOD"] == "GET" else []


def answer_health_first(app: Flask) -> None:
    """Answer ``/healthz`` before every other request hook of the app (rate limits, audit actor,
    write intent, language, background senders): the check needs none of them."""
    app.before_request_funcs.setdefault(None, []).insert(0, _health_first)


def _health_first() -> ResponseReturnValue | None:
    return healthz() if request.endpoint == "lms_ops.healthz" else None


@bp.get("/healthz/xapi")
def healthz_xapi() -> ResponseReturnValue:
    return jsonify(statements.status(db()))
