"""In-person classes ("lớp tập huấn"), their attendance and paper-test results, and community
digital-technology teams. Attendance counts as participant-times (kept by lms.services.figures).

A class certificate is evidence: it needs a recorded paper-test score at or above the course's
pass mark (its final's), or, for a pass written down without such a score, a second confirmation
by a manager of the unit who is not the person who recorded it. Who may act where is
lms.services.access (own unit only; nobody records or confirms their own result); every
recording and confirmation is in the audit log with who and when."""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime
from pathlib import Path

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from lms.config import Settings
from lms.content.roster import read_table
from lms.domain.text import nfc, normalise_login
from lms.services import access, audit, certificates
from lms.services.access import can_see_unit
from lms.services.errors import Forbidden, Invalid, NotFound
from lms.store import (
    Attendance,
    Certificate,
    Course,
    PdfStatus,
    Quiz,
    Role,
    TeamMember,
    TrainingClass,
    Unit,
    UnitLevel,
    User,
)

__all__ = [
    "DEFAULT_PASS_MARK",
    "add_team_member",
    "attendees",
    "certificate_to_render",
    "class_course",
    "classes_for",
    "confirm_pass",
    "course_pass_mark",
    "create_class",
    "get_class",
    "import_attendance",
    "record_attendance",
]

DEFAULT_PASS_MARK = 70.0  # a course without a final: the finals' mark
# where a certificate's PDF is made after the commit, without a queue (lms.services.certificates.schedule_pdf)
Background = Callable[[int], object] | None


def create_class(session: Session, trainer: User, *, title: str, held_on: datetime, place: str, unit_code: str,
                 course_id: str) -> TrainingClass:
    if not access.can_author(trainer):
        raise Forbidden("auth.forbidden")
    errors = {}
    if not title.strip() or len(title) > 300:
        errors["title"] = "class.title"
    if not place.strip() or len(place) > 300:
        errors["place"] = "class.place"
    if session.get(Unit, unit_code) is None:
        errors["unit_code"] = "unit_code.unknown"
    if session.get(Course, course_id) is None:
        errors["course_id"] = "course.not_found"
    if errors:
        raise Invalid("class.invalid", errors)
    if not access.in_scope(session, trainer, unit_code):
        raise Forbidden("class.outside_unit")
    row = TrainingClass(title=nfc(title).strip(), held_on=held_on, place=nfc(place).strip(), unit_code=unit_code,
                        course_id=course_id, trainer_id=trainer.id)
    session.add(row)
    session.flush()
    return row


def course_pass_mark(session: Session, course: Course) -> float:
    """The mark a paper test must reach: the course's final's pass mark."""
    final = session.get(Quiz, course.final_quiz_id) if course.final_quiz_id else None
    return float(final.pass_mark) if final is not None else DEFAULT_PASS_MARK


def _class_and_learner(session: Session, actor: User, class_id: int, login: str) -> tuple[TrainingClass, User]:
    klass = session.get(TrainingClass, class_id)
    if klass is None:
        raise NotFound("class.not_found")
    if not access.can_manage_class(session, actor, klass):
        raise Forbidden("auth.forbidden")
    learner = session.scalar(select(User).where(User.login == normalise_login(login)))
    if learner is None:
        raise NotFound("user.not_found")
    if learner.id == actor.id:
        raise Forbidden("class.own_result")
    if not access.can_record_result(session, actor, klass, learner):
        raise Forbidden("class.learner_outside_unit")
    return klass, learner


def record_attendance(session: Session, trainer: User, class_id: int, login: str, *, passed: bool | None,
                      now: datetime, settings: Settings, background: Background = None,
                      score: float | None = None) -> Attendance:
    """Tick a learner present (again: updates the result) and write down the paper test. A score
    at or above the course's pass mark issues the certificate and has its PDF made
    (:func:`lms.services.certificates.award_in_person`: ``settings`` and ``background`` say how);
    "passed" without such a score waits for a manager's confirmation (:func:`confirm_pass`)."""
    klass, learner = _class_and_learner(session, trainer, class_id, login)
    if score is not None and not 0 <= score <= 100:
        raise Invalid("attendance.invalid", {"score": "attendance.score"})
    course = session.get(Course, klass.course_id)
    assert course is not None
    mark = course_pass_mark(session, course)
    row = session.scalar(select(Attendance).where(Attendance.class_id == class_id, Attendance.user_id == learner.id))
    if row is None:
        row = Attendance(class_id=class_id, user_id=learner.id)
        try:
            with session.begin_nested():
                session.add(row)
        except IntegrityError:
            row = session.scalars(select(Attendance).where(Attendance.class_id == class_id,
                                                           Attendance.user_id == learner.id)).one()
    if row.certificate_id is None:  # a certified result is evidence already: it is not rewritten
        row.score = score
        row.passed = (score >= mark) if score is not None else passed
        row.recorded_by_id, row.recorded_at = trainer.id, now
        row.confirmed_by_id = row.confirmed_at = None
        audit.record(session, "attendance.record", "class", str(class_id), now=now, user_id=learner.id,
                     score=score, passed=row.passed, pass_mark=mark, recorded_by=trainer.id)
        if score is not None and score >= mark:
            _certify(session, row, learner, course, issuer=trainer, now=now, settings=settings, background=background)
    session.flush()
    return row


def confirm_pass(session: Session, manager: User, class_id: int, login: str, *, now: datetime, settings: Settings,
                 background: Background = None) -> Attendance:
    """A manager's second confirmation of a pass recorded without a qualifying score: issues the
    certificate, and the audit log keeps who recorded, who confirmed and when."""
    klass, learner = _class_and_learner(session, manager, class_id, login)
    row = session.scalar(select(Attendance).where(Attendance.class_id == class_id, Attendance.user_id == learner.id))
    if row is None or not row.passed:
        raise Invalid("attendance.invalid", {"login": "attendance.not_passed"})
    if row.certificate_id is not None:
        return row
    if not access.can_confirm_result(session, manager, klass, row, learner):
        raise Forbidden("class.second_person")
    course = session.get(Course, klass.course_id)
    assert course is not None
    row.confirmed_by_id, row.confirmed_at = manager.id, now
    audit.record(session, "attendance.confirm", "class", str(class_id), now=now, user_id=learner.id,
                 recorded_by=row.recorded_by_id, recorded_at=row.recorded_at.isoformat() if row.recorded_at else None,
                 confirmed_by=manager.id, score=row.score)
    _certify(session, row, learner, course, issuer=manager, now=now, settings=settings, background=background)
    session.flush()
    return row


def _certify(session: Session, row: Attendance, learner: User, course: Course, *, issuer: User,
             now: datetime, settings: Settings, background: Background) -> None:
    cert = certificates.award_in_person(session, learner, course, issued_by=issuer, now=now, settings=settings,
                                        background=background)
    row.certificate_id = cert.id


def certificate_to_render(session: Session, row: Attendance) -> Certificate | None:
    """The row's certificate while its PDF is still to be made (the use case that issued it has
    scheduled it already: lms.services.certificates.award_in_person)."""
    cert = session.get(Certificate, row.certificate_id) if row.certificate_id is not None else None
    return cert if cert is not None and cert.pdf_status != PdfStatus.READY else None


def classes_for(session: Session, user: User, *, limit: int = 100) -> list[TrainingClass]:
    """The classes a person works on: a trainer's own; a manager's unit's (to confirm results)."""
    query = select(TrainingClass).order_by(TrainingClass.held_on.desc(), TrainingClass.id.desc()).limit(limit)
    if user.role == Role.TRAINER:
        return list(session.scalars(query.where(TrainingClass.trainer_id == user.id)))
    scope = access.scope_units(session, user)
    if scope is None:
        return list(session.scalars(query))
    return list(session.scalars(query.where(TrainingClass.unit_code.in_(scope)))) if scope else []


def add_team_member(session: Session, manager: User, commune_code: str, login: str, *, now: datetime) -> TeamMember:
    unit = session.get(Unit, commune_code)
    if unit is None or unit.level != UnitLevel.COMMUNE:
        raise Invalid("team.invalid", {"commune_code": "unit_code.unknown"})
    if not can_see_unit(session, manager, commune_code):
        raise Forbidden("auth.forbidden")
    member = session.scalar(select(User).where(User.login == normalise_login(login)))
    if member is None:
        raise NotFound("user.not_found")
    row = session.scalar(select(TeamMember).where(TeamMember.commune_code == commune_code,
                                                  TeamMember.user_id == member.id))
    if row is None:
        row = TeamMember(commune_code=commune_code, user_id=member.id, joined_at=now)
        session.add(row)
    row.active = True
    session.flush()
    return row


ATTENDANCE_COLUMNS = ("login", "passed", "score")
_PASSED = {"": None, "đạt": True, "dat": True, "có": True, "co": True, "yes": True, "true": True, "1": True,
           "x": True, "không đạt": False, "khong dat": False, "chưa đạt": False, "không": False, "no": False,
           "false": False, "0": False}


def import_attendance(session: Session, trainer: User, class_id: int, path: Path, *, now: datetime,
                      settings: Settings, background: Background = None, name: str | None = None) -> int:
    """Attendance from a CSV or XLSX sheet (``login`` and, when there was a paper test, ``passed``:
    đạt / không đạt, leave empty when there was none). Every row is checked first and reported as
    ``FILE:ROW:COLUMN: message``; a sheet with any error records nobody. Returns the rows recorded."""
    klass = session.get(TrainingClass, class_id)
    if klass is None:
        raise NotFound("class.not_found")
    if not access.can_manage_class(session, trainer, klass):
        raise Forbidden("auth.forbidden")
    label = name or str(path)
    rows, problems = read_table(path, ATTENDANCE_COLUMNS, ATTENDANCE_COLUMNS[:1])
    problems = [p.replace(str(path), label, 1) for p in problems]
    parsed: list[tuple[str, bool | None, float | None]] = []
    seen: dict[str, int] = {}
    for r in rows:
        login = normalise_login(r.values.get("login", ""))
        result = nfc(r.values.get("passed", "")).strip().lower()
        learner = session.scalar(select(User).where(User.login == login)) if login else None
        if not login:
            problems.append(f"{label}:{r.row}:login: login is empty")
        elif learner is None:
            problems.append(f"{label}:{r.row}:login: no account has the login '{r.values['login'][:80]}'")
        elif learner.id == trainer.id:
            problems.append(f"{label}:{r.row}:login: nobody records their own result")
        elif not access.can_record_result(session, trainer, klass, learner):
            problems.append(f"{label}:{r.row}:login: '{login}' is registered outside your unit")
        elif login in seen:
            problems.append(f"{label}:{r.row}:login: '{login}' is already on row {seen[login]}")
        if result not in _PASSED:
            problems.append(f"{label}:{r.row}:passed: '{result[:40]}' is not 'đạt', 'không đạt' or empty")
        raw_score = r.values.get("score", "").strip().replace(",", ".")
        score: float | None = None
        if raw_score:
            try:
                score = float(raw_score)
            except ValueError:
                score = -1.0
            if not 0 <= score <= 100:
                problems.append(f"{label}:{r.row}:score: '{raw_score[:20]}' is not a percentage from 0 to 100")
        seen.setdefault(login, r.row)
        parsed.append((login, _PASSED.get(result), score))
    if problems:
        raise Invalid("attendance.invalid", {str(i): p for i, p in enumerate(problems)})
    for login, passed, score in parsed:
        record_attendance(session, trainer, class_id, login, passed=passed, score=score, now=now, settings=settings,
                          background=background)
    return len(parsed)


def get_class(session: Session, class_id: int) -> TrainingClass | None:
    return session.get(TrainingClass, class_id)


def attendees(session: Session, class_id: int) -> list[tuple[User, Attendance]]:
    """Each learner recorded in the class with their attendance row, by name."""
    rows = session.execute(select(User, Attendance).join(Attendance, Attendance.user_id == User.id)
                           .where(Attendance.class_id == class_id).order_by(User.full_name)).tuples().all()
    return list(rows)


def class_course(session: Session, klass: TrainingClass) -> Course | None:
    return session.get(Course, klass.course_id)
