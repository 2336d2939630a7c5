"""In-person classes for trainers (record a class, tick attendance, paper-test results) and
community teams for managers."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

from flask import abort, flash, redirect, render_template, request, url_for
from flask.typing import ResponseReturnValue
from flask_babel import gettext as _

from lms.services import access, catalogue, classes
from lms.services.errors import ServiceError
from lms.web.auth import authors_only, current_account, managers_only
from lms.web.certificate_pdfs import background
from lms.web.db import db, now, state, transaction
from lms.web.messages import message
from lms.web.page_blueprint import PageBlueprint
from lms.web.uploads import saved_table

__all__ = ["bp"]

bp = PageBlueprint("lms_classes", __name__)


@bp.route("/trainer/classes", methods=["GET", "POST"])
@authors_only
def classes_home() -> ResponseReturnValue:
    user = current_account()
    assert user is not None
    errors: dict[str, str] = {}
    if request.method == "POST":
        try:
            held = datetime.strptime(request.form.get("held_on", ""), "%Y-%m-%d").replace(hour=1, tzinfo=UTC)
        except ValueError:
            errors["held_on"] = _("Hãy nhập ngày theo dạng năm-tháng-ngày.")
        else:
            try:
                with transaction() as session:
                    row = classes.create_class(session, user, title=request.form.get("title", ""), held_on=held,
                                               place=request.form.get("place", ""),
                                               unit_code=request.form.get("unit_code", "").strip(),
                                               course_id=request.form.get("course_id", ""))
            except ServiceError as exc:
                errors = {k: message(v) for k, v in exc.fields.items()} or {"form": message(exc.key)}
            else:
                return redirect(url_for("lms_classes.class_detail", class_id=row.id))
    session = db()
    mine = classes.classes_for(session, user)
    rows = [{"title": c.title, "date": c.held_on.strftime("%d/%m/%Y"), "place": c.place,
             "url": url_for("lms_classes.class_detail", class_id=c.id)} for c in mine]
    return render_template("lms/classes.html", rows=rows, errors=errors, form=request.form,
                           courses=[(c.id, c.title) for c in catalogue.list_courses(session)],
                           unit=user.unit_code or ""), 422 if errors else 200


@bp.route("/trainer/classes/<int:class_id>", methods=["GET", "POST"])
@authors_only
def class_detail(class_id: int) -> ResponseReturnValue:
    user = current_account()
    assert user is not None
    session = db()
    klass = classes.get_class(session, class_id)
    if klass is None:
        abort(404)
    if not access.can_manage_class(session, user, klass):
        abort(403)
    error = None
    problems: list[str] = []
    sheet = request.files.get("sheet")
    if request.method == "POST" and sheet is not None and sheet.filename:
        try:
            with saved_table(sheet) as path, transaction() as tx:
                count = classes.import_attendance(tx, user, class_id, path, now=now(), name=Path(sheet.filename).name,
                                                  settings=state().settings, background=background())
        except ServiceError as exc:
            problems = list(exc.fields.values()) or [message(exc.key)]
        else:
            flash(_("Đã ghi nhận %(n)s người học từ tệp.", n=count), "success")
            return redirect(url_for("lms_classes.class_detail", class_id=class_id))
    elif request.method == "POST":
        result = request.form.get("passed", "")
        passed = {"yes": True, "no": False}.get(result)
        raw_score = request.form.get("score", "").strip().replace(",", ".")
        try:
            score = float(raw_score) if raw_score else None
        except ValueError:
            score = -1.0

        try:
            with transaction() as tx:
                if request.form.get("action") == "confirm":
                    classes.confirm_pass(tx, user, class_id, request.form.get("login", ""), now=now(),
                                         settings=state().settings, background=background())
                else:
                    classes.record_attendance(tx, user, class_id, request.form.get("login", ""), passed=passed,
                                              score=score, now=now(), settings=state().settings,
                                              background=background())
        except ServiceError as exc:
            error = message(next(iter(exc.fields.values()), exc.key))
        else:
            flash(_("Đã ghi nhận người học."), "success")
            return redirect(url_for("lms_classes.class_detail", class_id=class_id))
    attendees = classes.attendees(session, class_id)
    course = classes.class_course(session, klass)
    mark = classes.course_pass_mark(session, course) if course else classes.DEFAULT_PASS_MARK
    rows = []
    for learner, a in attendees:
        waiting = bool(a.passed) and a.certificate_id is None
        rows.append({"name": learner.full_name, "login": learner.login, "passed": a.passed, "score": a.score,
                     "certified": a.certificate_id is not None, "waiting": waiting,
                     "can_confirm": waiting and access.can_confirm_result(session, user, klass, a, learner)})
    return render_template("lms/class_detail.html", klass={"title": klass.title, "date": klass.held_on.strftime(
        "%d/%m/%Y"), "place": klass.place, "pass_mark": mark}, error=error, problems=problems,
        attendees=rows), 422 if error or problems else 200


@bp.route("/manager/teams", methods=["GET", "POST"])
@managers_only
def teams() -> ResponseReturnValue:
    user = current_account()
    assert user is not None
    error = None
    if request.method == "POST":
        try:
            with transaction() as session:
                classes.add_team_member(session, user, request.form.get("commune_code", "").strip(),
                                        request.form.get("login", ""), now=now())
        except ServiceError as exc:
            error = message(next(iter(exc.fields.values()), exc.key))
        else:
            flash(_("Đã thêm thành viên tổ công nghệ số cộng đồng."), "success")
            return redirect(url_for("lms_classes.teams"))
    return render_template("lms/teams.html", error=error), 422 if error else 200
