from __future__ import annotations

import io
from datetime import UTC, datetime

import pytest
from flask.testing import FlaskClient
from sqlalchemy.orm import Session
from werkzeug.test import TestResponse

from lms.domain.targets import DEFAULT_PLAN
from lms.services import certificates, classes, reports
from lms.services.errors import Forbidden, Invalid
from lms.store import Attendance, Certificate, Course, TrainingClass
from tests import factories
from tests.conftest import csrf_token
from tests.factories import now


def test_attendance_counts_and_a_passed_paper_test_certifies(session: Session) -> None:
    trainer = factories.user(session, role="trainer", unit_code="86")
    manager = factories.user(session, role="manager", unit_code="86")
    learners = [factories.user(session) for _ in range(3)]
    before = reports.published_figures(session, manager, "86", now().year)
    klass = classes.create_class(session, trainer, title="Lớp VNeID cho người cao tuổi", held_on=now(),
                                 place="Nhà văn hóa khóm 3", unit_code="28756", course_id="dich-vu-cong")
    classes.record_attendance(session, trainer, klass.id, learners[0].login, passed=None, score=85, now=now(),
                              **factories.PDFS_LATER)
    classes.record_attendance(session, trainer, klass.id, learners[1].login, passed=False, now=now(),
                              **factories.PDFS_LATER)
    row = classes.record_attendance(session, trainer, klass.id, learners[2].login, passed=None, now=now(),
                                    **factories.PDFS_LATER)
    again = classes.record_attendance(session, trainer, klass.id, learners[2].login, passed=None, now=now(),
                                      **factories.PDFS_LATER)
    assert again.id == row.id  # ticking twice is one participant-time
    after = reports.published_figures(session, manager, "86", now().year)
    assert after["classes_held"] == before["classes_held"] + 1  # type: ignore[operator]
    assert after["participant_times"] == before["participant_times"] + 3  # type: ignore[operator]
    held = [c for c in certificates.list_for_user(session, learners[0])]
    assert len(held) == 1 and held[0].source == "in_person" and held[0].issued_by_id == trainer.id
    assert certificates.list_for_user(session, learners[1]) == []
    other_trainer = factories.user(session, role="trainer")
    with pytest.raises(Forbidden):
        classes.record_attendance(session, other_trainer, klass.id, learners[1].login, passed=True, now=now(),
                                  **factories.PDFS_LATER)
    with pytest.raises(Invalid):
        classes.create_class(session, trainer, title="", held_on=now(), place="x", unit_code="00000",
                             course_id="dich-vu-cong")
    assert session.query(Certificate).filter_by(user_id=learners[1].id).count() == 0


def test_a_commune_counts_once_its_team_has_enough_certified_members(session: Session) -> None:
    manager = factories.user(session, role="manager", unit_code="86")
    year = now().year
    course = session.get(Course, "dich-vu-cong")
    assert course is not None

    def team_indicator() -> tuple[int, int]:
        r = {r.id: r for r in reports.target_report(session, manager, "86", year)}["communes_with_team"]
        return r.numerator, r.denominator

    before, denominator = team_indicator()
    assert denominator == 124  # the communes of Vĩnh Long
    needed = DEFAULT_PLAN.team_min_certified
    members = [factories.user(session, role="trainer", unit_code="28756") for _ in range(needed)]
    for m in members:
        classes.add_team_member(session, manager, "28756", m.login, now=now())
        classes.add_team_member(session, manager, "28756", m.login, now=now())  # idempotent
    assert team_indicator()[0] == before  # members, but none certified yet
    for m in members[:-1]:
        certificates.issue(session, m, course, now=now(), source="online")
    assert team_indicator()[0] == before  # one short of the plan's minimum
    last = certificates.issue(session, members[-1], course, now=now(), source="online")
    assert team_indicator()[0] == before + 1
    certificates.revoke(session, last.code, "cấp nhầm", now=now())
    assert team_indicator()[0] == before
    figures = reports.published_figures(session, manager, "86", year)
    assert figures["team_members"] >= len(members) and figures["teams"] >= 1
    with pytest.raises(Forbidden):
        classes.add_team_member(session, factories.user(session, role="manager", unit_code="75"), "28756",
                                members[0].login, now=now())


def test_trainer_records_a_class_in_the_browser(client: FlaskClient, session: Session) -> None:
    trainer = factories.user(session, role="trainer", unit_code="86")
    learner = factories.user(session)
    session.commit()
    client.post("/login", data={"csrf_token": csrf_token(client, "/login"), "login": trainer.login,
                                "password": factories.PASSWORD})
    token = csrf_token(client, "/trainer/classes")
    bad = client.post("/trainer/classes", data={"csrf_token": token, "title": "", "held_on": "25/11/2026",
                                                "place": "", "unit_code": "28756", "course_id": "dich-vu-cong"})
    assert bad.status_code == 422 and "năm-tháng-ngày" in bad.get_data(as_text=True)
    r = client.post("/trainer/classes", data={"csrf_token": token, "title": "<b>Lớp</b> an toàn số",
                                              "held_on": datetime.now(UTC).strftime("%Y-%m-%d"),
                                              "place": "Hội trường xã", "unit_code": "28756",
                                              "course_id": "an-toan-so"})
    assert r.status_code == 302
    page = r.headers["Location"]
    html = client.get(page).get_data(as_text=True)
    assert "&lt;b&gt;Lớp&lt;/b&gt;" in html  # a class title is text, never markup
    done = client.post(page, data={"csrf_token": csrf_token(client, page), "login": learner.login, "passed": "yes",
                                   "score": "72,5"}, follow_redirects=True)
    assert "Đã cấp chứng nhận" in done.get_data(as_text=True)
    session.expire_all()
    cert = session.query(Certificate).filter_by(user_id=learner.id, course_id="an-toan-so").one()
    assert cert.pdf_status == "ready"  # made like every other certificate's PDF (inline under test)


def _trainers_class(client: FlaskClient, session: Session) -> tuple[TrainingClass, str]:
    """A trainer's class in a commune of Vĩnh Long, the trainer signed in; with its page's address."""
    trainer = factories.user(session, role="trainer", unit_code="86")
    klass = classes.create_class(session, trainer, title="Lớp dịch vụ công", held_on=now(), place="UBND phường",
                                 unit_code="28756", course_id="dich-vu-cong")
    session.commit()
    client.post("/login", data={"csrf_token": csrf_token(client, "/login"), "login": trainer.login,
                                "password": factories.PASSWORD})
    return klass, f"/trainer/classes/{klass.id}"


def _upload_sheet(client: FlaskClient, url: str, sheet: str) -> TestResponse:
    return client.post(url, data={"csrf_token": csrf_token(client, url),
                                  "sheet": (io.BytesIO(sheet.encode()), "diem-danh.csv")},
                       content_type="multipart/form-data")


def test_attendance_sheet_is_checked_whole_then_recorded(client: FlaskClient, session: Session) -> None:
    learners = [factories.user(session) for _ in range(2)]
    klass, url = _trainers_class(client, session)
    bad = f"login,passed\n{learners[0].login},đạt\nkhong-co@example.vn,\n{learners[1].login},có lẽ\n"
    r = _upload_sheet(client, url, bad)
    html = r.get_data(as_text=True)
    assert r.status_code == 422
    assert "diem-danh.csv:3:login:" in html and "diem-danh.csv:4:passed:" in html
    assert session.query(Attendance).filter_by(class_id=klass.id).count() == 0  # nobody half-recorded
    good = f"login,passed,score\n{learners[0].login},Đạt,90\n{learners[1].login},,\n"
    r = client.post(url, data={"csrf_token": csrf_token(client, url),
                               "sheet": (io.BytesIO(good.encode()), "diem-danh.csv")},
                    content_type="multipart/form-data")
    assert r.status_code == 302
    session.expire_all()
    rows = {a.user_id: a for a in session.query(Attendance).filter_by(class_id=klass.id)}
    assert rows[learners[0].id].passed is True and rows[learners[0].id].certificate_id is not None
    assert rows[learners[1].id].passed is None and rows[learners[1].id].certificate_id is None


def test_a_second_manager_confirms_a_pass_in_the_browser(app, session: Session) -> None:  # type: ignore[no-untyped-def]
    trainer = factories.user(session, role="trainer", unit_code="86")
    manager = factories.user(session, role="manager", unit_code="86")
    learner = factories.user(session, role="official")
    klass = classes.create_class(session, trainer, title="Lớp chuyển đổi số", held_on=now(), place="UBND tỉnh",
                                 unit_code="28756", course_id="chuyen-doi-so-can-bo")
    session.commit()

    def signed_in(who):  # type: ignore[no-untyped-def]
        client = app.test_client()
        client.post("/login", data={"csrf_token": csrf_token(client, "/login"), "login": who.login,
                                    "password": factories.PASSWORD})
        return client

    url = f"/trainer/classes/{klass.id}"
    as_trainer = signed_in(trainer)
    r = as_trainer.post(url, data={"csrf_token": csrf_token(as_trainer, url), "login": learner.login,
                                   "passed": "yes", "score": ""}, follow_redirects=True)
    page = r.get_data(as_text=True)
    assert "Chờ cán bộ quản lý xác nhận" in page and "Xác nhận đạt" not in page  # a trainer cannot confirm
    as_manager = signed_in(manager)
    listing = as_manager.get("/trainer/classes").get_data(as_text=True)
    assert url in listing  # a manager finds the classes of their unit to confirm
    page = as_manager.get(url).get_data(as_text=True)
    assert "Xác nhận đạt và cấp chứng nhận" in page
    done = as_manager.post(url, data={"csrf_token": csrf_token(as_manager, url), "login": learner.login,
                                      "action": "confirm"}, follow_redirects=True)
    assert "Đã cấp chứng nhận" in done.get_data(as_text=True)
    session.expire_all()
    cert = session.query(Certificate).filter_by(user_id=learner.id, course_id="chuyen-doi-so-can-bo").one()
    assert cert.issued_by_id == manager.id and cert.pdf_status == "ready"
    row = session.query(Attendance).filter_by(class_id=klass.id, user_id=learner.id).one()
    assert (row.recorded_by_id, row.confirmed_by_id) == (trainer.id, manager.id)


def test_a_sheet_that_certifies_has_the_certificate_pdf_made(client: FlaskClient, session: Session) -> None:
    """The in-person path goes through certificates.award_in_person like every other: a sheet whose
    score passes issues the certificate and has its PDF made (inline under test), not left pending."""
    learner = factories.user(session)
    _, url = _trainers_class(client, session)
    r = _upload_sheet(client, url, f"login,passed,score\n{learner.login},Đạt,90\n")
    assert r.status_code == 302
    session.expire_all()
    cert = session.query(Certificate).filter_by(user_id=learner.id, course_id="dich-vu-cong").one()
    assert cert.source == "in_person" and cert.pdf_status == "ready"
