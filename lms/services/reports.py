"""Reports against the default plan's competence targets, per unit and year, scoped to what
the asking manager may see."""

from __future__ import annotations

from datetime import datetime, timedelta, timezone

from sqlalchemy import distinct, func, select
from sqlalchemy.orm import Session

from lms.domain.targets import DEFAULT_PLAN, IndicatorResult, measure
from lms.services.errors import Forbidden, NotFound
from lms.services.units import unit_and_descendants
from lms.store import Certificate, Course, TeamMember, Unit, User

__all__ = ["ONLINE_SERVICES_COURSE", "can_see_unit", "published_figures", "target_report"]

ONLINE_SERVICES_COURSE = "dich-vu-cong"
VN = timezone(timedelta(hours=7))


def can_see_unit(session: Session, user: User, unit_code: str) -> bool:
    """Admins see everything; a manager sees their unit and, for a province, its communes."""
    if user.role == "admin":
        return True
    if user.role != "manager" or not user.unit_code:
        return False
    return unit_code in unit_and_descendants(session, user.unit_code)


def _year_bounds(year: int) -> tuple[datetime, datetime]:
    return datetime(year, 1, 1, tzinfo=VN), datetime(year + 1, 1, 1, tzinfo=VN)


def _certified(session: Session, course_ids: list[str], units: list[str], year: int, role: str,
               officials_only: bool) -> int:
    start, end = _year_bounds(year)
    query = (select(func.count(distinct(Certificate.user_id))).join(User, User.id == Certificate.user_id)
             .where(Certificate.course_id.in_(course_ids), Certificate.revoked_at.is_(None),
                    Certificate.issued_at >= start, Certificate.issued_at < end,
                    User.unit_code.in_(units), User.role == role))
    if officials_only:
        query = query.where(User.agency_id.is_not(None))
    return session.scalar(query) or 0


def target_report(session: Session, viewer: User, unit_code: str, year: int) -> list[IndicatorResult]:
    if session.get(Unit, unit_code) is None:
        raise NotFound("unit.not_found")
    if not can_see_unit(session, viewer, unit_code):
        raise Forbidden("auth.forbidden")
    units = unit_and_descendants(session, unit_code)
    mandated = list(session.scalars(select(Course.id).where(Course.mandated, Course.published)))
    officials = session.scalar(select(func.count()).select_from(User).where(
        User.role == "official", User.agency_id.is_not(None), User.unit_code.in_(units), User.is_active)) or 0
    citizens = session.scalar(select(func.count()).select_from(User).where(
        User.role == "citizen", User.unit_code.in_(units), User.is_active)) or 0
    communes = [u for u in units if u != unit_code] or [unit_code]
    commune_units = session.scalars(select(Unit.code).where(Unit.code.in_(communes), Unit.level == "commune")).all()
    with_team = session.scalar(select(func.count(distinct(TeamMember.commune_code))).join(
        User, User.id == TeamMember.user_id).where(TeamMember.active, User.is_active, User.role == "trainer",
                                                   TeamMember.commune_code.in_(commune_units))) or 0
    counts = {
        "officials_trained": (_certified(session, mandated, units, year, "official", True), officials),
        "citizens_online_services": (_certified(session, [ONLINE_SERVICES_COURSE], units, year, "citizen", False),
                                     citizens),
        "communes_with_team": (with_team, len(commune_units)),
    }
    return [measure(ind, *counts[ind.id], year) for ind in DEFAULT_PLAN]


def published_figures(session: Session, viewer: User, unit_code: str, year: int) -> dict[str, object]:
    from lms.services.classes import published_counts

    if not can_see_unit(session, viewer, unit_code):
        raise Forbidden("auth.forbidden")
    start, end = _year_bounds(year)
    return published_counts(session, unit_and_descendants(session, unit_code), start, end)
