"""Learning records seen from the site: the sender thread of the web process (no Redis) and
what is waiting for the LRS on an admin page (the same figures are at ``/healthz/xapi`` in
lms.web.ops, for monitoring)."""

from __future__ import annotations

from typing import Any

from flask import render_template
from flask.typing import ResponseReturnValue

from lms.services import statements
from lms.web.auth import admins_only
from lms.web.db import db
from lms.web.page_blueprint import PageBlueprint

__all__ = ["bp", "start"]

bp = PageBlueprint("lms_xapi", __name__)


def start(state: Any) -> None:
    """Bind the LMS's sessionmaker to the LRS and, without Redis, start the sender thread."""
    state.xapi_sender = statements.start_sender(state.sessionmaker, state.settings)


@bp.get("/admin/xapi")
@admins_only
def admin_xapi() -> ResponseReturnValue:
    return render_template("lms/admin_xapi.html", xapi=statements.status(db()))
