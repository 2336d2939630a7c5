"""In-person classes ("lớp tập huấn"), their attendance and paper-test results, and community
digital-technology teams. Attendance counts as participant-times (kept by lms.services.figures);
a passed paper test earns the course certificate."""

from __future__ import annotations

from datetime import datetime
from pathlib import Path

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from lms.domain.text import nfc, normalise_login
from lms.services import certificates
from lms.services.errors import Forbidden, Invalid, NotFound
from lms.store import Attendance, Course, TeamMember, TrainingClass, Unit, User

__all__ = ["add_team_member", "can_manage", "create_class", "import_attendance", "record_attendance"]

TRAINERS = ("trainer", "manager", "admin")


def create_class(session: Session, trainer: User, *, title: str, held_on: datetime, place: str, unit_code: str,
                 course_id: str) -> TrainingClass:
    if trainer.role not in TRAINERS:
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
    row = TrainingClass(title=nfc(title).strip(), held_on=held_on, place=nfc(place).strip(), unit_code=unit_code,
                        course_id=course_id, trainer_id=trainer.id)
    session.add(row)
    session.flush()
    return row


def record_attendance(session: Session, trainer: User, class_id: int, login: str, *, passed: bool | None,
                      now: datetime) -> Attendance:
    """Tick a learner present (again: updates the result). A passed paper test issues the certificate."""
    klass = session.get(TrainingClass, class_id)
    if klass is None:
        raise NotFound("class.not_found")
    if not can_manage(session, trainer, klass):
        raise Forbidden("auth.forbidden")
    learner = session.scalar(select(User).where(User.login == normalise_login(login)))
    if learner is None:
        raise NotFound("user.not_found")
    row = session.scalar(select(Attendance).where(Attendance.class_id == class_id, Attendance.user_id == learner.id))
    if row is None:
        row = Attendance(class_id=class_id, user_id=learner.id)
        try:
            with session.begin_nested():
                session.add(row)
        except IntegrityError:
            row = session.scalars(select(Attendance).where(Attendance.class_id == class_id,
                                                           Attendance.user_id == learner.id)).one()
    row.passed = passed
    if passed and row.certificate_id is None:
        course = session.get(Course, klass.course_id)
        assert course is not None
        cert = certificates.issue(session, learner, course, now=now, source="in_person", issued_by=trainer)
        row.certificate_id = cert.id
    session.flush()
    return row


def can_manage(session: Session, user: User, klass: TrainingClass) -> bool:
    """The class's own trainer, a manager of its unit (or the unit's province), or an admin."""
    from lms.services.reports import can_see_unit

    if user.role == "trainer":
        return klass.trainer_id == user.id
    if user.role == "manager":
        return can_see_unit(session, user, klass.unit_code)
    return user.role == "admin"


def add_team_member(session: Session, manager: User, commune_code: str, login: str, *, now: datetime) -> TeamMember:
    from lms.services.reports import can_see_unit

    unit = session.get(Unit, commune_code)
    if unit is None or unit.level != "commune":
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


ATTENDANCE_COLUMNS = ("login", "passed")
_PASSED = {"": None, "đạt": True, "dat": True, "có": True, "co": True, "yes": True, "true": True, "1": True,
           "x": True, "không đạt": False, "khong dat": False, "chưa đạt": False, "không": False, "no": False,
           "false": False, "0": False}


def import_attendance(session: Session, trainer: User, class_id: int, path: Path, *, now: datetime,
                      name: str | None = None) -> int:
    """Attendance from a CSV or XLSX sheet (``login`` and, when there was a paper test, ``passed``:
    đạt / không đạt, leave empty when there was none). Every row is checked first and reported as
    ``FILE:ROW:COLUMN: message``; a sheet with any error records nobody. Returns the rows recorded."""
    from lms.content.roster import read_table

    klass = session.get(TrainingClass, class_id)
    if klass is None:
        raise NotFound("class.not_found")
    if not can_manage(session, trainer, klass):
        raise Forbidden("auth.forbidden")
    label = name or str(path)
    rows, problems = read_table(path, ATTENDANCE_COLUMNS, ATTENDANCE_COLUMNS[:1])
    problems = [p.replace(str(path), label, 1) for p in problems]
    parsed: list[tuple[str, bool | None]] = []
    seen: dict[str, int] = {}
    for r in rows:
        login = normalise_login(r.values.get("login", ""))
        result = nfc(r.values.get("passed", "")).strip().lower()
        if not login:
            problems.append(f"{label}:{r.row}:login: login is empty")
        elif session.scalar(select(User.id).where(User.login == login)) is None:
            problems.append(f"{label}:{r.row}:login: no account has the login '{r.values['login'][:80]}'")
        elif login in seen:
            problems.append(f"{label}:{r.row}:login: '{login}' is already on row {seen[login]}")
        if result not in _PASSED:
            problems.append(f"{label}:{r.row}:passed: '{result[:40]}' is not 'đạt', 'không đạt' or empty")
        seen.setdefault(login, r.row)
        parsed.append((login, _PASSED.get(result)))
    if problems:
        raise Invalid("attendance.invalid", {str(i): p for i, p in enumerate(problems)})
    for login, passed in parsed:
        record_attendance(session, trainer, class_id, login, passed=passed, now=now)
    return len(parsed)
