"""Summary figures kept current in the same transaction as the events that change them.

Whenever the ORM flushes a change to something a figure depends on (a user, a certificate, a
lesson completion, an attendance, a team membership, a class), the person or class it belongs
to is marked; before the transaction commits (or when a report is read inside it) each marked
contributor's figures are computed afresh from its own few rows (lms.domain.figures), compared
with what it contributed last time (``figure_shares``) and only the difference is added to the
kept sums (``report_figures``). Reports read the sums, never the raw rows. Statements that
bypass the ORM call :func:`touch`. The unit of work (lms.services.unit_of_work) calls
:data:`KEEPER` at each flush, commit and rollback. ``lms report rebuild`` recomputes everything from scratch."""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum
from typing import Any, TypeVar

from sqlalchemy import Select, delete, func, insert, or_, select
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.orm import Session

from lms.domain.calendar import VN
from lms.domain.figures import (
    CertificateFact,
    ClassFact,
    FigureKey,
    PersonFacts,
    class_figures,
    difference,
    person_figures,
)
from lms.services.units import province_of
from lms.store import (
    Attempt,
    AttemptStatus,
    Attendance,
    Certificate,
    Course,
    FigureShare,
    LessonCompletion,
    ReportFigure,
    Role,
    TeamMember,
    TrainingClass,
    UnitOfWorkParticipant,
    User,
    direct,
)

__all__ = ["KEEPER", "ONLINE_SERVICES_COURSE", "By", "FigureQuery", "earlier_graded_sql", "first_activity_of_year",
           "kept", "missing", "rebuild", "settle", "sum_figures", "sum_figures_by", "touch", "touch_activity",
           "year_bounds"]

ONLINE_SERVICES_COURSE = "dich-vu-cong"
_PENDING = "lms.figures.pending"
_ACTIVITY = "lms.figures.activity"
_KEY_COLUMNS = ("metric", "unit_code", "year", "month", "course_id", "grp", "birth_year")


def touch(session: Session, *contributors: str) -> None:
    """Mark contributors ("u:<id>", "c:<id>") whose figures must be refreshed before commit."""
    session.info.setdefault(_PENDING, set()).update(contributors)


def touch_activity(session: Session, user_id: int, attempt_id: str, moment: datetime) -> None:
    """A graded attempt: of everything a person's figures count, it adds only a year of activity.
    When the person already has a graded attempt in that year, no figure moves and settling skips
    the recount (profiled: the recount was a third of a quiz submission)."""
    session.info.setdefault(_ACTIVITY, set()).add((user_id, attempt_id, _local(moment).year))


# On the driver (lms.store.direct): every quiz submission asks it (issue 14).
def earlier_graded_sql(user: str = ":user", attempt: str = ":attempt") -> str:
    """SQL for another attempt of the person graded in the year from :start to :end
    (:func:`year_bounds`); ``user`` and ``attempt`` name parameters, or columns of an outer query."""
    return (f"SELECT id FROM attempts WHERE user_id = {direct.name(user)} AND status = 'submitted' "  # noqa: S608 (names checked)
            f"AND id != {direct.name(attempt)} AND submitted_at >= :start AND submitted_at < :end LIMIT 1")


_EARLIER_GRADED = direct.Sql(earlier_graded_sql())


def year_bounds(moment: datetime, dialect: str) -> dict[str, object]:
    """:start and :end of the local year of ``moment``, for :func:`earlier_graded_sql`."""
    return _year_bounds(_local(moment).year, dialect)


def _year_bounds(year: int, dialect: str) -> dict[str, object]:
    return {"start": direct.stamp(datetime(year, 1, 1, tzinfo=VN), dialect),
            "end": direct.stamp(datetime(year + 1, 1, 1, tzinfo=VN), dialect)}


def _activity_changes(session: Session, pending: set[str]) -> set[str]:
    """The people whose graded attempt may add a year of activity their figures do not have yet."""
    marks: set[str] = set()
    for user_id, attempt_id, year in sorted(session.info.pop(_ACTIVITY, set())):
        mark = f"u:{user_id}"
        if mark in pending or mark in marks:
            continue
        if _first_of_year(session, user_id, attempt_id, year):
            marks.add(mark)
    return marks


def first_activity_of_year(on: direct.On, user_id: int, attempt_id: str, moment: datetime) -> bool:
    """Whether grading this attempt at ``moment`` gives the person a year of activity their
    figures do not count yet (no other attempt of theirs was graded that year): only then does a
    submission move a figure."""
    return _first_of_year(on, user_id, attempt_id, _local(moment).year)


def _first_of_year(on: direct.On, user_id: int, attempt_id: str, year: int) -> bool:
    bounds = _year_bounds(year, direct.dialect_of(on))
    return direct.execute(on, _EARLIER_GRADED, {"user": user_id, "attempt": attempt_id, **bounds}).fetchone() is None


def _collect(session: Session) -> None:
    marks: set[str] = set()
    for obj in (*session.new, *session.dirty, *session.deleted):
        if isinstance(obj, User):
            marks.add(f"u:{obj.id}")
        elif isinstance(obj, Certificate | LessonCompletion | TeamMember):
            marks.add(f"u:{obj.user_id}")
        elif isinstance(obj, Attempt) and obj.status == AttemptStatus.SUBMITTED:
            marks.add(f"u:{obj.user_id}")
        elif isinstance(obj, Attendance):
            marks.update((f"u:{obj.user_id}", f"c:{obj.class_id}"))
        elif isinstance(obj, TrainingClass):
            marks.add(f"c:{obj.id}")
    if marks:
        touch(session, *marks)


def _forget(session: Session) -> None:
    session.info.pop(_PENDING, None)
    session.info.pop(_ACTIVITY, None)


class _Keeper:
    """The figures' part in the unit of work (lms.services.unit_of_work): after each flush, mark
    whose figures moved; before commit, settle them; on rollback, forget the marks. Wired into the
    LMS's sessionmaker when it is built, never at import."""

    def flushed(self, session: Session) -> None:
        _collect(session)

    def settle(self, session: Session) -> None:
        settle(session)

    def forget(self, session: Session) -> None:
        _forget(session)


KEEPER: UnitOfWorkParticipant = _Keeper()


def settle(session: Session) -> None:
    """Bring the kept sums up to date with everything flushed or touched in this transaction."""
    if (not session.info.get(_PENDING) and not session.info.get(_ACTIVITY)
            and not (session.new or session.dirty or session.deleted)):
        return
    session.flush()
    pending = session.info.pop(_PENDING, set())
    if session.info.get(_ACTIVITY):
        pending |= _activity_changes(session, pending)
    if not pending:
        return
    people = sorted(int(c[2:]) for c in pending if c.startswith("u:") and c[2:].isdigit())
    classes = sorted(int(c[2:]) for c in pending if c.startswith("c:") and c[2:].isdigit())
    fresh: dict[str, Counter[FigureKey]] = {f"u:{uid}": Counter() for uid in people}
    fresh.update({f"c:{cid}": Counter() for cid in classes})
    fresh.update(_people_figures(session, people))
    fresh.update(_class_figures(session, classes))
    old = _shares(session, list(fresh))
    change: Counter[FigureKey] = Counter()
    for contributor, figures in fresh.items():
        delta = difference(old.get(contributor, Counter()), figures)
        if not delta:
            continue
        change.update(delta)
        session.execute(delete(FigureShare).where(FigureShare.contributor == contributor))
        if figures:
            session.execute(insert(FigureShare), [_row(k, v, contributor=contributor) for k, v in figures.items()])
    for key in sorted(k for k, v in change.items() if v):  # one order everywhere: no deadlocks
        _add(session, key, change[key])
    session.info.pop(_PENDING, None)


def _row(key: FigureKey, value: int, **extra: object) -> dict[str, object]:
    return {"metric": key.metric, "unit_code": key.unit_code, "year": key.year, "month": key.month,
            "course_id": key.course_id, "grp": key.group, "birth_year": key.birth_year, "value": value, **extra}


def _key(row: ReportFigure | FigureShare) -> FigureKey:
    return FigureKey(row.metric, row.unit_code, row.year, row.month, row.course_id, row.grp, row.birth_year)


def _add(session: Session, key: FigureKey, delta: int) -> None:
    dialect = session.get_bind().dialect.name
    maker: Callable[..., Any] = pg_insert if dialect == "postgresql" else sqlite_insert
    stmt = maker(ReportFigure).values(**_row(key, delta))
    session.execute(stmt.on_conflict_do_update(index_elements=list(_KEY_COLUMNS),
                                               set_={"value": ReportFigure.value + stmt.excluded.value}))


def _shares(session: Session, contributors: list[str]) -> dict[str, Counter[FigureKey]]:
    out: dict[str, Counter[FigureKey]] = {}
    for chunk in _chunks(contributors, 500):
        for row in session.execute(select(FigureShare).where(FigureShare.contributor.in_(chunk))).scalars():
            out.setdefault(row.contributor, Counter())[_key(row)] += row.value
    return out


_T = TypeVar("_T")


def _chunks(items: list[_T], size: int) -> Iterable[list[_T]]:
    for i in range(0, len(items), size):
        yield items[i:i + size]


def _local(moment: datetime) -> datetime:
    return moment.astimezone(VN)


def _people_figures(session: Session, user_ids: list[int]) -> dict[str, Counter[FigureKey]]:
    if not user_ids:
        return {}
    mandated = set(session.scalars(select(Course.id).where(Course.mandated)))
    out: dict[str, Counter[FigureKey]] = {}
    for chunk in _chunks(user_ids, 500):
        certs: dict[int, list[CertificateFact]] = {}
        for uid, course, issued, unit, revoked in session.execute(
                select(Certificate.user_id, Certificate.course_id, Certificate.issued_at, Certificate.unit_code,
                       Certificate.revoked_at).where(Certificate.user_id.in_(chunk))):
            local = _local(issued)
            certs.setdefault(uid, []).append(CertificateFact(course, local.year, local.month, unit, course in mandated,
                                                             course == ONLINE_SERVICES_COURSE, revoked is not None))
        years: dict[int, set[int]] = {}
        for query in (
                select(LessonCompletion.user_id, LessonCompletion.completed_at).where(
                    LessonCompletion.user_id.in_(chunk)),
                select(Attempt.user_id, Attempt.submitted_at).where(Attempt.user_id.in_(chunk),
                                                                    Attempt.status == AttemptStatus.SUBMITTED),
                select(Attendance.user_id, TrainingClass.held_on).join(
                    TrainingClass, TrainingClass.id == Attendance.class_id).where(Attendance.user_id.in_(chunk))):
            for uid, moment in session.execute(query):
                if moment is not None:
                    years.setdefault(uid, set()).add(_local(moment).year)
        teams: dict[int, list[str]] = {}
        for uid, commune in session.execute(select(TeamMember.user_id, TeamMember.commune_code).where(
                TeamMember.user_id.in_(chunk), TeamMember.active)):
            teams.setdefault(uid, []).append(commune)
        for uid, role, unit, agency, active, born in session.execute(
                select(User.id, User.role, User.unit_code, User.agency_id, User.is_active, User.birth_year).where(
                    User.id.in_(chunk))):
            facts = PersonFacts(role=role, unit_code=unit, on_roster=agency is not None, active=bool(active),
                                birth_year=born, certificates=tuple(certs.get(uid, ())),
                                activity_years=frozenset(years.get(uid, ())), team_communes=tuple(teams.get(uid, ())))
            out[f"u:{uid}"] = _with_rollup(session, person_figures(facts))
    return out


def _class_figures(session: Session, class_ids: list[int]) -> dict[str, Counter[FigureKey]]:
    out: dict[str, Counter[FigureKey]] = {}
    for chunk in _chunks(class_ids, 500):
        attendees = {cid: int(n) for cid, n in session.execute(select(Attendance.class_id, func.count()).where(
            Attendance.class_id.in_(chunk)).group_by(Attendance.class_id)).all()}
        for klass in session.scalars(select(TrainingClass).where(TrainingClass.id.in_(chunk))):
            local = _local(klass.held_on)
            fact = ClassFact(klass.unit_code, local.year, local.month, klass.course_id,
                             int(attendees.get(klass.id, 0)))
            out[f"c:{klass.id}"] = _with_rollup(session, class_figures(fact))
    return out


ROLLUP = "P:"  # metric prefix of the province-wide sums


def _province_of(session: Session, code: str) -> str | None:
    """The province a unit belongs to (itself, for a province): lms.services.units keeps the
    table per database."""
    return province_of(session, code)


def _with_rollup(session: Session, figures: Counter[FigureKey]) -> Counter[FigureKey]:
    """Each counter also counted once more for the whole province, under the metric ``P:<metric>``:
    a province's report then reads the rows of one unit instead of summing over all its communes."""
    out = Counter(figures)
    for key, value in figures.items():
        province = _province_of(session, key.unit_code) if key.unit_code else None
        if province:
            out[key._replace(metric=ROLLUP + key.metric, unit_code=province)] += value
    return out


def rebuild(session: Session, *, batch: int = 2000, progress: Callable[[int, int], None] | None = None) -> int:
    """Recompute every share and sum from the raw records. Returns how many contributors counted."""
    session.info.pop(_PENDING, None)
    session.info.pop(_ACTIVITY, None)
    session.execute(delete(FigureShare))
    session.execute(delete(ReportFigure))
    totals: Counter[FigureKey] = Counter()
    people = list(session.scalars(select(User.id).order_by(User.id)))
    classes = list(session.scalars(select(TrainingClass.id).order_by(TrainingClass.id)))
    done, total = 0, len(people) + len(classes)
    for ids, compute in ((people, _people_figures), (classes, _class_figures)):
        for chunk in _chunks(ids, batch):
            shares = compute(session, chunk)
            rows = [_row(k, v, contributor=c) for c, figures in shares.items() for k, v in figures.items()]
            if rows:
                session.execute(insert(FigureShare), rows)
            for figures in shares.values():
                totals.update(figures)
            done += len(chunk)
            if progress:
                progress(done, total)
    rows = [_row(k, v) for k, v in sorted(totals.items()) if v]
    for page in _chunks(rows, 5000):
        session.execute(insert(ReportFigure), page)
    session.flush()
    return total


def missing(session: Session) -> bool:
    """Whether people exist but no figures were ever kept (a database from before them)."""
    return (session.scalar(select(FigureShare.id).limit(1)) is None
            and session.scalar(select(User.id).limit(1)) is not None)


def kept(session: Session) -> dict[FigureKey, int]:
    """Every non-zero kept sum (for checks and tests)."""
    settle(session)
    return {_key(r): r.value for r in session.scalars(select(ReportFigure)) if r.value}


class By(StrEnum):
    """A key column the kept sums can be grouped by."""

    UNIT = "unit_code"
    MONTH = "month"
    COURSE = "course_id"
    GROUP = "grp"


@dataclass(frozen=True)
class FigureQuery:
    """Which kept sums to add up: one metric over some units, narrowed by the fields given."""

    metric: str
    units: tuple[str, ...]
    year: int | None = None  # counted in this calendar year
    up_to_year: int | None = None  # counted in this year or any before
    course_id: str | None = None
    group: Role | None = None  # the learner group: the role they had
    working_age: tuple[int, int] | None = None  # born in these years (inclusive); an unknown birth year counts


def _summing(session: Session, query: FigureQuery, by: tuple[By, ...]) -> Select[Any]:
    settle(session)
    columns = [getattr(ReportFigure, b.value) for b in by]
    units, metric = list(query.units), query.metric
    if len(units) > 1 and By.UNIT not in by and _province_of(session, units[0]) == units[0]:
        # a province with its communes: its own province-wide rows say the same, in one unit
        scope = ReportFigure.unit_code == units[0]
        metric = ROLLUP + metric
    else:
        scope = ReportFigure.unit_code.in_(units)
    stmt = select(*columns, func.coalesce(func.sum(ReportFigure.value), 0)).where(ReportFigure.metric == metric, scope)
    if query.year is not None:
        stmt = stmt.where(ReportFigure.year == query.year)
    if query.up_to_year is not None:
        stmt = stmt.where(ReportFigure.year <= query.up_to_year)
    if query.course_id is not None:
        stmt = stmt.where(ReportFigure.course_id == query.course_id)
    if query.group is not None:
        stmt = stmt.where(ReportFigure.grp == query.group)
    if query.working_age is not None:  # an unknown birth year (0) is given the benefit of the doubt
        low, high = query.working_age
        stmt = stmt.where(or_(ReportFigure.birth_year.between(low, high), ReportFigure.birth_year == 0))
    return stmt


def sum_figures(session: Session, query: FigureQuery) -> int:
    """The kept sum of a metric over units. Reads a few hundred rows at most."""
    return int(session.scalar(_summing(session, query, ())) or 0)


def sum_figures_by(session: Session, query: FigureQuery, *by: By) -> dict[tuple[str | int, ...], int]:
    """The kept sums of a metric over units, one per value of the ``by`` columns (in that order,
    as the key's tuple); only the values that were ever counted are present."""
    if not by:
        raise ValueError("sum_figures_by needs at least one column")
    stmt = _summing(session, query, by)
    columns = [getattr(ReportFigure, b.value) for b in by]
    rows = session.execute(stmt.group_by(*columns).order_by(*columns)).all()
    return {tuple(r[:-1]): int(r[-1]) for r in rows}
