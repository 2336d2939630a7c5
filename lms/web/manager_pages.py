"""Pages for managers: the target dashboard of their unit (server-rendered SVG, readable without
JavaScript and by a screen reader), the communes furthest behind, who is overdue, mandates,
and CSV / XLSX exports."""

from __future__ import annotations

import csv
import io
from collections.abc import Callable
from datetime import date, datetime
from functools import wraps
from typing import Any

from flask import Response, abort, flash, redirect, render_template, request, url_for
from flask.typing import ResponseReturnValue
from flask_babel import gettext as _
from flask_login import login_required
from sqlalchemy import select

from lms.services import catalogue, mandates, reports
from lms.services.errors import ServiceError
from lms.store import Unit
from lms.web.auth import current_account
from lms.web.db import db, now, transaction
from lms.web.messages import message
from lms.web.pages import bp

__all__: list[str] = []


def _managers_only(view: Callable[..., Any]) -> Callable[..., Any]:
    @wraps(view)
    def wrapped(*args: Any, **kwargs: Any) -> Any:
        user = current_account()
        if user is None or user.role not in ("manager", "admin"):
            abort(403)
        return view(*args, **kwargs)

    protected: Callable[..., Any] = login_required(wrapped)
    return protected


def _unit_and_year() -> tuple[str, int]:
    user = current_account()
    assert user is not None
    unit = request.args.get("unit") or user.unit_code or "86"
    year_text = request.args.get("year", "")
    year = int(year_text) if year_text.isdigit() and 2000 <= int(year_text) <= 2100 else now().year
    return unit, year


def _report_rows(unit: str, year: int) -> list[dict[str, Any]]:
    user = current_account()
    assert user is not None
    try:
        results = reports.target_report(db(), user, unit, year)
    except ServiceError as exc:
        abort(exc.status)
    return [{"id": r.id, "label": r.label, "numerator": r.numerator, "denominator": r.denominator,
             "percent": r.percent, "target": r.target_percent, "met": r.met,
             "bar": min(100.0, r.percent or 0.0)} for r in results]


@bp.get("/manager")
@_managers_only
def manager_home() -> ResponseReturnValue:
    user = current_account()
    assert user is not None
    unit, year = _unit_and_year()
    session = db()
    unit_row = session.get(Unit, unit)
    if unit_row is None:
        abort(404)
    rows = _report_rows(unit, year)
    lagging = []
    if unit_row.level == "province":
        for commune in session.scalars(select(Unit).where(Unit.parent_code == unit)):
            first = reports.target_report(session, user, commune.code, year)[0]
            if first.denominator:
                lagging.append({"name": commune.name, "percent": first.percent or 0.0, "numerator": first.numerator,
                                "denominator": first.denominator,
                                "url": url_for("lms_pages.manager_home", unit=commune.code, year=year)})
        lagging.sort(key=lambda r: (r["percent"], r["name"]))
    late = [{"name": u.full_name, "course": s.course_title, "due": s.due.strftime("%d/%m/%Y")}
            for u, s in mandates.overdue(session, user, unit, today=now().date())]
    return render_template("lms/manager.html", unit={"code": unit, "name": unit_row.name}, year=year, rows=rows,
                           lagging=lagging[:20], late=late[:200],
                           exports={"csv": url_for("lms_pages.manager_export", unit=unit, year=year, fmt="csv"),
                                    "xlsx": url_for("lms_pages.manager_export", unit=unit, year=year, fmt="xlsx")})


@bp.get("/manager/report.<fmt>")
@_managers_only
def manager_export(fmt: str) -> ResponseReturnValue:
    unit, year = _unit_and_year()
    rows = _report_rows(unit, year)
    header = [_("Chỉ tiêu"), _("Đạt"), _("Tổng số"), _("Tỷ lệ (%)"), _("Mục tiêu (%)"), _("Đã đạt mục tiêu")]
    table = [[r["label"], r["numerator"], r["denominator"], r["percent"] if r["percent"] is not None else "",
              r["target"], _("Có") if r["met"] else _("Chưa")] for r in rows]
    name = f"bao-cao-chi-tieu-{unit}-{year}"
    if fmt == "csv":
        out = io.StringIO()
        writer = csv.writer(out)
        writer.writerow(header)
        writer.writerows([[_csv_safe(c) for c in row] for row in table])
        return Response("\ufeff" + out.getvalue(), mimetype="text/csv",
                        headers={"Content-Disposition": f'attachment; filename="{name}.csv"'})
    if fmt == "xlsx":
        import openpyxl

        book = openpyxl.Workbook()
        sheet = book.active
        sheet.title = str(year)
        sheet.append(header)
        for row in table:
            sheet.append(row)
        buffer = io.BytesIO()
        book.save(buffer)
        return Response(buffer.getvalue(),
                        mimetype="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
                        headers={"Content-Disposition": f'attachment; filename="{name}.xlsx"'})
    abort(404)


def _csv_safe(value: object) -> object:
    """Text that a spreadsheet would run as a formula is quoted as text."""
    if isinstance(value, str) and value[:1] in ("=", "+", "-", "@"):
        return "'" + value
    return value


@bp.route("/manager/mandates", methods=["GET", "POST"])
@_managers_only
def manager_mandates() -> ResponseReturnValue:
    user = current_account()
    assert user is not None
    courses = [(c.id, c.title) for c in catalogue.list_courses(db())]
    error = None
    if request.method == "POST":
        try:
            due = datetime.strptime(request.form.get("due", ""), "%Y-%m-%d").date()
        except ValueError:
            error = _("Hãy nhập hạn hoàn thành theo dạng năm-tháng-ngày.")
        else:
            try:
                with transaction() as session:
                    mandates.create_mandate(session, user, course_id=request.form.get("course", ""),
                                            unit_code=request.form.get("unit", user.unit_code or ""), due=due,
                                            recurring=request.form.get("recurring") == "y", now=now())
            except ServiceError as exc:
                error = message(exc.key)
            else:
                flash(_("Đã giao khóa học bắt buộc."), "success")
                return redirect(url_for("lms_pages.manager_home"))
    return render_template("lms/manager_mandates.html", courses=courses, unit=user.unit_code or "", error=error,
                           default_due=date(now().year, 12, 15).isoformat()), 422 if error else 200
