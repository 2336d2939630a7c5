"""Operational endpoints: health, and the learning-record queue's figures for monitoring (kept
apart from ``/healthz``, which stays one cheap query)."""

from __future__ import annotations

from flask import Blueprint, jsonify
from flask.typing import ResponseReturnValue
from sqlalchemy import text

from lms.services import statements
from lms.web.db import db

__all__ = ["bp"]

bp = Blueprint("lms_ops", __name__)


@bp.get("/healthz")
def healthz() -> ResponseReturnValue:
    try:
        db().execute(text("SELECT 1"))
        database = "ok"
    except Exception:  # the check reports the failure instead of raising it
        database = "unavailable"
    status = 200 if database == "ok" else 503
    return jsonify(status="ok" if status == 200 else "degraded", database=database), status


@bp.get("/healthz/xapi")
def healthz_xapi() -> ResponseReturnValue:
    return jsonify(statements.status(db()))
