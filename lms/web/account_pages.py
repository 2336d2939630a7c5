"""Account pages: sign in and out, register as a citizen, one's own page (/me), change one's
password, set a first password with a manager's one-time code, and the manager's page that makes
such a code (printed and handed over)."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from flask import flash, redirect, render_template, request, url_for
from flask.typing import ResponseReturnValue
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_login import login_required
from flask_wtf import FlaskForm
from wtforms import PasswordField, StringField
from wtforms.validators import DataRequired

from lms.domain.calendar import show_datetime
from lms.domain.text import normalise_login
from lms.services import accounts, catalogue, first_password, sessions, units
from lms.services.collation import sorted_by_name
from lms.services.errors import ServiceError
from lms.web import sso as sso_pages
from lms.web.auth import (
    committing,
    current_account,
    current_session_id,
    managers_only,
    sign_in_browser,
    sign_out_browser,
    throttle,
)
from lms.web.db import db, now, state, transaction
from lms.web.forms import LoginForm, RegistrationForm
from lms.web.job_pages import job_rows
from lms.web.learning_path import duties
from lms.web.messages import message
from lms.web.page_blueprint import PageBlueprint
from lms.web.redirects import safe_next

__all__ = ["bp"]

bp = PageBlueprint("lms_account", __name__)


class PasswordChangeForm(FlaskForm):  # type: ignore[misc]
    current_password = PasswordField(_l("Mật khẩu hiện tại"),
                                     validators=[DataRequired(message=_l("Vui lòng nhập mật khẩu."))])
    new_password = PasswordField(_l("Mật khẩu mới (8 đến 128 ký tự)"),
                                 validators=[DataRequired(message=_l("Vui lòng nhập mật khẩu."))])


class FirstPasswordForm(FlaskForm):  # type: ignore[misc]
    login = StringField(_l("Số điện thoại hoặc email"),
                        validators=[DataRequired(message=_l("Vui lòng nhập số điện thoại hoặc địa chỉ email."))])
    code = StringField(_l("Mã do cán bộ quản lý cấp"), validators=[DataRequired(message=_l("Vui lòng nhập mã."))])
    new_password = PasswordField(_l("Mật khẩu mới (8 đến 128 ký tự)"),
                                 validators=[DataRequired(message=_l("Vui lòng nhập mật khẩu."))])


class SetupCodeForm(FlaskForm):  # type: ignore[misc]
    login = StringField(_l("Tên đăng nhập của cán bộ"),
                        validators=[DataRequired(message=_l("Vui lòng nhập số điện thoại hoặc địa chỉ email."))])


def _local_time(value: datetime) -> str:
    return show_datetime(value, state().settings.timezone)


@bp.route("/me/password", methods=["GET", "POST"])
@login_required
def change_password() -> ResponseReturnValue:
    user = current_account()
    assert user is not None
    form = PasswordChangeForm()
    status = 200
    if form.validate_on_submit():
        current, new = form.current_password.data or "", form.new_password.data or ""
        try:
            committing(lambda tx: sessions.change_password(tx, throttle(), user, current, new, now=now(),
                                                           keep_session=current_session_id()))
        except ServiceError as exc:
            status = _refused(exc, form.new_password, form.current_password)
        else:
            flash(_("Đã đổi mật khẩu. Mọi phiên đăng nhập khác của tài khoản đã được đăng xuất."), "success")
            return redirect(url_for("lms_account.me"))
    elif request.method == "POST":
        status = 400
    return render_template("lms/password_change.html", form=form), status


def _refused(exc: ServiceError, new_password: Any, other: Any) -> int:
    """Show a refusal beside the field it is about: a weak new password, or the other one."""
    if exc.fields:
        new_password.errors.append(message(next(iter(exc.fields.values()))))
    else:
        other.errors.append(message(exc.key))
    return exc.status


@bp.route("/first-password", methods=["GET", "POST"])
def first_password_page() -> ResponseReturnValue:
    form = FirstPasswordForm()
    status = 200
    if form.validate_on_submit():
        login, code, new = form.login.data or "", form.code.data or "", form.new_password.data or ""
        try:
            committing(lambda tx: first_password.use_code(tx, throttle(), login, code, new, now=now()))
        except ServiceError as exc:
            status = _refused(exc, form.new_password, form.code)
        else:
            flash(_("Đã đặt mật khẩu. Hãy đăng nhập bằng mật khẩu mới."), "success")
            return redirect(url_for("lms_account.login"))
    elif request.method == "POST":
        status = 400
    return render_template("lms/first_password.html", form=form), status


@bp.route("/manager/setup-codes", methods=["GET", "POST"])
@managers_only
def setup_code() -> ResponseReturnValue:
    """A manager makes a one-time code for an official of their unit, to print and hand over."""
    user = current_account()
    assert user is not None
    form = SetupCodeForm()
    status, issued = 200, None
    if form.validate_on_submit():
        try:
            with transaction() as tx:
                code, row = first_password.issue_code(tx, user, form.login.data or "", now=now())
                issued = {"code": code, "login": normalise_login(form.login.data or ""),
                          "expires": _local_time(row.expires_at),
                          "url": url_for("lms_account.first_password_page", _external=True)}
        except ServiceError as exc:
            status = exc.status
            form.login.errors.append(message(exc.key))
    elif request.method == "POST":
        status = 400
    return render_template("lms/setup_code.html", form=form, issued=issued), status


@bp.route("/login", methods=["GET", "POST"])
def login() -> ResponseReturnValue:
    form = LoginForm()
    status = 200
    if form.validate_on_submit():
        login, password = form.login.data or "", form.password.data or ""
        try:
            user = committing(lambda tx: sessions.sign_in(tx, throttle(), login, password, now=now()))
        except ServiceError as exc:
            form.password.errors.append(message(exc.key))
            status = exc.status
        else:
            refusal = sso_pages.password_refusal(user)
            if refusal is None:
                sign_in_browser(user)
                return redirect(safe_next(request.args.get("next")) or url_for("lms_pages.home"))
            form.password.errors.append(refusal)  # the unit requires its officials to use single sign-on
            status = 403
    elif request.method == "POST":
        status = 400
    return render_template("lms/login.html", form=form, sso_button=sso_pages.button()), status


@bp.post("/logout")
def logout() -> ResponseReturnValue:
    sign_out_browser()
    return sso_pages.after_logout() or redirect(url_for("lms_pages.home"))


@bp.route("/register", methods=["GET", "POST"])
def register() -> ResponseReturnValue:
    session_ = db()
    provinces = sorted_by_name(units.provinces(session_), lambda u: u.name)
    province = request.values.get("province", "")
    if province not in {p.code for p in provinces}:
        return render_template("lms/register_province.html", provinces=provinces)
    communes = sorted_by_name(units.communes_of(session_, province), lambda u: u.name)
    form = RegistrationForm()
    form.unit_code.choices = [("", _("— Chọn xã, phường —"))] + [(u.code, u.name) for u in communes]
    status = 200
    if form.validate_on_submit():
        data = {"full_name": form.full_name.data, "login": form.login.data, "password": form.password.data,
                "birth_year": form.birth_year.data, "unit_code": form.unit_code.data}
        try:
            with transaction() as tx:
                user = accounts.register_citizen(tx, data, now=now())
            sign_in_browser(user)
            flash(_("Chào mừng bạn! Tài khoản đã được tạo."), "success")
            return redirect(url_for("lms_courses.courses"))
        except ServiceError as exc:
            for name, key in exc.fields.items():
                getattr(form, name).errors.append(message(key))
            status = exc.status
    elif request.method == "POST":
        status = 422
    province_name = next(p.name for p in provinces if p.code == province)
    return render_template("lms/register.html", form=form, province=province,
                           province_name=province_name), status


@bp.get("/me")
@login_required
def me() -> ResponseReturnValue:
    user = current_account()
    assert user is not None
    session_ = db()
    rows = []
    for c in catalogue.list_courses(session_):
        p = catalogue.course_progress(session_, user, c.id)
        rows.append({"title": c.title, "url": url_for("lms_courses.course", course_id=c.id),
                     "done": p.completed_lessons, "total": p.lesson_count})
    duties_ = duties(user)
    return render_template("lms/me.html", user={"full_name": user.full_name, "login": user.login,
                                                "unit": user.unit.name if user.unit else ""}, rows=rows,
                           duties=duties_, jobs=job_rows(user), identities=sso_pages.identity_rows(user),
                           link_identity=sso_pages.link_more_url())
