"""Operational endpoints: health, and the learning-record queue's figures for monitoring (kept
apart from ``/healthz``, which stays one cheap query)."""

from __future__ import annotations

from flask import Blueprint, Flask, jsonify, request
from flask.typing import ResponseReturnValue

from lms.services import statements
from lms.web.db import db, state

__all__ = ["bp"]

bp = Blueprint("lms_ops", __name__)


@bp.get("/healthz")
def healthz() -> ResponseReturnValue:
    """One round trip on a pooled connection, outside the ORM: a load balancer asks this many
    times a second, and a request's session (opened, begun, closed) cost more than the query."""
    try:
        raw = state().engine.raw_connection()
        try:
            cursor = raw.cursor()
            cursor.execute("SELECT 1")
            cursor.fetchall()
            cursor.close()
        finally:
            raw.close()  # back to the pool, rolled back
        database = "ok"
    except Exception:  # the check reports the failure instead of raising it
        database = "unavailable"
    status = 200 if database == "ok" else 503
    return jsonify(status="ok" if status == 200 else "degraded", database=database), status


def answer_health_first(app: Flask) -> None:
    """Answer ``/healthz`` before every other request hook of the app (rate limits, audit actor,
    write intent, language, background senders): the check needs none of them."""
    app.before_request_funcs.setdefault(None, []).insert(0, _health_first)


def _health_first() -> ResponseReturnValue | None:
    return healthz() if request.endpoint == "lms_ops.healthz" else None


@bp.get("/healthz/xapi")
def healthz_xapi() -> ResponseReturnValue:
    return jsonify(statements.status(db()))
