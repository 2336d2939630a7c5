"""The target report as a file (CSV, XLSX or PDF): one function, used by the direct download and by
the background export job, so both hand out the same file."""

from __future__ import annotations

import csv
import io
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from lms.certificates.report import render_report_pdf
from lms.domain.calendar import VN, show_date, year_bounds
from lms.services import reports
from lms.services.access import unit_scope
from lms.services.errors import NotFound
from lms.store import Certificate, Course, Role, Unit, User

__all__ = ["FORMATS", "ExportFile", "certificate_csv", "export_targets", "report_view"]

FORMATS = {"csv": "text/csv", "xlsx": "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
           "pdf": "application/pdf"}


# What a person reads in the files: Vietnamese names for the figures, learner groups, the months'
# columns and certificate sources (API.md: exported spreadsheets have Vietnamese headers). The
# machine names stay available on the XLSX's last sheet, for scripts.
FIGURE_NAMES = {"classes_held": "Lớp tập huấn đã mở", "participant_times": "Lượt học viên",
                "unique_learners": "Người học (không trùng)", "teams": "Tổ công nghệ số cộng đồng",
                "team_members": "Thành viên tổ", "certificates_by_course": "Chứng nhận theo khóa học",
                "certificates_by_unit": "Chứng nhận theo đơn vị", "certificates_by_month": "Chứng nhận theo tháng",
                "certificates_by_group": "Chứng nhận theo nhóm người học"}
GROUP_NAMES: dict[str, str] = {Role.CITIZEN: "Người dân", Role.OFFICIAL: "Cán bộ, công chức",
                               Role.TRAINER: "Giảng viên, tổ công nghệ số", Role.MANAGER: "Cán bộ quản lý",
                               Role.ADMIN: "Quản trị"}
MONTH_COLUMNS = (("month", "Tháng"), ("officials", "Cán bộ được cấp trong tháng"),
                 ("citizens", "Người dân được cấp trong tháng"), ("officials_total", "Cán bộ, cộng dồn"),
                 ("citizens_total", "Người dân, cộng dồn"))
SOURCE_NAMES = {"online": "Học trực tuyến", "in_person": "Lớp tập huấn trực tiếp", "class": "Lớp tập huấn trực tiếp",
                "operator": "Cấp bởi quản trị hệ thống"}


def _detail(session: Session, key: str, sub: str) -> str:
    """A figure's breakdown value as a person reads it: a course's title, a unit's name, a group."""
    if key == "certificates_by_course":
        course = session.get(Course, sub)
        return course.title if course is not None else sub
    if key == "certificates_by_unit":
        unit = session.get(Unit, sub)
        return unit.name if unit is not None else sub
    if key == "certificates_by_group":
        return GROUP_NAMES.get(sub, sub)
    if key == "certificates_by_month":
        return f"Tháng {int(sub)}" if sub.isdigit() else sub
    return sub


@dataclass(frozen=True)
class ExportFile:
    filename: str
    mimetype: str
    data: bytes


def export_targets(session: Session, viewer: User, unit_code: str, year: int, fmt: str, *,
                   header: Sequence[str], yes: str, no: str, sheets: Sequence[str] = ()) -> ExportFile:
    """The report of ``unit_code`` for ``year``: the unit's indicators, then each commune's
    (lagging first); XLSX adds the published figures and the months. ``header``, ``yes``, ``no``
    and ``sheets`` are the titles in the reader's language (the caller translates)."""
    if fmt not in FORMATS:
        raise NotFound("export.format")
    report = reports.full_report(session, viewer, unit_code, year)
    name = f"bao-cao-chi-tieu-{unit_code}-{year}.{fmt}"
    if fmt == "pdf":
        return ExportFile(name, FORMATS[fmt], render_report_pdf(report_view(report, session)))
    places = [(report.unit_code, report.unit_name, report.indicators)]
    places += [(u["code"], u["name"], list(u["indicators"].values())) for u in report.units]
    table: list[list[object]] = [[code, place, r.label, r.numerator, r.denominator,
                                  r.percent if r.percent is not None else "", r.target_percent, yes if r.met else no]
                                 for code, place, results in places for r in results]
    if fmt == "csv":
        out = io.StringIO()
        writer = csv.writer(out)
        writer.writerow(list(header))
        writer.writerows([[_csv_safe(c) for c in row] for row in table])
        return ExportFile(name, FORMATS[fmt], ("\ufeff" + out.getvalue()).encode("utf-8"))
    import openpyxl  # heavy, and only the XLSX format needs it

    book = openpyxl.Workbook()
    sheet = book.active
    assert sheet is not None
    sheet.title = str(year)
    sheet.append(list(header))
    for row in table:
        sheet.append([_csv_safe(c) for c in row])
    titles = list(sheets) or ["Số liệu", "Theo tháng"]
    figures = book.create_sheet(titles[0])
    figures.append(["Số liệu", "Chi tiết", "Số lượng", "Mã số liệu (cho máy)", "Mã chi tiết (cho máy)"])
    for key, value in report.figures.items():
        if isinstance(value, dict):
            for sub, count in value.items():
                figures.append([FIGURE_NAMES.get(key, key), _csv_safe(_detail(session, key, str(sub))), count, key,
                                str(sub)])
        else:
            figures.append([FIGURE_NAMES.get(key, key), "", value, key, ""])
    months = book.create_sheet(titles[1])
    months.append([title for _, title in MONTH_COLUMNS])
    for t in report.trend:
        month: Mapping[str, object] = t
        months.append([month[key] for key, _ in MONTH_COLUMNS])
    keys = book.create_sheet("Mã cột (cho máy)")
    keys.append(["Trang tính", "Cột", "Mã"])
    for key, title in MONTH_COLUMNS:
        keys.append([titles[1], title, key])
    buffer = io.BytesIO()
    book.save(buffer)
    return ExportFile(name, FORMATS[fmt], buffer.getvalue())


def report_view(report: reports.Report, session: Session | None = None) -> dict[str, Any]:
    """Ready-made values for the PDF report's template."""
    def pct(value: float | None) -> str:
        return "—" if value is None else f"{value:.1f}%".replace(".", ",")

    notes = {"population": "Tổng số: dân số trong độ tuổi lao động do đơn vị nhập",
             "registered": "Chưa nhập dân số: tổng số là người dân đã đăng ký trong độ tuổi lao động"}
    first = report.plan.indicators[0].id if report.plan.indicators else ""
    f = report.figures
    local = datetime.now(UTC).astimezone(VN)
    return {
        "title": f"Báo cáo phổ cập kỹ năng số {report.unit_name} năm {report.year}",
        "description": f"Kết quả so với chỉ tiêu của {report.plan.title}",
        "issuer": f"Đơn vị báo cáo: {report.unit_name}", "unit_name": report.unit_name, "unit_code": report.unit_code,
        "year": report.year, "plan": report.plan,
        "place_date": f"ngày {local.day:02d} tháng {local.month:02d} năm {local.year}",
        "generated": local.strftime("%d/%m/%Y %H:%M"),
        "indicators": [{"label": r.label, "numerator": r.numerator, "denominator": r.denominator,
                        "percent_text": pct(r.percent), "target_text": pct(r.target_percent), "met": r.met,
                        "bar": min(100.0, r.percent or 0.0), "target_bar": min(99.5, r.target_percent),
                        "note": notes.get(report.denominator_source.get(r.id, ""), "")} for r in report.indicators],
        "figures": [("Lớp tập huấn đã mở", f["classes_held"]), ("Lượt học viên", f["participant_times"]),
                    ("Người học (không trùng)", f["unique_learners"]), ("Tổ công nghệ số cộng đồng", f["teams"]),
                    ("Thành viên tổ", f["team_members"]),
                    *[(f"Chứng nhận khóa «{_course_title(session, course)}»", n)
                      for course, n in sorted(f["certificates_by_course"].items())],
                    *[(f"Chứng nhận của nhóm {GROUP_NAMES.get(group, group).lower()}", n)
                      for group, n in sorted(f["certificates_by_group"].items())]],
        "trend": report.trend,
        "unit_headers": [f"{r.label[:40]}…" if len(r.label) > 40 else r.label for r in report.indicators],
        "units": [{"name": u["name"], "cells": [
            f"{u['indicators'][r.id].numerator}/{u['indicators'][r.id].denominator} "
            f"({pct(u['indicators'][r.id].percent)})" if r.id in u["indicators"] else "—"
            for r in report.indicators]} for u in report.units],
        "first": first,
    }


def _course_title(session: Session | None, course_id: str) -> str:
    return _detail(session, "certificates_by_course", course_id) if session is not None else course_id


def _csv_safe(value: object) -> object:
    """Text that a spreadsheet would run as a formula is quoted as text."""
    if isinstance(value, str) and value[:1] in ("=", "+", "-", "@"):
        return "'" + value
    return value


def certificate_csv(session: Session, viewer: User, unit_code: str, year: int, *,
                    header: Sequence[str]) -> Iterator[bytes]:
    """Every certificate issued in the unit (and its communes) in a year, as CSV chunks: rows
    are read from the database in batches and written out as they come, so a province's
    hundreds of thousands of rows never sit in memory at once."""
    units = unit_scope(session, viewer, unit_code)
    start, end = year_bounds(year)
    query = (select(Certificate.code, Certificate.holder_name, Certificate.course_id, Certificate.course_version,
                    Certificate.unit_code, Certificate.source, Certificate.issued_at, Certificate.expires_at,
                    Certificate.revoked_at)
             .where(Certificate.unit_code.in_(units), Certificate.issued_at >= start, Certificate.issued_at < end)
             .order_by(Certificate.id).execution_options(yield_per=2000))

    titles = dict(session.execute(select(Course.id, Course.title)).tuples().all())
    out = io.StringIO()
    writer = csv.writer(out)
    writer.writerow(list(header))
    yield ("\ufeff" + out.getvalue()).encode("utf-8")
    for batch in session.execute(query).partitions():
        out.seek(0)
        out.truncate()
        for code, holder, course, version, unit, source, issued, expires, revoked in batch:
            writer.writerow([code, _csv_safe(holder), _csv_safe(titles.get(course, course)), version, unit,
                             SOURCE_NAMES.get(source, source), _day(issued), _day(expires), _day(revoked)])
        yield out.getvalue().encode("utf-8")


def _day(moment: datetime | None) -> str:
    return show_date(moment) if moment is not None else ""
