"""A learner's own data in the browser (Law 91/2025/QH15): see what is kept, download all of it as
JSON, and close the account. The same as GET /api/v1/me/export and POST /api/v1/me/closure."""

from __future__ import annotations

import json

from flask import Response, flash, redirect, render_template, request, url_for
from flask.typing import ResponseReturnValue
from flask_babel import gettext as _
from flask_login import login_required, logout_user

from lms.services import personal_data, sessions, sso
from lms.services.errors import ServiceError
from lms.web.auth import committing, current_account, current_session_id, throttle
from lms.web.db import db, now, transaction
from lms.web.messages import message
from lms.web.page_blueprint import PageBlueprint

__all__ = ["bp"]

bp = PageBlueprint("lms_privacy", __name__)
_FRESH_MINUTES = int(sessions.FRESH_SIGN_IN.total_seconds() // 60)


def _lists() -> list[tuple[str, str]]:
    """The export's lists of records, each with what the page calls it (in the reader's language)."""
    return [("lesson_completions", _("Số bài học đã hoàn thành")), ("attempts", _("Số lần làm bài kiểm tra")),
            ("certificates", _("Số chứng nhận đã nhận"))]


@bp.route("/me/data", methods=["GET", "POST"])
@login_required
def my_data() -> ResponseReturnValue:
    user = current_account()
    assert user is not None
    error = None
    status = 422
    # An account with no password (signed in through the national identity only) confirms with a
    # sign-in of the last few minutes instead (sessions.FRESH_SIGN_IN)
    has_password = sso.has_usable_password(user)
    if request.method == "POST":  # closing the account
        if request.form.get("confirm") != "y":
            error = _("Hãy đánh dấu ô xác nhận nếu bạn chắc chắn muốn đóng tài khoản.")
        elif not has_password:
            if not sessions.signed_in_recently(db(), current_session_id(), now=now()):
                error = _("Lần đăng nhập này đã quá %(minutes)s phút. Hãy đăng xuất, đăng nhập lại rồi đóng "
                          "tài khoản ngay sau đó.", minutes=_FRESH_MINUTES)
        else:
            password = request.form.get("password", "")
            try:  # throttled and counted with sign-in: the same secret is being guessed
                committing(lambda tx: sessions.check_password(tx, throttle(), user, password, now=now()))
            except ServiceError as exc:
                error = message(exc.key) if exc.status == 429 else _("Mật khẩu chưa đúng.")
                status = 429 if exc.status == 429 else 422
        if error is None:  # confirmed, and the password right (or the sign-in recent)
            with transaction() as session:
                personal_data.close_account(session, user, now=now())
                sessions.end_all(session, user, now=now())
            logout_user()
            flash(_("Tài khoản đã được đóng. Các chứng nhận đã cấp vẫn xác minh được."), "success")
            return redirect(url_for("lms_pages.home"))
    data = personal_data.export(db(), user)
    counts = [(label, len(data.get(key) or [])) for key, label in _lists()]
    return render_template("lms/my_data.html", counts=counts, error=error, has_password=has_password,
                           fresh_minutes=_FRESH_MINUTES), status if error else 200


@bp.get("/me/data.json")
@login_required
def my_data_file() -> ResponseReturnValue:
    user = current_account()
    assert user is not None
    body = json.dumps(personal_data.export(db(), user), ensure_ascii=False, indent=2)
    return Response(body, mimetype="application/json",
                    headers={"Content-Disposition": 'attachment; filename="du-lieu-cua-toi.json"'})
