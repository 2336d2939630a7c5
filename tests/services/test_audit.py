from __future__ import annotations

from flask.testing import FlaskClient
from sqlalchemy import select
from sqlalchemy.orm import Session

from lms.services import certificates
from lms.store import Attempt, AuditEvent, Course
from tests import factories
from tests.factories import now
from tests.quizhelpers import correct_response


def _events(session: Session, action: str, object_id: str) -> list[AuditEvent]:
    return list(session.scalars(select(AuditEvent).where(AuditEvent.action == action,
                                                         AuditEvent.object_id == object_id)))


def test_certificates_roles_and_grades_are_audited_with_who_and_where(client: FlaskClient, session: Session) -> None:
    staff = factories.user(session, role="trainer")
    assert _events(session, "user.role", str(staff.id))[0].detail == {"old": None, "new": "trainer"}
    holder = factories.user(session)
    course = session.get(Course, "an-toan-so")
    assert course is not None
    cert = certificates.issue(session, holder, course, now=now(), source="in_person")
    certificates.revoke(session, cert.code, "Cấp nhầm", now=now())
    [issued] = _events(session, "certificate.issue", cert.code)
    [revoked] = _events(session, "certificate.revoke", cert.code)
    assert issued.actor_label == "cli" and revoked.detail["reason"] == "Cấp nhầm"
    raw = factories.token(session, holder)
    session.commit()
    attempt = client.post("/api/v1/quizzes/an-toan-so-bai-01/attempts", headers=factories.bearer(raw)).json
    stored = session.get(Attempt, attempt["attempt_id"])
    assert stored is not None
    snap = stored.layout[0]
    client.put(f"/api/v1/attempts/{stored.id}/answers/{snap['id']}", json={"response": correct_response(snap)},
               headers=factories.bearer(raw))
    client.post(f"/api/v1/attempts/{stored.id}/submission", headers=factories.bearer(raw))
    client.post(f"/api/v1/attempts/{stored.id}/submission", headers=factories.bearer(raw))
    graded = _events(session, "attempt.grade", stored.id)
    assert len(graded) == 1  # graded once, logged once
    assert graded[0].actor_id == holder.id and graded[0].source == "127.0.0.1"
