"""Learning records seen from the site: the sender thread of the web process (no Redis), what
is waiting for the LRS on an admin page, and the same figures at ``/healthz/xapi`` for
monitoring (kept apart from ``/healthz``, which stays one cheap query)."""

from __future__ import annotations

from typing import Any

from flask import jsonify, render_template
from flask.typing import ResponseReturnValue

from lms.services import statements
from lms.web.auth import admins_only
from lms.web.db import db
from lms.web.ops import bp as ops_bp
from lms.web.pages import bp

__all__ = ["start"]


def start(state: Any) -> None:
    """Bind the LMS's sessionmaker to the LRS and, without Redis, start the sender thread."""
    state.xapi_sender = statements.start_sender(state.sessionmaker, state.settings)


@ops_bp.get("/healthz/xapi")
def healthz_xapi() -> ResponseReturnValue:
    return jsonify(statements.status(db()))


@bp.get("/admin/xapi")
@admins_only
def admin_xapi() -> ResponseReturnValue:
    return render_template("lms/admin_xapi.html", xapi=statements.status(db()))
