"""The typed question to the kept sums: FigureQuery's fields narrow the sum, By groups it, and a
province asked with its communes gives what its communes add up to."""

from __future__ import annotations

import pytest
from sqlalchemy.orm import Session

from lms.services import certificates
from lms.services.figures import By, FigureQuery, sum_figures, sum_figures_by
from lms.services.units import unit_and_descendants
from lms.store import Course, Role
from tests import factories


def test_fields_narrow_the_sum_and_columns_group_it(session: Session) -> None:
    year = factories.now().year
    province = tuple(unit_and_descendants(session, "86"))
    online = FigureQuery("certificates", province, year=year, group=Role.CITIZEN, course_id="dich-vu-cong")
    before, before_by_unit = sum_figures(session, online), sum_figures_by(session, online, By.UNIT)
    other_year = sum_figures(session, FigureQuery("certificates", province, year=year - 1))
    course = session.get(Course, "dich-vu-cong")
    for unit in ("28756", "28756", "28783"):
        certificates.issue(session, factories.user(session, role="citizen", unit_code=unit), course,
                           now=factories.now(), source="online")
    certificates.issue(session, factories.user(session, role="official", unit_code="28756"), course,
                       now=factories.now(), source="online")

    assert sum_figures(session, online) == before + 3  # the official's is another group's
    by_unit = sum_figures_by(session, online, By.UNIT)
    assert by_unit[("28756",)] == before_by_unit.get(("28756",), 0) + 2
    assert by_unit[("28783",)] == before_by_unit.get(("28783",), 0) + 1
    assert sum(by_unit.values()) == sum_figures(session, online)  # the province-wide rows agree
    assert sum_figures(session, FigureQuery("certificates", province, year=year - 1)) == other_year
    by_group = sum_figures_by(session, FigureQuery("certificates", ("28756",), year=year), By.GROUP, By.COURSE)
    assert by_group[(Role.OFFICIAL, "dich-vu-cong")] >= 1 and by_group[("citizen", "dich-vu-cong")] >= 2
    with pytest.raises(ValueError):
        sum_figures_by(session, online)
