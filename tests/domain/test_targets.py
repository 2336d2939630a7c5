from __future__ import annotations

from lms.domain.targets import DEFAULT_PLAN, measure


def test_percent_target_and_met() -> None:
    citizens = next(i for i in DEFAULT_PLAN if i.id == "citizens_online_services")
    assert citizens.target_for(2025) == 70.0 and citizens.target_for(2030) == 90.0
    r = measure(citizens, 2, 3, 2025)
    assert (r.percent, r.target_percent, r.met) == (66.7, 70.0, False)
    assert measure(citizens, 7, 10, 2025).met is True  # exactly on target counts as met
    empty = measure(citizens, 0, 0, 2025)
    assert empty.percent is None and empty.met is False
