"""Plans as data: the default plan shipped from public targets, a province's own plan read from a
TOML file, and the working-age population managers enter or import per unit and year."""

from __future__ import annotations

import re
import tomllib
from dataclasses import dataclass
from datetime import date, datetime
from pathlib import Path
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from lms.content.roster import read_table
from lms.domain.targets import DEFAULT_PLAN, INDICATOR_KINDS, Indicator, PlanSpec
from lms.domain.text import nfc
from lms.services import audit
from lms.services.access import can_see_unit
from lms.services.errors import Forbidden, Invalid
from lms.store import Plan, PlanIndicator, Unit, UnitLevel, UnitPopulation, User

__all__ = ["PopulationResult", "ensure_default_plan", "import_plan", "import_populations", "plan_for",
           "population", "populations", "recent_populations", "set_population"]


def _store(session: Session, spec: PlanSpec, *, now: datetime) -> Plan:
    plan = session.scalar(select(Plan).where(Plan.slug == spec.slug))
    if plan is None:
        plan = Plan(slug=spec.slug)
        session.add(plan)
    plan.title, plan.issuing_body, plan.decision_number = spec.title, spec.issuing_body, spec.decision_number
    plan.start_year, plan.end_year, plan.unit_code = spec.start_year, spec.end_year, spec.unit_code
    plan.working_age_min, plan.working_age_max = spec.working_age_min, spec.working_age_max
    plan.team_min_certified, plan.active, plan.updated_at = spec.team_min_certified, True, now
    plan.indicators.clear()
    session.flush()
    for position, ind in enumerate(spec.indicators):
        for deadline, percent in ind.targets:
            plan.indicators.append(PlanIndicator(indicator=ind.id, label=ind.label, target_percent=percent,
                                                 deadline=deadline, position=position))
    session.flush()
    return plan


def ensure_default_plan(session: Session, *, now: datetime) -> bool:
    """Store the default plan if it is missing (a province's edits to it are kept). Idempotent."""
    if session.scalar(select(Plan.id).where(Plan.slug == DEFAULT_PLAN.slug)) is not None:
        return False
    _store(session, DEFAULT_PLAN, now=now)
    return True


def _spec(plan: Plan) -> PlanSpec:
    indicators: dict[str, tuple[str, list[tuple[date, float]]]] = {}
    for row in plan.indicators:
        indicators.setdefault(row.indicator, (row.label, []))[1].append((row.deadline, row.target_percent))
    return PlanSpec(slug=plan.slug, title=plan.title, issuing_body=plan.issuing_body,
                    decision_number=plan.decision_number, start_year=plan.start_year, end_year=plan.end_year,
                    indicators=tuple(Indicator(k, label, tuple(sorted(t))) for k, (label, t) in indicators.items()),
                    working_age_min=plan.working_age_min, working_age_max=plan.working_age_max,
                    team_min_certified=plan.team_min_certified, unit_code=plan.unit_code)


def plan_for(session: Session, unit_code: str) -> PlanSpec:
    """The plan in force for a unit: its province's own active plan, else the default one."""
    unit = session.get(Unit, unit_code)
    province = (unit.parent_code or unit.code) if unit else None
    plan = None
    if province:
        plan = session.scalar(select(Plan).where(Plan.unit_code == province, Plan.active).order_by(Plan.id.desc()))
    if plan is None:
        plan = session.scalar(select(Plan).where(Plan.slug == DEFAULT_PLAN.slug))
    return _spec(plan) if plan is not None else DEFAULT_PLAN


def import_plan(session: Session, path: Path, *, now: datetime) -> Plan:
    """Read a plan from TOML and store it (replacing a plan of the same slug). Problems are
    reported as ``FILE:LINE: message`` through Invalid."""
    name = str(path)
    try:
        data = tomllib.loads(path.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError) as exc:
        raise Invalid("plan.invalid", {"file": f"{name}:1: cannot read the file ({type(exc).__name__})"}) from exc
    except tomllib.TOMLDecodeError as exc:
        found = re.search(r"at line (\d+)", str(exc))  # Python 3.11 gives the line only in the message
        line = found.group(1) if found else "1"
        raise Invalid("plan.invalid", {"file": f"{name}:{line}: {exc}"}) from exc
    problems = _plan_problems(session, data)
    if problems:
        raise Invalid("plan.invalid", {str(i): f"{name}: {p}" for i, p in enumerate(problems)})
    indicators = tuple(
        Indicator(str(ind["id"]), nfc(str(ind["label"])),
                  tuple(sorted((date.fromisoformat(str(t["deadline"])), float(t["percent"]))
                               for t in ind["targets"])))
        for ind in data["indicators"])
    spec = PlanSpec(slug=str(data["slug"]), title=nfc(str(data["title"])), issuing_body=nfc(str(data["issuing_body"])),
                    decision_number=nfc(str(data["decision_number"])), start_year=int(data["start_year"]),
                    end_year=int(data["end_year"]), indicators=indicators,
                    working_age_min=int(data.get("working_age_min", 15)),
                    working_age_max=int(data["working_age_max"]) if "working_age_max" in data else None,
                    team_min_certified=int(data.get("team_min_certified", 3)), unit_code=data.get("unit_code"))
    plan = _store(session, spec, now=now)
    audit.record(session, "plan.import", "plan", plan.slug, now=now, unit_code=plan.unit_code)
    return plan


def _plan_problems(session: Session, data: dict[str, Any]) -> list[str]:
    problems = [f"'{key}' is missing" for key in ("slug", "title", "issuing_body", "decision_number", "start_year",
                                                  "end_year", "indicators") if key not in data]
    if problems:
        return problems
    if not isinstance(data["start_year"], int) or not isinstance(data["end_year"], int) \
            or data["start_year"] > data["end_year"]:
        problems.append("start_year and end_year must be years, start first")
    unit = data.get("unit_code")
    province = session.get(Unit, str(unit)) if unit is not None else None
    if unit is not None and (province is None or province.level != UnitLevel.PROVINCE):
        problems.append(f"unit_code '{unit}' is not a province code")
    for key in ("working_age_min", "working_age_max", "team_min_certified"):
        if key in data and (not isinstance(data[key], int) or not 0 <= data[key] <= 120):
            problems.append(f"'{key}' must be a whole number from 0 to 120")
    if not isinstance(data["indicators"], list) or not data["indicators"]:
        return [*problems, "'indicators' must list at least one [[indicators]] table"]
    for n, ind in enumerate(data["indicators"], start=1):
        if not isinstance(ind, dict):
            problems.append(f"indicator {n} is not a table")
            continue
        if ind.get("id") not in INDICATOR_KINDS:
            problems.append(f"indicator {n}: id must be one of {', '.join(INDICATOR_KINDS)}")
        if not str(ind.get("label", "")).strip():
            problems.append(f"indicator {n}: label is missing")
        targets = ind.get("targets")
        if not isinstance(targets, list) or not targets:
            problems.append(f"indicator {n}: targets must list at least one {{deadline, percent}}")
            continue
        for t in targets:
            try:
                date.fromisoformat(str(t["deadline"]))
                ok = 0 <= float(t["percent"]) <= 100
            except (KeyError, TypeError, ValueError):
                ok = False
            if not ok:
                problems.append(f"indicator {n}: each target needs a deadline (YYYY-MM-DD) and a percent 0–100")
    return problems


def populations(session: Session, codes: list[str], year: int) -> dict[str, int]:
    """Each unit's working-age population: the latest figure entered for a year not after
    ``year`` (or, when all are later, the earliest)."""
    found: dict[str, tuple[int, int]] = {}
    for row in session.scalars(select(UnitPopulation).where(UnitPopulation.unit_code.in_(codes))):
        best = found.get(row.unit_code)
        if best is None or _rank(row.year, year) > _rank(best[0], year):
            found[row.unit_code] = (row.year, row.working_age)
    return {code: value for code, (_, value) in found.items()}


def _rank(entered_year: int, year: int) -> tuple[int, int]:
    return (0, entered_year) if entered_year <= year else (-1, -entered_year)


def population(session: Session, units: list[str], year: int) -> int | None:
    """The working-age population of the first unit of ``units`` (the unit asked about): its own
    figure, else the sum of the figures of the others (its communes). None when nobody entered one."""
    own = populations(session, units[:1], year)
    if own:
        return next(iter(own.values()))
    parts = populations(session, units[1:], year)
    return sum(parts.values()) if parts else None


def set_population(session: Session, manager: User | None, unit_code: str, year: int, working_age: int, *,
                   source: str, now: datetime) -> UnitPopulation:
    errors = {}
    if session.get(Unit, unit_code) is None:
        errors["unit_code"] = "unit_code.unknown"
    if not 2000 <= year <= 2100:
        errors["year"] = "population.year"
    if not 0 <= working_age <= 100_000_000:
        errors["working_age"] = "population.value"
    if errors:
        raise Invalid("population.invalid", errors)
    if manager is not None and not can_see_unit(session, manager, unit_code):
        raise Forbidden("auth.forbidden")
    row = session.scalar(select(UnitPopulation).where(UnitPopulation.unit_code == unit_code,
                                                      UnitPopulation.year == year))
    if row is None:
        row = UnitPopulation(unit_code=unit_code, year=year, working_age=working_age)
        session.add(row)
    row.working_age, row.source, row.updated_at = working_age, nfc(source)[:300], now
    session.flush()
    return row


@dataclass
class PopulationResult:
    stored: int = 0
    unchanged: int = 0


POPULATION_COLUMNS = ("unit_code", "year", "working_age", "source")


def import_populations(session: Session, manager: User | None, path: Path, *, now: datetime,
                       dry_run: bool = False, name: str | None = None) -> PopulationResult:
    """Import ``unit_code, year, working_age[, source]`` rows from CSV or XLSX: every row is
    checked first (``FILE:ROW:COLUMN: message``), nothing is stored when any is wrong."""
    label = name or str(path)
    rows, problems = read_table(path, POPULATION_COLUMNS, POPULATION_COLUMNS[:3])
    problems = [p.replace(str(path), label, 1) for p in problems]
    units = set(session.scalars(select(Unit.code)))
    seen: dict[tuple[str, int], int] = {}
    parsed = []
    for r in rows:
        v, ok = r.values, True
        if v["unit_code"] not in units:
            problems.append(f"{label}:{r.row}:unit_code: unknown unit code '{v['unit_code']}'")
            ok = False
        elif manager is not None and not can_see_unit(session, manager, v["unit_code"]):
            problems.append(f"{label}:{r.row}:unit_code: unit '{v['unit_code']}' is outside your unit")
            ok = False
        year = int(v["year"]) if v["year"].isdigit() else 0
        if not 2000 <= year <= 2100:
            problems.append(f"{label}:{r.row}:year: '{v['year']}' is not a year")
            ok = False
        count_text = v["working_age"].replace(".", "").replace(",", "").replace(" ", "")
        if not count_text.isdigit() or int(count_text) > 100_000_000:
            problems.append(f"{label}:{r.row}:working_age: '{v['working_age']}' is not a number of people")
            ok = False
        if ok and (v["unit_code"], year) in seen:
            problems.append(f"{label}:{r.row}:unit_code: unit {v['unit_code']} and year {year} are already on row "
                            f"{seen[(v['unit_code'], year)]}")
            ok = False
        if ok:
            seen[(v["unit_code"], year)] = r.row
            parsed.append((v["unit_code"], year, int(count_text), v.get("source", "")))
    if problems:
        raise Invalid("population.invalid", {str(i): p for i, p in enumerate(problems)})
    result = PopulationResult()
    for unit_code, year, count, source in parsed:
        row = session.scalar(select(UnitPopulation).where(UnitPopulation.unit_code == unit_code,
                                                          UnitPopulation.year == year))
        if row is not None and row.working_age == count:
            result.unchanged += 1
            continue
        result.stored += 1
        if not dry_run:
            set_population(session, None, unit_code, year, count, source=source or Path(label).name, now=now)
    if not dry_run and result.stored:
        audit.record(session, "population.import", "file", label, now=now, stored=result.stored)
    return result


def recent_populations(session: Session, codes: list[str], *, limit: int = 500) -> list[UnitPopulation]:
    """The figures entered for these units, latest year first (what the population page lists)."""
    return list(session.scalars(select(UnitPopulation).where(UnitPopulation.unit_code.in_(codes))
                                .order_by(UnitPopulation.year.desc(), UnitPopulation.unit_code).limit(limit)))
