"""How a refused attempt is said: the time the next one opens, in the site's time zone, for the
API (a 429 with Retry-After and ``next_attempt_at``) and for the quiz page."""

from __future__ import annotations

import math
from datetime import datetime

from flask import Response
from flask_babel import gettext as _

from lms.domain.calendar import show_date, show_time
from lms.services.quizzes import AttemptsUsed
from lms.web.db import now, state

__all__ = ["opens_text", "refusal_response"]


def opens_text(opens_at: datetime) -> str:
    tz = state().settings.timezone
    return str(_("Bạn đã làm đủ số lần cho phép của bài kiểm tra cuối khóa. Lần làm tiếp theo mở lúc %(time)s "
             "ngày %(date)s. Trong lúc chờ, hãy ôn lại các bài học.",
             time=show_time(opens_at, tz), date=show_date(opens_at, tz)))


def refusal_response(exc: AttemptsUsed) -> Response:
    from flask import jsonify

    response = jsonify(error={"code": "attempt_limit", "message": opens_text(exc.opens_at),
                              "next_attempt_at": exc.opens_at.isoformat()})
    response.status_code = 429
    response.headers["Retry-After"] = str(max(1, math.ceil((exc.opens_at - now()).total_seconds())))
    return response
