"""Models for reporting: plans with their indicators and targets, the working-age population a
manager enters per unit, and the summary figures kept current with every event."""

from __future__ import annotations

from datetime import date, datetime

from sqlalchemy import Boolean, Date, Float, ForeignKey, Index, Integer, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from lms.store.models import Base, utcnow

__all__ = ["FigureShare", "Plan", "PlanIndicator", "ReportFigure", "UnitPopulation"]


class Plan(Base):
    """A plan ("kế hoạch") a body issued: for the whole country (unit_code NULL) or one province."""

    __tablename__ = "plans"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    slug: Mapped[str] = mapped_column(String(80), unique=True)
    title: Mapped[str] = mapped_column(String(300))
    issuing_body: Mapped[str] = mapped_column(String(300))
    decision_number: Mapped[str] = mapped_column(String(80))
    start_year: Mapped[int] = mapped_column(Integer)
    end_year: Mapped[int] = mapped_column(Integer)
    unit_code: Mapped[str | None] = mapped_column(ForeignKey("units.code"), index=True)
    working_age_min: Mapped[int] = mapped_column(Integer, default=15)
    working_age_max: Mapped[int | None] = mapped_column(Integer)
    team_min_certified: Mapped[int] = mapped_column(Integer, default=3)
    active: Mapped[bool] = mapped_column(Boolean, default=True)
    updated_at: Mapped[datetime] = mapped_column(default=utcnow)

    indicators: Mapped[list[PlanIndicator]] = relationship(
        back_populates="plan", cascade="all, delete-orphan",
        order_by="(PlanIndicator.position, PlanIndicator.deadline)")


class PlanIndicator(Base):
    """One target of a plan: an indicator (one of the kinds the system can measure) reaching a
    percent by a deadline. An indicator with several deadlines has a row for each."""

    __tablename__ = "plan_indicators"
    __table_args__ = (UniqueConstraint("plan_id", "indicator", "deadline"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    plan_id: Mapped[int] = mapped_column(ForeignKey("plans.id", ondelete="CASCADE"), index=True)
    indicator: Mapped[str] = mapped_column(String(40))
    label: Mapped[str] = mapped_column(String(300))
    target_percent: Mapped[float] = mapped_column(Float)
    deadline: Mapped[date] = mapped_column(Date)
    position: Mapped[int] = mapped_column(Integer, default=0)

    plan: Mapped[Plan] = relationship(back_populates="indicators")


class UnitPopulation(Base):
    """The working-age population of a unit in a year, as a manager entered or imported it."""

    __tablename__ = "unit_populations"
    __table_args__ = (UniqueConstraint("unit_code", "year"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    unit_code: Mapped[str] = mapped_column(ForeignKey("units.code"))
    year: Mapped[int] = mapped_column(Integer)
    working_age: Mapped[int] = mapped_column(Integer)
    source: Mapped[str] = mapped_column(String(300), default="")
    updated_at: Mapped[datetime] = mapped_column(default=utcnow)


class _FigureKey:
    """The columns of lms.domain.figures.FigureKey, and the counter's value."""

    metric: Mapped[str] = mapped_column(String(24))
    unit_code: Mapped[str] = mapped_column(String(5))
    year: Mapped[int] = mapped_column(Integer)
    month: Mapped[int] = mapped_column(Integer)
    course_id: Mapped[str] = mapped_column(String(80))
    grp: Mapped[str] = mapped_column(String(16))
    birth_year: Mapped[int] = mapped_column(Integer)
    value: Mapped[int] = mapped_column(Integer)


class ReportFigure(_FigureKey, Base):
    """A kept sum: one counter of lms.domain.figures, summed over every contributor."""

    __tablename__ = "report_figures"
    __table_args__ = (
        UniqueConstraint("metric", "unit_code", "year", "month", "course_id", "grp", "birth_year",
                         name="uq_report_figures_key"),
        Index("ix_report_figures_unit_metric", "unit_code", "metric", "year"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)


class FigureShare(_FigureKey, Base):
    """What one contributor ("u:<user id>" or "c:<class id>") last added to the kept sums."""

    __tablename__ = "figure_shares"
    __table_args__ = (
        UniqueConstraint("contributor", "metric", "unit_code", "year", "month", "course_id", "grp", "birth_year",
                         name="uq_figure_shares_key"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    contributor: Mapped[str] = mapped_column(String(24))
