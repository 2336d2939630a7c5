from __future__ import annotations

import io
from datetime import date, timedelta

import openpyxl
from flask.testing import FlaskClient
from sqlalchemy import select
from sqlalchemy.orm import Session

from lms.services import certificates, mandates
from lms.services.errors import Forbidden
from lms.store import Agency, Course, User
from tests import factories
from tests.conftest import csrf_token
from tests.factories import now


def _login(client: FlaskClient, session: Session, role: str, unit: str) -> None:
    user = factories.user(session, role=role, unit_code=unit)
    session.commit()
    client.post("/login", data={"csrf_token": csrf_token(client, "/login"), "login": user.login,
                                "password": factories.PASSWORD})


def _official(session: Session, unit: str = "28756"):  # type: ignore[no-untyped-def]
    agency = Agency(unit_code=unit, name=f"UBND {unit} {factories.now().timestamp()}")
    session.add(agency)
    session.flush()
    official = factories.user(session, role="official", unit_code=unit)
    official.agency_id = agency.id
    return official


def test_mandate_comes_first_and_turns_overdue_until_certified(session: Session) -> None:
    manager = factories.user(session, role="manager", unit_code="86")
    official = _official(session)
    today = now().date()
    mandates.create_mandate(session, manager, course_id="chuyen-doi-so-can-bo", unit_code="86",
                            due=today - timedelta(days=1), now=now())
    [status] = mandates.mandates_for(session, official, today=today)
    assert status.course_id == "chuyen-doi-so-can-bo" and status.overdue and not status.done
    assert official.id in [u.id for u, _ in mandates.overdue(session, manager, "86", today=today)[1]]
    course = session.get(Course, "chuyen-doi-so-can-bo")
    assert course is not None
    certificates.issue(session, official, course, now=now(), source="in_person")
    [status] = mandates.mandates_for(session, official, today=today)
    assert status.done and not status.overdue
    assert official.id not in [u.id for u, _ in mandates.overdue(session, manager, "86", today=today)[1]]
    next_year = mandates.mandates_for(session, official, today=date(today.year + 1, 1, 2))
    assert next_year and not next_year[0].done  # recurs: last year's certificate stays in the history only
    other = factories.user(session, role="manager", unit_code="75")
    try:
        mandates.create_mandate(session, other, course_id="chuyen-doi-so-can-bo", unit_code="86", due=today,
                                now=now())
        raise AssertionError("a manager assigned outside their unit")
    except Forbidden:
        pass


def test_dashboard_svg_and_exports(client: FlaskClient, session: Session) -> None:
    _login(client, session, "manager", "86")
    html = client.get("/manager").get_data(as_text=True)
    # three indicators and the monthly trend, each an SVG with a title a screen reader reads
    assert html.count('<svg class="chart" role="img"') == 4 and html.count("<title id=") == 4
    assert "Tỉnh Vĩnh Long" in html
    assert html.count("Mục tiêu ") >= 3 and "Tháng" in html  # named target lines, the months' axis
    assert "người dùng đã đăng ký" in html  # the citizens' denominator said honestly, no population entered
    assert "Số chứng nhận cấp mỗi tháng" in html and "Lượt học viên" in html  # the trend also as a table
    csv_body = client.get("/manager/report.csv?unit=86").get_data(as_text=True)
    lines = csv_body.splitlines()
    assert csv_body.startswith("\ufeff") and len(lines) == 1 + 3 * (1 + 124)  # the province, then its 124 communes
    assert lines[1].startswith("86,") and all(line.count(",") >= 7 for line in lines[1:])
    book = openpyxl.load_workbook(io.BytesIO(client.get("/manager/report.xlsx?unit=86").data))
    assert book.active.max_row == len(lines) and len(book.sheetnames) == 4
    figures, months = book.worksheets[1], book.worksheets[2]
    assert [c.value for c in figures[1]][:3] == ["Số liệu", "Chi tiết", "Số lượng"]
    assert figures["A2"].value == "Lớp tập huấn đã mở" and months["A1"].value == "Tháng"
    assert book.worksheets[3]["C2"].value == "month"  # the machine names, on a sheet of their own
    pdf = client.get("/manager/report.pdf?unit=86")
    assert pdf.status_code == 200 and pdf.data.startswith(b"%PDF") and pdf.mimetype == "application/pdf"
    assert client.get("/manager?unit=75").status_code == 403  # Đồng Nai is not theirs
    assert client.get("/manager/report.pdf?unit=75").status_code == 403
    assert client.get("/manager/certificates.csv?unit=75").status_code == 403


def test_certificate_list_streams_only_the_units_certificates(client: FlaskClient, session: Session) -> None:
    course = session.get(Course, "dich-vu-cong")
    assert course is not None
    ours = [certificates.issue(session, factories.user(session, unit_code="28756"), course, now=now(),
                               source="online") for _ in range(3)]
    theirs = certificates.issue(session, factories.user(session, unit_code="25195"), course, now=now(),
                                source="online")
    _login(client, session, "manager", "86")
    r = client.get(f"/manager/certificates.csv?unit=86&year={now().year}")
    assert r.is_streamed and r.mimetype == "text/csv"
    body = r.get_data(as_text=True)
    assert all(c.code in body for c in ours) and theirs.code not in body
    assert body.splitlines()[0].lstrip("\ufeff").startswith("Mã xác minh")
    assert "Học trực tuyến" in body and course.title in body and ",online," not in body and ",dich-vu-cong," not in body


def test_manager_enters_a_population_and_the_denominator_follows(client: FlaskClient, session: Session) -> None:
    _login(client, session, "manager", "86")
    year = now().year
    url = f"/api/v1/reports/targets?unit=28756&year={year}"
    manager = session.scalar(select(User).where(User.role == "manager").order_by(User.id.desc()))
    headers = factories.bearer(factories.token(session, manager))
    session.commit()
    before = {i["id"]: i for i in client.get(url, headers=headers).json["indicators"]}
    assert before["citizens_online_services"]["denominator_source"] == "registered"
    token = csrf_token(client, "/manager/population?unit=86")
    bad = client.post("/manager/population?unit=86", data={"csrf_token": token, "unit_code": "28756",
                                                           "year": "1890", "working_age": "12000"})
    assert bad.status_code == 422 and "2000" in bad.get_data(as_text=True)
    ok = client.post("/manager/population?unit=86", data={"csrf_token": token, "unit_code": "28756",
                                                          "year": str(year), "working_age": "12000"})
    assert ok.status_code == 302
    after = {i["id"]: i for i in client.get(url, headers=headers).json["indicators"]}
    assert after["citizens_online_services"]["denominator"] == 12000
    assert after["citizens_online_services"]["denominator_source"] == "population"
    outside = client.post("/manager/population?unit=86", data={"csrf_token": token, "unit_code": "25195",
                                                               "year": str(year), "working_age": "5"})
    assert outside.status_code == 422  # Đồng Nai is not theirs: refused, nothing stored


def test_learners_have_no_dashboard(client: FlaskClient, session: Session) -> None:
    _login(client, session, "citizen", "28756")
    assert client.get("/manager").status_code == 403


def test_official_sees_the_mandate_on_their_page(client: FlaskClient, session: Session) -> None:
    manager = factories.user(session, role="manager", unit_code="86")
    official = _official(session)
    mandates.create_mandate(session, manager, course_id="chuyen-doi-so-can-bo", unit_code="28756",
                            due=date(now().year, 12, 31), now=now())  # this training year
    raw = factories.token(session, official)
    session.commit()
    client.post("/login", data={"csrf_token": csrf_token(client, "/login"), "login": official.login,
                                "password": factories.PASSWORD})
    page = client.get("/me").get_data(as_text=True)
    assert page.index("Khóa học bắt buộc") < page.index("Tiến độ học") and "Hạn hoàn thành" in page
    api = client.get("/api/v1/me/mandates", headers=factories.bearer(raw)).json
    assert api[0]["course_id"] == "chuyen-doi-so-can-bo" and api[0]["done"] is False


def test_exports_never_hand_a_spreadsheet_a_formula(client: FlaskClient, session: Session) -> None:
    course = session.get(Course, "dich-vu-cong")
    assert course is not None
    evil = factories.user(session, unit_code="28756", full_name='=HYPERLINK("http://x.example","Bấm")')
    certificates.issue(session, evil, course, now=now(), source="online")
    _login(client, session, "manager", "86")
    body = client.get(f"/manager/certificates.csv?unit=86&year={now().year}").get_data(as_text=True)
    assert "'=HYPERLINK" in body and ",=HYPERLINK" not in body
