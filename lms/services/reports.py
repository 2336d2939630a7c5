"""Reports against the plan in force for a unit, per year, scoped to what the asking manager may
see (lms.services.access.unit_scope). Every figure is read from the kept sums
(lms.services.figures), never counted from raw rows."""

from __future__ import annotations

from dataclasses import dataclass
from typing import TypedDict

from sqlalchemy import select
from sqlalchemy.orm import Session

from lms.domain.targets import IndicatorResult, PlanSpec, measure
from lms.services import plans
from lms.services.access import unit_scope
from lms.services.figures import ONLINE_SERVICES_COURSE, By, FigureQuery, sum_figures, sum_figures_by
from lms.store import Course, Role, Unit, UnitLevel, User

__all__ = ["ONLINE_SERVICES_COURSE", "CommuneRow", "MonthTrend", "PublishedFigures", "Report", "full_report",
           "published_figures", "target_report"]


def _birth_years(plan: PlanSpec, year: int) -> tuple[int, int]:
    """Birth years of the working-age population in a year. People whose birth year is unknown
    (accounts made by staff) are counted as of working age."""
    oldest = year - plan.working_age_max if plan.working_age_max is not None else 1
    return max(1, oldest), year - plan.working_age_min


def _indicators(session: Session, plan: PlanSpec, units: list[str], year: int) -> tuple[list[IndicatorResult],
                                                                                       dict[str, str]]:
    born, scope = _birth_years(plan, year), tuple(units)
    citizens_certified = sum_figures(session, FigureQuery("citizens_certified", scope, up_to_year=year,
                                                          working_age=born))
    population = plans.population(session, units, year)
    denominator_source = {"citizens_online_services": "population" if population is not None else "registered"}
    if population is None:
        population = sum_figures(session, FigureQuery("citizens", scope, working_age=born))
    communes = list(session.scalars(select(Unit.code).where(Unit.code.in_(units), Unit.level == UnitLevel.COMMUNE)))
    certified_members = _by_unit(session, FigureQuery("team_certified", tuple(communes)))
    counts = {
        "officials_trained": (sum_figures(session, FigureQuery("officials_certified", scope, year=year)),
                              sum_figures(session, FigureQuery("officials", scope))),
        "citizens_online_services": (citizens_certified, population),
        "communes_with_team": (sum(1 for c in communes if certified_members.get(c, 0) >= plan.team_min_certified),
                               len(communes)),
    }
    return [measure(ind, *counts[ind.id], year) for ind in plan.indicators if ind.id in counts], denominator_source


def target_report(session: Session, viewer: User, unit_code: str, year: int) -> list[IndicatorResult]:
    units = unit_scope(session, viewer, unit_code)
    return _indicators(session, plans.plan_for(session, unit_code), units, year)[0]


def published_figures(session: Session, viewer: User, unit_code: str, year: int) -> PublishedFigures:
    """The figures a province publishes: classes held, participant-times, unique learners, teams
    and their members, and certificates by course, unit, month and learner group."""
    units = unit_scope(session, viewer, unit_code)
    communes = list(session.scalars(select(Unit.code).where(Unit.code.in_(units), Unit.level == UnitLevel.COMMUNE)))
    members = _by_unit(session, FigureQuery("team_members", tuple(communes)))
    scope = tuple(units)

    def by(column: By) -> dict[str, int]:
        found = sum_figures_by(session, FigureQuery("certificates", scope, year=year), column)
        return {str(k): v for (k,), v in found.items()}

    return {"classes_held": sum_figures(session, FigureQuery("classes", scope, year=year)),
            "participant_times": sum_figures(session, FigureQuery("participant_times", scope, year=year)),
            "unique_learners": sum_figures(session, FigureQuery("learners", scope, year=year)),
            "teams": sum(1 for v in members.values() if v), "team_members": sum(members.values()),
            "certificates_by_course": by(By.COURSE), "certificates_by_unit": by(By.UNIT),
            "certificates_by_month": {f"{int(k):02d}": v for k, v in by(By.MONTH).items()},
            "certificates_by_group": by(By.GROUP)}


def _by_unit(session: Session, query: FigureQuery) -> dict[str, int]:
    return {str(unit): v for (unit,), v in sum_figures_by(session, query, By.UNIT).items()}


class PublishedFigures(TypedDict):
    """What a province publishes besides the plan's indicators (keys are the export's sheet names)."""

    classes_held: int
    participant_times: int
    unique_learners: int
    teams: int
    team_members: int
    certificates_by_course: dict[str, int]
    certificates_by_unit: dict[str, int]
    certificates_by_month: dict[str, int]  # "01".."12"
    certificates_by_group: dict[str, int]  # by Role


class MonthTrend(TypedDict):
    month: int
    officials: int
    citizens: int
    officials_total: int
    citizens_total: int


class CommuneRow(TypedDict):
    code: str
    name: str
    indicators: dict[str, IndicatorResult]  # by indicator id


@dataclass(frozen=True)
class Report:
    unit_code: str
    unit_name: str
    year: int
    plan: PlanSpec
    indicators: list[IndicatorResult]
    denominator_source: dict[str, str]
    figures: PublishedFigures
    trend: list[MonthTrend]  # per month: certificates of each indicator's course, and cumulated
    units: list[CommuneRow]  # the communes (for a province), lagging first


def full_report(session: Session, viewer: User, unit_code: str, year: int, *, with_units: bool = True) -> Report:
    """Everything the dashboard, the exports and the PDF show, from the kept sums."""
    units = unit_scope(session, viewer, unit_code)
    unit = session.get(Unit, unit_code)
    assert unit is not None
    plan = plans.plan_for(session, unit_code)
    indicators, source = _indicators(session, plan, units, year)
    mandated = list(session.scalars(select(Course.id).where(Course.mandated)))
    monthly_officials = sum_figures_by(session, FigureQuery("certificates", tuple(units), year=year,
                                                            group=Role.OFFICIAL), By.MONTH, By.COURSE)
    monthly_citizens = sum_figures_by(session, FigureQuery("certificates", tuple(units), year=year, group=Role.CITIZEN,
                                                           course_id=ONLINE_SERVICES_COURSE), By.MONTH)
    trend: list[MonthTrend] = []
    run_o, run_c = 0, 0
    for month in range(1, 13):
        officials = sum(monthly_officials.get((month, c), 0) for c in mandated)
        citizens = monthly_citizens.get((month,), 0)
        run_o, run_c = run_o + officials, run_c + citizens
        trend.append({"month": month, "officials": officials, "citizens": citizens,
                      "officials_total": run_o, "citizens_total": run_c})
    rows: list[CommuneRow] = []
    if with_units and unit.level == UnitLevel.PROVINCE:
        rows = _commune_rows(session, plan, unit_code, year)
        first = plan.indicators[0].id if plan.indicators else ""

        def lag(row: CommuneRow) -> tuple[int, float, str]:
            r = row["indicators"].get(first)
            if r is None or r.percent is None:
                return (1, 0.0, row["name"])
            return (0, r.percent - r.target_percent, row["name"])

        rows.sort(key=lag)
    return Report(unit_code, unit.name, year, plan, indicators, source, published_figures(session, viewer, unit_code,
                                                                                            year), trend, rows)


def _commune_rows(session: Session, plan: PlanSpec, province: str, year: int) -> list[CommuneRow]:
    """Each commune of a province against the plan, with one grouped query per figure."""
    communes = list(session.execute(select(Unit.code, Unit.name).where(Unit.parent_code == province)
                                    .order_by(Unit.name)))
    codes = [c for c, _ in communes]
    scope, born = tuple(codes), _birth_years(plan, year)
    officials = _by_unit(session, FigureQuery("officials", scope))
    trained = _by_unit(session, FigureQuery("officials_certified", scope, year=year))
    certified = _by_unit(session, FigureQuery("citizens_certified", scope, up_to_year=year, working_age=born))
    registered = _by_unit(session, FigureQuery("citizens", scope, working_age=born))
    members = _by_unit(session, FigureQuery("team_certified", scope))
    entered = plans.populations(session, codes, year)
    rows: list[CommuneRow] = []
    for code, name in communes:
        counts = {"officials_trained": (trained.get(code, 0), officials.get(code, 0)),
                  "citizens_online_services": (certified.get(code, 0),
                                               entered.get(code, registered.get(code, 0))),
                  "communes_with_team": (int(members.get(code, 0) >= plan.team_min_certified), 1)}
        rows.append({"code": code, "name": name,
                     "indicators": {ind.id: measure(ind, *counts[ind.id], year) for ind in plan.indicators
                                    if ind.id in counts}})
    return rows
