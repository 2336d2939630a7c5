"""Mandated training: managers assign a course with a due date to a unit or an agency; officials
see it first with its deadline; managers see who is overdue. Mandates recur every training year,
and last year's certificates stay in the history."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from lms.domain.calendar import month_day_due, training_year_due, year_bounds
from lms.services.access import can_see_unit, has_duties
from lms.services.errors import Forbidden, Invalid, NotFound
from lms.services.units import unit_and_descendants
from lms.store import Agency, Certificate, Course, Mandate, Role, Unit, User

__all__ = ["AssignedMandate", "MandateStatus", "assigned_mandates", "change_mandate", "create_mandate",
           "mandates_for", "overdue", "remove_mandate"]


@dataclass(frozen=True)
class MandateStatus:
    mandate_id: int
    course_id: str
    course_title: str
    due: date
    done: bool
    overdue: bool


def create_mandate(session: Session, manager: User, *, course_id: str, unit_code: str, due: date,
                   agency_id: int | None = None, recurring: bool = True, now: datetime) -> Mandate:
    if session.get(Course, course_id) is None:
        raise NotFound("course.not_found")
    if session.get(Unit, unit_code) is None:
        raise NotFound("unit.not_found")
    if not can_see_unit(session, manager, unit_code):
        raise Forbidden("auth.forbidden")
    if agency_id is not None:
        agency = session.get(Agency, agency_id)
        if agency is None or agency.unit_code not in unit_and_descendants(session, unit_code):
            raise Invalid("mandate.invalid", {"agency_id": "agency.outside_unit"})
    mandate = Mandate(course_id=course_id, unit_code=unit_code, agency_id=agency_id, role=Role.OFFICIAL.value,
                      due_month=due.month, due_day=due.day, first_year=due.year, recurring=recurring,
                      created_by_id=manager.id, created_at=now)
    session.add(mandate)
    session.flush()
    return mandate


@dataclass(frozen=True)
class AssignedMandate:
    """A mandate as the manager who can change it sees it: names, not codes."""
    mandate_id: int
    course_id: str
    course_title: str
    unit_code: str
    unit_name: str
    due: date
    recurring: bool


def assigned_mandates(session: Session, manager: User, *, today: date) -> list[AssignedMandate]:
    """The mandates on units the manager may see, the nearest deadline first."""
    out = []
    for m in session.scalars(select(Mandate).order_by(Mandate.id)):
        if not can_see_unit(session, manager, m.unit_code):
            continue
        course, unit = session.get(Course, m.course_id), session.get(Unit, m.unit_code)
        assert course is not None and unit is not None
        year = max(today.year, m.first_year) if m.recurring else m.first_year
        out.append(AssignedMandate(m.id, m.course_id, course.title, m.unit_code, unit.name, _due(m, year),
                                   m.recurring))
    return sorted(out, key=lambda a: (a.due, a.mandate_id))


def _own_mandate(session: Session, manager: User, mandate_id: int) -> Mandate:
    m = session.get(Mandate, mandate_id)
    if m is None:
        raise NotFound("mandate.not_found")
    if not can_see_unit(session, manager, m.unit_code):
        raise Forbidden("auth.forbidden")
    return m


def change_mandate(session: Session, manager: User, mandate_id: int, *, due: date, recurring: bool) -> Mandate:
    m = _own_mandate(session, manager, mandate_id)
    m.due_month, m.due_day, m.first_year, m.recurring = due.month, due.day, due.year, recurring
    session.flush()
    return m


def remove_mandate(session: Session, manager: User, mandate_id: int) -> None:
    session.delete(_own_mandate(session, manager, mandate_id))
    session.flush()


def _due(m: Mandate, year: int) -> date:
    return month_day_due(year, m.due_month, m.due_day)


def _applies(session: Session, m: Mandate, user: User, year: int) -> bool:
    if user.role != m.role or year < m.first_year or (not m.recurring and year != m.first_year):
        return False
    if m.agency_id is not None:
        return user.agency_id == m.agency_id
    return user.unit_code is not None and user.unit_code in unit_and_descendants(session, m.unit_code)


def _certified(session: Session, user_id: int, course_id: str, year: int) -> bool:
    start, end = year_bounds(year)
    return session.scalar(select(Certificate.id).where(
        Certificate.user_id == user_id, Certificate.course_id == course_id, Certificate.revoked_at.is_(None),
        Certificate.issued_at >= start, Certificate.issued_at < end)) is not None


def mandates_for(session: Session, user: User, *, today: date) -> list[MandateStatus]:
    """The user's mandated courses this training year, the earliest deadline first."""
    out = []
    for m in session.scalars(select(Mandate)):
        if not _applies(session, m, user, today.year):
            continue
        course = session.get(Course, m.course_id)
        assert course is not None
        due = _due(m, today.year)
        done = _certified(session, user.id, m.course_id, today.year)
        out.append(MandateStatus(m.id, m.course_id, course.title, due, done, not done and today > due))
    out.extend(_plan_mandates(session, user, today, {s.course_id for s in out}))
    return sorted(out, key=lambda s: (s.done, s.due))


def _plan_mandates(session: Session, user: User, today: date, covered: set[str]) -> list[MandateStatus]:
    """The default plan trains every official every year in each mandated course, due by the end
    of the training year: that holds from an official's first sign-in, before any manager acts. A
    manager's own mandate for the same course (an earlier deadline, say) takes its place."""
    if not has_duties(user):
        return []
    due = training_year_due(today.year)
    out = []
    for course in session.scalars(select(Course).where(Course.mandated).order_by(Course.id)):
        if course.id in covered:
            continue
        done = _certified(session, user.id, course.id, today.year)
        out.append(MandateStatus(0, course.id, course.title, due, done, not done and today > due))
    return out


def overdue(session: Session, manager: User, unit_code: str, *, today: date, limit: int = 50,
            offset: int = 0) -> tuple[int, list[tuple[User, MandateStatus]]]:
    """Officials of the unit (and its communes) past a mandate's deadline this year without its
    certificate: how many in all, and one page of them, by name. One query per mandate, however
    many officials there are."""
    if not can_see_unit(session, manager, unit_code):
        raise Forbidden("auth.forbidden")
    units = set(unit_and_descendants(session, unit_code))
    start, end = year_bounds(today.year)
    total, rows = 0, list[tuple[User, MandateStatus]]()
    for m in session.scalars(select(Mandate).order_by(Mandate.id)):
        if today.year < m.first_year or (not m.recurring and today.year != m.first_year):
            continue
        due = _due(m, today.year)
        if today <= due:
            continue
        scope = units & set(unit_and_descendants(session, m.unit_code))
        if not scope:
            continue
        certified = select(Certificate.id).where(
            Certificate.user_id == User.id, Certificate.course_id == m.course_id, Certificate.revoked_at.is_(None),
            Certificate.issued_at >= start, Certificate.issued_at < end).exists()
        query = select(User).where(User.role == m.role, User.is_active, User.unit_code.in_(scope), ~certified)
        if m.agency_id is not None:
            query = query.where(User.agency_id == m.agency_id)
        count = session.scalar(select(func.count()).select_from(query.subquery())) or 0
        course = session.get(Course, m.course_id)
        assert course is not None
        skip = max(0, offset - total)
        if count and len(rows) < limit and skip < count:
            for user in session.scalars(query.order_by(User.full_name, User.id).offset(skip).limit(limit - len(rows))):
                rows.append((user, MandateStatus(m.id, m.course_id, course.title, due, False, True)))
        total += count
    return total, rows
