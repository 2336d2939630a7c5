"""In-person certificates nobody can forge from inside: own unit only, nobody certifies
themselves, a score at or above the pass mark or a second person's confirmation, all audited."""

from __future__ import annotations

import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session

from lms.services import certificates, classes
from lms.services.errors import Forbidden, Invalid
from lms.store import Attendance, AuditEvent, Certificate
from tests import factories
from tests.factories import now

VINH_LONG, PHU_KHUONG, AN_HOI = "86", "28756", "28777"
HANOI, BA_DINH = "01", "00004"
COURSE = "chuyen-doi-so-can-bo"  # the mandated course: its final passes at 70


def _class(session: Session, trainer, unit: str = PHU_KHUONG):  # type: ignore[no-untyped-def]
    return classes.create_class(session, trainer, title="Lớp chuyển đổi số", held_on=now(), place="UBND",
                                unit_code=unit, course_id=COURSE)


def _certs(session: Session, user) -> list[Certificate]:  # type: ignore[no-untyped-def]
    return list(session.scalars(select(Certificate).where(Certificate.user_id == user.id)))


def test_a_trainer_opens_classes_only_inside_their_unit(session: Session) -> None:
    province_trainer = factories.user(session, role="trainer", unit_code=VINH_LONG)
    with pytest.raises(Forbidden):
        _class(session, province_trainer, BA_DINH)  # a Hà Nội commune
    assert _class(session, province_trainer, AN_HOI).unit_code == AN_HOI  # a commune of the province
    commune_trainer = factories.user(session, role="trainer", unit_code=PHU_KHUONG)
    with pytest.raises(Forbidden):
        _class(session, commune_trainer, AN_HOI)  # the next commune is not theirs
    with pytest.raises(Forbidden):
        _class(session, commune_trainer, VINH_LONG)  # nor the province
    assert _class(session, commune_trainer).unit_code == PHU_KHUONG
    with pytest.raises(Forbidden):
        _class(session, factories.user(session, role="trainer", unit_code=None))
    assert _class(session, factories.user(session, role="admin", unit_code=None), BA_DINH).unit_code == BA_DINH


def test_nobody_certifies_themselves(session: Session) -> None:
    trainer = factories.user(session, role="trainer", unit_code=VINH_LONG)
    klass = _class(session, trainer)
    with pytest.raises(Forbidden) as refused:
        classes.record_attendance(session, trainer, klass.id, trainer.login, passed=True, score=100, now=now(),
                                  **factories.PDFS_LATER)
    assert refused.value.key == "class.own_result"
    manager = factories.user(session, role="manager", unit_code=VINH_LONG)
    with pytest.raises(Forbidden):
        classes.record_attendance(session, manager, klass.id, manager.login, passed=None, score=95, now=now(),
                                  **factories.PDFS_LATER)
    assert _certs(session, trainer) == [] and _certs(session, manager) == []


def test_a_manager_certifies_only_learners_of_their_unit(session: Session) -> None:
    manager = factories.user(session, role="manager", unit_code=VINH_LONG)
    klass = _class(session, factories.user(session, role="trainer", unit_code=VINH_LONG))
    hanoi_citizen = factories.user(session, unit_code=BA_DINH)
    with pytest.raises(Forbidden) as refused:
        classes.record_attendance(session, manager, klass.id, hanoi_citizen.login, passed=None, score=90, now=now(),
                                  **factories.PDFS_LATER)
    assert refused.value.key == "class.learner_outside_unit"
    hanoi_manager = factories.user(session, role="manager", unit_code=HANOI)
    with pytest.raises(Forbidden):  # and a Hà Nội manager has nothing to do with a Vĩnh Long class
        classes.record_attendance(session, hanoi_manager, klass.id, hanoi_citizen.login, passed=None, score=90,
                                  now=now(), **factories.PDFS_LATER)
    assert _certs(session, hanoi_citizen) == []


def test_a_certificate_needs_a_score_at_or_above_the_pass_mark(session: Session) -> None:
    trainer = factories.user(session, role="trainer", unit_code=VINH_LONG)
    klass = _class(session, trainer)
    below, at, ticked = (factories.user(session, role="official") for _ in range(3))
    row = classes.record_attendance(session, trainer, klass.id, below.login, passed=True, score=69.5, now=now(),
                                    **factories.PDFS_LATER)
    assert row.passed is False and row.certificate_id is None  # the score decides, not the tick
    row = classes.record_attendance(session, trainer, klass.id, at.login, passed=None, score=70, now=now(),
                                    **factories.PDFS_LATER)
    assert row.passed is True and row.certificate_id is not None
    assert (row.recorded_by_id, row.score) == (trainer.id, 70)
    row = classes.record_attendance(session, trainer, klass.id, ticked.login, passed=True, now=now(),
                                    **factories.PDFS_LATER)
    assert row.passed is True and row.certificate_id is None  # "passed" alone waits for a manager
    assert _certs(session, below) == [] and _certs(session, ticked) == []
    with pytest.raises(Invalid):
        classes.record_attendance(session, trainer, klass.id, below.login, passed=None, score=101, now=now(),
                                  **factories.PDFS_LATER)


def test_a_pass_without_a_score_needs_a_second_person(session: Session) -> None:
    first = factories.user(session, role="manager", unit_code=VINH_LONG)
    second = factories.user(session, role="manager", unit_code=VINH_LONG)
    trainer = factories.user(session, role="trainer", unit_code=VINH_LONG)
    learner = factories.user(session, role="official")
    klass = _class(session, trainer)
    row = classes.record_attendance(session, first, klass.id, learner.login, passed=True, now=now(),
                                    **factories.PDFS_LATER)
    with pytest.raises(Forbidden) as same:
        classes.confirm_pass(session, first, klass.id, learner.login, now=now(), **factories.PDFS_LATER)
    assert same.value.key == "class.second_person"
    with pytest.raises(Forbidden):  # a trainer records; only a manager confirms
        classes.confirm_pass(session, trainer, klass.id, learner.login, now=now(), **factories.PDFS_LATER)
    with pytest.raises(Forbidden):  # a manager of another province cannot either
        classes.confirm_pass(session, factories.user(session, role="manager", unit_code=HANOI), klass.id,
                             learner.login, now=now(), **factories.PDFS_LATER)
    assert _certs(session, learner) == []
    classes.confirm_pass(session, second, klass.id, learner.login, now=now(), **factories.PDFS_LATER)
    session.refresh(row)
    assert row.confirmed_by_id == second.id and row.confirmed_at is not None and row.certificate_id is not None
    cert = _certs(session, learner)[0]
    assert cert.source == "in_person" and cert.issued_by_id == second.id
    assert certificates.certificate_status(cert, now()) == "valid"
    event = session.scalars(select(AuditEvent).where(AuditEvent.action == "attendance.confirm")
                            .order_by(AuditEvent.id.desc())).first()
    assert event is not None and event.detail["recorded_by"] == first.id and event.detail["confirmed_by"] == second.id
    assert event.detail["user_id"] == learner.id and event.at is not None


def test_an_unpassed_result_cannot_be_confirmed(session: Session) -> None:
    manager = factories.user(session, role="manager", unit_code=VINH_LONG)
    trainer = factories.user(session, role="trainer", unit_code=VINH_LONG)
    learner = factories.user(session)
    klass = _class(session, trainer)
    classes.record_attendance(session, trainer, klass.id, learner.login, passed=False, now=now(),
                              **factories.PDFS_LATER)
    with pytest.raises(Invalid):
        classes.confirm_pass(session, manager, klass.id, learner.login, now=now(), **factories.PDFS_LATER)


def test_the_pdf_of_a_class_certificate_is_left_to_schedule(session: Session) -> None:
    trainer = factories.user(session, role="trainer", unit_code=VINH_LONG)
    learner = factories.user(session)
    row = classes.record_attendance(session, trainer, _class(session, trainer).id, learner.login, passed=None,
                                    score=88, now=now(), **factories.PDFS_LATER)
    cert = classes.certificate_to_render(session, row)
    assert cert is not None and cert.pdf_status == "pending"
    assert session.scalar(select(Attendance.certificate_id).where(Attendance.id == row.id)) == cert.id



def test_only_the_operator_issues_without_a_class(session: Session) -> None:
    learner = factories.user(session)
    for role in ("trainer", "manager", "admin"):
        staff = factories.user(session, role=role, unit_code=VINH_LONG)
        with pytest.raises(Forbidden):
            certificates.issue_by_staff(session, staff, learner.login, COURSE, now=now())
    assert _certs(session, learner) == []
    cert = certificates.issue_by_staff(session, None, learner.login, COURSE, now=now())  # `lms certificates issue`
    assert cert.source == "in_person" and cert.issued_by_id is None
    assert session.scalars(select(AuditEvent).where(AuditEvent.action == "certificate.issue",
                                                    AuditEvent.object_id == cert.code)).first() is not None


def test_an_in_person_certificate_has_its_pdf_scheduled_after_the_commit(session: Session) -> None:
    trainer = factories.user(session, role="trainer", unit_code=VINH_LONG)
    learner = factories.user(session, role="official")
    asked: list[int] = []
    row = classes.record_attendance(session, trainer, _class(session, trainer).id, learner.login, passed=None,
                                    score=90, now=now(), settings=factories.PDFS_LATER["settings"],
                                    background=asked.append)
    assert row.certificate_id is not None
    assert asked == []  # not before the certificate is committed
    session.commit()
    assert asked == [row.certificate_id]
