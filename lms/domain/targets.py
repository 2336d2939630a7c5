"""Competence-target arithmetic: an indicator's share against its target."""

from __future__ import annotations

from dataclasses import dataclass

__all__ = ["DEFAULT_PLAN", "Indicator", "IndicatorResult", "measure"]


@dataclass(frozen=True)
class Indicator:
    id: str
    label: str
    targets: tuple[tuple[int, float], ...]  # (from year, target percent), in order

    def target_for(self, year: int) -> float:
        chosen = self.targets[0][1]
        for start, percent in self.targets:
            if year >= start:
                chosen = percent
        return chosen


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


# The default plan, from public targets: Decision 146/QĐ-TTg (2022) for citizens, and a
# provincial plan (Vĩnh Long, Decision 618/QĐ-UBND, 2022) for officials and the network.
DEFAULT_PLAN = (
    Indicator("officials_trained", "Cán bộ, công chức trong danh sách có chứng nhận khóa bắt buộc của năm",
              ((2022, 100.0),)),
    Indicator("citizens_online_services", "Người dân có chứng nhận khóa Dịch vụ công trực tuyến",
              ((2022, 70.0), (2026, 90.0))),
    Indicator("communes_with_team", "Xã, phường có tổ công nghệ số cộng đồng hoạt động",
              ((2022, 80.0), (2026, 100.0))),
)
