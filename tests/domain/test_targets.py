from __future__ import annotations

from datetime import date

from lms.domain.targets import DEFAULT_PLAN, Indicator, measure


def _indicator(kind: str) -> Indicator:
    return next(i for i in DEFAULT_PLAN.indicators if i.id == kind)


def test_percent_target_and_met() -> None:
    citizens = _indicator("citizens_online_services")
    assert citizens.target_for(2025) == 70.0 and citizens.target_for(2030) == 90.0
    r = measure(citizens, 2, 3, 2025)
    assert (r.percent, r.target_percent, r.met) == (66.7, 70.0, False)
    assert measure(citizens, 7, 10, 2025).met is True  # exactly on target counts as met
    empty = measure(citizens, 0, 0, 2025)
    assert empty.percent is None and empty.met is False


def test_target_in_force_is_the_next_deadline_and_the_last_holds_after() -> None:
    ind = Indicator("x", "x", ((date(2025, 12, 31), 70.0), (date(2030, 12, 31), 90.0)))
    assert [ind.target_for(y) for y in (2022, 2025, 2026, 2030, 2035)] == [70.0, 70.0, 90.0, 90.0, 90.0]


def test_default_plan_carries_the_public_targets() -> None:
    assert {i.id for i in DEFAULT_PLAN.indicators} == {"officials_trained", "citizens_online_services",
                                                       "communes_with_team"}
    assert _indicator("officials_trained").target_for(2027) == 100.0
    assert _indicator("communes_with_team").target_for(2025) == 80.0
    assert DEFAULT_PLAN.working_age_min == 15 and DEFAULT_PLAN.team_min_certified >= 1
