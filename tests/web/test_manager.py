from __future__ import annotations

import io
from datetime import date, timedelta

import openpyxl
from flask.testing import FlaskClient
from sqlalchemy.orm import Session

from lms.services import certificates, mandates
from lms.services.errors import Forbidden
from lms.store import Agency, Course
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
    assert official.id in [u.id for u, _ in mandates.overdue(session, manager, "86", today=today)]
    course = session.get(Course, "chuyen-doi-so-can-bo")
    assert course is not None
    certificates.issue(session, official, course, now=now(), source="in_person")
    [status] = mandates.mandates_for(session, official, today=today)
    assert status.done and not status.overdue
    assert official.id not in [u.id for u, _ in mandates.overdue(session, manager, "86", today=today)]
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
    assert html.count('<svg role="img"') == 3 and "<title id=" in html and "Tỉnh Vĩnh Long" in html
    csv_body = client.get("/manager/report.csv?unit=86").get_data(as_text=True)
    assert csv_body.startswith("\ufeff") and csv_body.count("\n") == 4
    book = openpyxl.load_workbook(io.BytesIO(client.get("/manager/report.xlsx?unit=86").data))
    assert book.active.max_row == 4
    assert client.get("/manager?unit=75").status_code == 403  # Đồng Nai is not theirs


def test_learners_have_no_dashboard(client: FlaskClient, session: Session) -> None:
    _login(client, session, "citizen", "28756")
    assert client.get("/manager").status_code == 403


def test_official_sees_the_mandate_on_their_page(client: FlaskClient, session: Session) -> None:
    manager = factories.user(session, role="manager", unit_code="86")
    official = _official(session)
    mandates.create_mandate(session, manager, course_id="chuyen-doi-so-can-bo", unit_code="28756",
                            due=now().date() + timedelta(days=30), now=now())
    raw = factories.token(session, official)
    session.commit()
    client.post("/login", data={"csrf_token": csrf_token(client, "/login"), "login": official.login,
                                "password": factories.PASSWORD})
    page = client.get("/me").get_data(as_text=True)
    assert page.index("Khóa học bắt buộc") < page.index("Tiến độ học") and "Hạn hoàn thành" in page
    api = client.get("/api/v1/me/mandates", headers=factories.bearer(raw)).json
    assert api[0]["course_id"] == "chuyen-doi-so-can-bo" and api[0]["done"] is False
