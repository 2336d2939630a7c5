from __future__ import annotations

from flask.testing import FlaskClient
from sqlalchemy import select
from sqlalchemy.orm import Session

from lms.services import catalogue, certificates, quizzes
from lms.store import Certificate, Course
from tests import factories
from tests.factories import now
from tests.quizhelpers import correct_response


def test_issued_certificate_is_listed_downloaded_only_by_its_holder_and_verified(
        client: FlaskClient, session: Session) -> None:
    evil = "<img src=x onerror=alert(1)> Đặng Quỳnh Như"
    holder = factories.user(session, full_name=evil)
    other = factories.user(session)
    course = session.get(Course, "an-toan-so")
    assert course is not None
    cert = certificates.issue(session, holder, course, now=now(), source="in_person")
    assert certificates.issue(session, holder, course, now=now(), source="in_person").id == cert.id  # no double count
    certificates.generate_pdf(session, cert, signing=certificates.Signing.development(client.application.extensions[
        "lms"].settings.instance_path), verify_base_url="http://test")
    mine, theirs = factories.token(session, holder), factories.token(session, other)
    session.commit()
    listed = client.get("/api/v1/me/certificates", headers=factories.bearer(mine)).json
    assert [c["code"] for c in listed] == [cert.code] and listed[0]["status"] == "valid"
    assert listed[0]["expires_at"] is None  # citizen courses do not expire
    pdf = client.get(listed[0]["pdf_url"], headers=factories.bearer(mine))
    assert pdf.status_code == 200 and pdf.mimetype == "application/pdf" and pdf.data.startswith(b"%PDF")
    assert client.get(listed[0]["pdf_url"], headers=factories.bearer(theirs)).status_code == 404
    assert client.get("/api/v1/me/certificates", headers=factories.bearer(theirs)).json == []
    v = client.get(f"/api/v1/verify/{cert.code}").json
    assert v["valid"] is True and v["holder"] == evil and "login" not in v and "birth_year" not in v
    other_code = cert.code[:-2] + ("ZZ" if not cert.code.endswith("ZZ") else "YY")
    assert client.get(f"/api/v1/verify/{other_code}").status_code == 404
    page = client.get(f"/verify/{cert.code}").get_data(as_text=True)
    assert "Đặng Quỳnh Như" in page and "<img src=x" not in page and "&lt;img src=x" in page
    certificates.revoke(session, cert.code, "Kiểm tra", now=now())
    session.commit()
    revoked = client.get(f"/api/v1/verify/{cert.code}").json
    assert revoked["valid"] is False and revoked["status"] == "revoked"


def test_official_course_certificate_expires_with_the_training_year(session: Session) -> None:
    official = factories.user(session, role="official")
    course = session.get(Course, "chuyen-doi-so-can-bo")
    assert course is not None
    cert = certificates.issue(session, official, course, now=now(), source="in_person")
    assert cert.expires_at is not None and cert.expires_at.month in (12, 1)


def test_reissue_keeps_the_history(session: Session) -> None:
    holder = factories.user(session, full_name="Lê Văn Tam")
    course = session.get(Course, "an-toan-so")
    assert course is not None
    first = certificates.issue(session, holder, course, now=now(), source="online")
    holder.full_name = "Lê Văn Tám"
    second = certificates.reissue(session, first.code, now=now())
    assert second.replaces_id == first.id and second.holder_name == "Lê Văn Tám"
    assert certificates.certificate_status(first, now()) == "revoked"
    assert len(session.scalars(select(Certificate).where(Certificate.user_id == holder.id)).all()) == 2


def test_passing_the_final_after_every_lesson_earns_the_certificate(client: FlaskClient, session: Session) -> None:
    user = factories.user(session)
    raw = factories.token(session, user)
    session.commit()
    auth = factories.bearer(raw)
    lessons = catalogue.published_lessons(session, "tri-tue-nhan-tao")
    for lesson in lessons:
        client.post(f"/api/v1/lessons/{lesson.id}/completion", headers=auth)
    assert client.get("/api/v1/me/certificates", headers=auth).json == []  # lessons alone are not enough
    attempt = client.post("/api/v1/quizzes/tri-tue-nhan-tao-cuoi-khoa/attempts", headers=auth).json
    stored = quizzes.get_attempt(session, user, attempt["attempt_id"])
    for snap in stored.layout:
        client.put(f"/api/v1/attempts/{stored.id}/answers/{snap['id']}", json={"response": correct_response(snap)},
                   headers=auth)
    result = client.post(f"/api/v1/attempts/{stored.id}/submission", headers=auth).json
    assert result["passed"] is True
    listed = client.get("/api/v1/me/certificates", headers=auth).json
    assert len(listed) == 1 and listed[0]["course_id"] == "tri-tue-nhan-tao" and listed[0]["pdf_url"]


def test_a_pending_pdf_card_updates_itself_and_a_ready_one_offers_the_download(
        client: FlaskClient, session: Session) -> None:
    """Was: "come back in a few minutes", and the page never changed until reloaded by hand."""
    from tests.conftest import csrf_token

    holder = factories.user(session)
    course = session.get(Course, "an-toan-so")
    assert course is not None
    cert = certificates.issue(session, holder, course, now=now(), source="in_person")
    session.commit()
    client.post("/login", data={"csrf_token": csrf_token(client, "/login"), "login": holder.login,
                                "password": factories.PASSWORD})
    pending = client.get("/me/certificates").get_data(as_text=True)
    assert f'id="certificate-{cert.code}" aria-live="polite" data-running="1"' in pending
    assert "refresh.js" in pending and "Tải chứng nhận (PDF)" not in pending and "http-equiv" not in pending
    certificates.generate_pdf(session, cert, signing=certificates.Signing.development(client.application.extensions[
        "lms"].settings.instance_path), verify_base_url="http://test")
    session.commit()
    ready = client.get("/me/certificates").get_data(as_text=True)
    assert "data-running" not in ready and "refresh.js" not in ready
    assert f'href="/me/certificates/{cert.code}.pdf"' in ready
