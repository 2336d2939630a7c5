"""Competence-target arithmetic: plans, their indicators and targets, and an indicator's share
against the target in force for a year."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date

__all__ = ["DEFAULT_PLAN", "INDICATOR_KINDS", "Indicator", "IndicatorResult", "PlanSpec", "measure"]

# The indicators the system can measure; a plan chooses among them and sets their targets.
INDICATOR_KINDS = ("officials_trained", "citizens_online_services", "communes_with_team")


@dataclass(frozen=True)
class Indicator:
    id: str
    label: str
    targets: tuple[tuple[date, float], ...]  # (deadline, target percent), by deadline

    def target_for(self, year: int) -> float:
        """The target in force in a year: that of the earliest deadline falling in or after the
        year; after the last deadline, the last target still holds."""
        for deadline, percent in self.targets:
            if deadline.year >= year:
                return percent
        return self.targets[-1][1]


@dataclass(frozen=True)
class PlanSpec:
    slug: str
    title: str
    issuing_body: str
    decision_number: str
    start_year: int
    end_year: int
    indicators: tuple[Indicator, ...]
    working_age_min: int = 15
    working_age_max: int | None = None
    team_min_certified: int = 3
    unit_code: str | None = None
    notes: tuple[str, ...] = field(default=())


@dataclass(frozen=True)
class IndicatorResult:
    id: str
    label: str
    numerator: int
    denominator: int
    percent: float | None
    target_percent: float
    met: bool


def measure(indicator: Indicator, numerator: int, denominator: int, year: int) -> IndicatorResult:
    """percent = 100 × numerator / denominator to one decimal; None (and not met) when there is
    no denominator."""
    target = indicator.target_for(year)
    percent = round(100.0 * numerator / denominator, 1) if denominator else None
    met = percent is not None and 100.0 * numerator >= target * denominator
    return IndicatorResult(indicator.id, indicator.label, numerator, denominator, percent, target, met)


def _by_end(year: int) -> date:
    return date(year, 12, 31)


# The default plan, from public targets: Decision 146/QĐ-TTg (2022) for citizens (70% of the
# working-age population by 2025, 90% by 2030), and a provincial plan (Vĩnh Long, Decision
# 618/QĐ-UBND, 2022) for officials (100% trained every year) and the network (80% of communes by
# 2025, 100% by 2030). Working age starts at 15, as in the General Statistics Office's labour-force
# figures; a province may set an upper bound in its own plan.
DEFAULT_PLAN = PlanSpec(
    slug="mac-dinh",
    title="Kế hoạch mặc định: phổ cập kỹ năng số (Bình dân học vụ số)",
    issuing_body="Thủ tướng Chính phủ; Ủy ban nhân dân tỉnh Vĩnh Long",
    decision_number="146/QĐ-TTg; 618/QĐ-UBND",
    start_year=2022,
    end_year=2030,
    indicators=(
        Indicator("officials_trained", "Cán bộ, công chức trong danh sách có chứng nhận khóa bắt buộc của năm",
                  ((_by_end(2030), 100.0),)),
        Indicator("citizens_online_services",
                  "Người trong độ tuổi lao động có chứng nhận khóa Dịch vụ công trực tuyến",
                  ((_by_end(2025), 70.0), (_by_end(2030), 90.0))),
        Indicator("communes_with_team", "Xã, phường có tổ công nghệ số cộng đồng đủ thành viên có chứng nhận",
                  ((_by_end(2025), 80.0), (_by_end(2030), 100.0))),
    ),
)
