"""Pages for managers: the target dashboard of their unit (server-rendered SVG, readable without
JavaScript and by a screen reader), the communes furthest behind, who is overdue, mandates,
the working-age population, and CSV / XLSX / PDF exports."""

from __future__ import annotations

from datetime import date, datetime
from pathlib import Path
from typing import Any

from flask import Response, abort, flash, redirect, render_template, request, stream_with_context, url_for
from flask.typing import ResponseReturnValue
from flask_babel import format_decimal
from flask_babel import gettext as _

from lms.services import access, catalogue, jobs, mandates, plans, reports
from lms.services import units as unit_service
from lms.services.collation import sorted_by_name
from lms.services.errors import ServiceError
from lms.services.records import JobKind
from lms.services.report_export import FORMATS, certificate_csv, export_targets
from lms.web.auth import current_account, managers_only
from lms.web.charts import bar_chart, line_chart
from lms.web.db import db, now, transaction
from lms.web.job_pages import job_rows, launch
from lms.web.messages import message
from lms.web.page_blueprint import PageBlueprint
from lms.web.sso import sso_policy_view
from lms.web.uploads import saved_table

__all__ = ["bp"]

bp = PageBlueprint("lms_manager", __name__)


def _unit_and_year() -> tuple[str, int]:
    user = current_account()
    assert user is not None
    unit = request.args.get("unit") or user.unit_code or "86"
    year_text = request.args.get("year", "")
    year = int(year_text) if year_text.isdigit() and 2000 <= int(year_text) <= 2100 else now().year
    return unit, year


@bp.get("/manager")
@managers_only
def manager_home() -> ResponseReturnValue:
    user = current_account()
    assert user is not None
    unit, year = _unit_and_year()
    session = db()
    try:
        report = reports.full_report(session, user, unit, year)
    except ServiceError as exc:
        abort(exc.status)
    rows = [_indicator_row(r, report.denominator_source.get(r.id)) for r in report.indicators]
    first = report.plan.indicators[0].id if report.plan.indicators else ""
    lagging: list[dict[str, Any]] = []
    unmeasured = 0  # communes with nobody on their rosters: one sentence, not a row each
    for commune in report.units:
        r = commune["indicators"].get(first)
        if r is not None and r.denominator == 0:
            unmeasured += 1
        elif r is not None and len(lagging) < 30:
            lagging.append({"name": commune["name"], "percent": r.percent, "numerator": r.numerator,
                            "denominator": r.denominator,
                            "url": url_for("lms_manager.manager_home", unit=commune["code"], year=year)})
    page_text = request.args.get("late_page", "1")
    page = int(page_text) if page_text.isdigit() and int(page_text) >= 1 else 1
    late_total, late_rows = mandates.overdue(session, user, unit, today=now().date(), limit=50, offset=(page - 1) * 50)
    late = [{"name": u.full_name, "course": s.course_title, "due": s.due.strftime("%d/%m/%Y")} for u, s in late_rows]
    pages = {"page": page, "total": late_total,
             "prev": url_for("lms_manager.manager_home", unit=unit, year=year, late_page=page - 1)
             if page > 1 else None,
             "next": url_for("lms_manager.manager_home", unit=unit, year=year, late_page=page + 1)
             if page * 50 < late_total else None}
    figures = report.figures
    published = [(_("Lớp tập huấn đã mở"), figures["classes_held"]), (_("Lượt học viên"), figures["participant_times"]),
                 (_("Người học (không trùng)"), figures["unique_learners"]),
                 (_("Tổ công nghệ số cộng đồng"), figures["teams"]), (_("Thành viên tổ"), figures["team_members"])]
    exports = {fmt: url_for("lms_manager.manager_export", unit=unit, year=year, fmt=fmt)
               for fmt in ("csv", "xlsx", "pdf")}
    exports["job"] = url_for("lms_manager.manager_export_job")
    exports["certificates"] = url_for("lms_manager.manager_certificates_csv", unit=unit, year=year)
    titles = {c.id: c.title for c in catalogue.list_courses(session)}
    by_course = sorted((titles.get(course, course), n) for course, n in figures["certificates_by_course"].items())
    return render_template("lms/manager.html", unit={"code": unit, "name": report.unit_name}, year=year, rows=rows,
                           plan=report.plan, lagging=lagging, unmeasured=unmeasured, late=late, late_pages=pages,
                           published=published, by_course=by_course,
                           trend=_trend_chart(report.trend),
                           exports=exports, jobs=job_rows(user), can_regenerate=access.is_admin(user),
                           sso_policy=sso_policy_view(unit))


def _indicator_row(r: Any, source: str | None) -> dict[str, Any]:
    return {"id": r.id, "label": r.label, "numerator": r.numerator, "denominator": r.denominator,
            "percent": None if r.percent is None else format_decimal(r.percent, "#,##0.0"),
            "target": format_decimal(r.target_percent, "#,##0.#"), "met": r.met, "basis": _basis(r.id, source),
            "chart": bar_chart(r.percent, r.target_percent)}


def _basis(indicator: str, source: str | None) -> str:
    """What the denominator counts, said plainly on the page (not only in the PDF)."""
    if indicator == "officials_trained":
        return str(_("Tổng số là cán bộ, công chức có trong danh sách của đơn vị."))
    if indicator == "citizens_online_services":
        if source == "population":
            return str(_("Tổng số là dân số trong độ tuổi lao động do đơn vị nhập."))
        return str(_("Chưa nhập dân số: tổng số là người dùng đã đăng ký trong độ tuổi lao động, "
                     "không phải toàn bộ dân số."))
    if indicator == "communes_with_team":
        return str(_("Tổng số là các xã, phường của đơn vị."))
    return ""


def _trend_chart(trend: list[reports.MonthTrend]) -> dict[str, Any]:
    """Cumulative certificates by month as a line chart with axes and a legend; the numbers are
    also given as a table (one row per month, so it fits a phone) for reading without the picture."""
    chart = line_chart(trend, [("officials_total", str(_("Cán bộ: chứng nhận khóa bắt buộc"))),
                               ("citizens_total", str(_("Người dân: chứng nhận khóa dịch vụ công")))])
    return {"chart": chart, "months": trend}


def _export_labels() -> dict[str, Any]:
    """Column titles and yes / no in the reader's language, for the export file."""
    return {"header": [_("Mã đơn vị"), _("Đơn vị"), _("Chỉ tiêu"), _("Đạt"), _("Tổng số"), _("Tỷ lệ (%)"),
                       _("Mục tiêu (%)"), _("Đã đạt mục tiêu")],
            "yes": _("Có"), "no": _("Chưa"), "sheets": [_("Số liệu"), _("Theo tháng")]}


@bp.get("/manager/report.<fmt>")
@managers_only
def manager_export(fmt: str) -> ResponseReturnValue:
    user = current_account()
    assert user is not None
    unit, year = _unit_and_year()
    if fmt not in FORMATS:
        abort(404)
    try:
        file = export_targets(db(), user, unit, year, fmt, **_export_labels())
    except ServiceError as exc:
        abort(exc.status)
    return Response(file.data, mimetype=file.mimetype,
                    headers={"Content-Disposition": f'attachment; filename="{file.filename}"'})


@bp.get("/manager/certificates.csv")
@managers_only
def manager_certificates_csv() -> ResponseReturnValue:
    """Every certificate of the unit in the year, streamed as it is read."""
    user = current_account()
    assert user is not None
    unit, year = _unit_and_year()
    header = [_("Mã xác minh"), _("Họ và tên"), _("Khóa học"), _("Phiên bản"), _("Mã đơn vị"), _("Hình thức"),
              _("Ngày cấp"), _("Hết hạn"), _("Thu hồi")]
    try:
        chunks = certificate_csv(db(), user, unit, year, header=header)
        first = next(chunks)  # scope errors surface here, before the response starts
    except ServiceError as exc:
        abort(exc.status)

    def body() -> Any:
        yield first
        yield from chunks

    return Response(stream_with_context(body()), mimetype="text/csv",
                    headers={"Content-Disposition": f'attachment; filename="chung-nhan-{unit}-{year}.csv"'})


@bp.post("/manager/exports")
@managers_only
def manager_export_job() -> ResponseReturnValue:
    """The same export as a job: the file is kept and downloaded from the job's page, which
    the manager may leave and come back to."""
    user = current_account()
    assert user is not None
    unit = request.form.get("unit") or user.unit_code or "86"
    year_text = request.form.get("year", "")
    year = int(year_text) if year_text.isdigit() and 2000 <= int(year_text) <= 2100 else now().year
    fmt = request.form.get("format", "")
    if fmt not in FORMATS:
        abort(400)
    if not access.can_see_unit(db(), user, unit):
        abort(403)
    with transaction() as session:
        job_id = jobs.create(session, kind=JobKind.REPORT_EXPORT, owner=user, now=now(), total=1,
                             params={"unit": unit, "year": year, "format": fmt, **_export_labels()}).id
    launch(job_id)
    return redirect(url_for("lms_jobs.job_page", job_id=job_id))


@bp.route("/manager/mandates", methods=["GET", "POST"])
@managers_only
def manager_mandates() -> ResponseReturnValue:
    """Assign a mandated course to a unit picked by name, see what is assigned, change or remove it."""
    user = current_account()
    assert user is not None
    session = db()
    courses = [(c.id, c.title) for c in catalogue.list_courses(session)]
    home = user.unit_code or "86"
    codes = access.unit_scope(session, user, home) if unit_service.find_unit(session, home) is not None else []
    units = sorted_by_name(unit_service.units_in(session, codes), lambda u: u.name)
    units.sort(key=lambda u: u.code != home)  # the manager's own unit first, then its communes by name
    error = None
    if request.method == "POST":
        action = request.form.get("action", "create")
        mandate_id = request.form.get("mandate_id", "")
        try:
            due = datetime.strptime(request.form.get("due", ""), "%Y-%m-%d").date() if action != "remove" else None
        except ValueError:
            error = _("Hãy nhập hạn hoàn thành theo dạng năm-tháng-ngày.")
        else:
            try:
                with transaction() as tx:
                    if action == "remove":
                        mandates.remove_mandate(tx, user, int(mandate_id) if mandate_id.isdigit() else 0)
                        done = _("Đã bỏ việc giao khóa học.")
                    elif action == "change":
                        assert due is not None
                        mandates.change_mandate(tx, user, int(mandate_id) if mandate_id.isdigit() else 0, due=due,
                                                recurring=request.form.get("recurring") == "y")
                        done = _("Đã lưu thay đổi.")
                    else:
                        assert due is not None
                        mandates.create_mandate(tx, user, course_id=request.form.get("course", ""),
                                                unit_code=request.form.get("unit", home), due=due,
                                                recurring=request.form.get("recurring") == "y", now=now())
                        done = _("Đã giao khóa học bắt buộc.")
            except ServiceError as exc:
                error = message(exc.key)
            else:
                flash(done, "success")
                return redirect(url_for("lms_manager.manager_mandates"))
    assigned = [{"id": m.mandate_id, "course": m.course_title, "unit": m.unit_name, "due": m.due.strftime("%d/%m/%Y"),
                 "due_iso": m.due.isoformat(), "recurring": m.recurring}
                for m in mandates.assigned_mandates(session, user, today=now().date())]
    return render_template("lms/manager_mandates.html", courses=courses, units=[(u.code, u.name) for u in units],
                           unit=home, error=error, assigned=assigned,
                           default_due=date(now().year, 12, 15).isoformat()), 422 if error else 200


@bp.route("/manager/population", methods=["GET", "POST"])
@managers_only
def manager_population() -> ResponseReturnValue:
    """The working-age population per unit and year (the census is not the system's to know):
    entered one by one or imported from a CSV / XLSX file."""
    user = current_account()
    assert user is not None
    unit = request.values.get("unit") or user.unit_code or "86"
    session = db()
    if not access.can_see_unit(session, user, unit) or unit_service.find_unit(session, unit) is None:
        abort(403)
    errors: list[str] = []
    if request.method == "POST":
        upload = request.files.get("file")
        try:
            with transaction() as tx:
                if upload is not None and upload.filename:
                    with saved_table(upload) as path:
                        result = plans.import_populations(tx, user, path, now=now(), name=Path(upload.filename).name)
                    flash(_("Đã lưu %(n)s số liệu dân số.", n=result.stored), "success")
                else:
                    year_text, count_text = request.form.get("year", ""), request.form.get("working_age", "")
                    plans.set_population(tx, user, request.form.get("unit_code", unit),
                                         int(year_text) if year_text.isdigit() else 0,
                                         int(count_text) if count_text.isdigit() else -1,
                                         source=request.form.get("source", ""), now=now())
                    flash(_("Đã lưu số liệu dân số."), "success")
        except ServiceError as exc:
            errors = [v if ":" in v else message(v) for v in exc.fields.values()] or [message(exc.key)]
        else:
            return redirect(url_for("lms_manager.manager_population", unit=unit))
    codes = access.unit_scope(session, user, unit)
    names = unit_service.unit_names(session, codes)
    entered = [{"unit": names.get(r.unit_code, r.unit_code), "code": r.unit_code, "year": r.year,
                "working_age": f"{r.working_age:,}".replace(",", "."), "source": r.source}
               for r in plans.recent_populations(session, codes)]
    return render_template("lms/manager_population.html", unit=unit, units=sorted(names.items(), key=lambda x: x[1]),
                           entered=entered, errors=errors, year=now().year), 422 if errors else 200
