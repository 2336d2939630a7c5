"""The default plan's yearly mandate, and mandates a manager changes or removes."""

from __future__ import annotations

from datetime import date

import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session

from lms.services import mandates
from lms.services.errors import Forbidden
from lms.store import Course
from tests import factories


def test_every_official_has_the_plans_yearly_course_without_a_managers_action(session: Session) -> None:
    mandated = set(session.scalars(select(Course.id).where(Course.mandated)))
    assert mandated, "the project's content has a mandated course"
    official = factories.user(session, role="official")
    today = date(2026, 3, 1)
    duties = mandates.mandates_for(session, official, today=today)
    assert {d.course_id for d in duties} == mandated
    assert all(d.due == date(2026, 12, 31) and not d.done and not d.overdue for d in duties)
    assert mandates.mandates_for(session, factories.user(session), today=today) == []  # citizens: none


def test_a_managers_mandate_takes_the_plans_place_and_can_be_changed_and_removed(session: Session) -> None:
    manager = factories.user(session, role="manager", unit_code="86")
    official = factories.user(session, role="official")
    today = date(2026, 3, 1)
    m = mandates.create_mandate(session, manager, course_id="chuyen-doi-so-can-bo", unit_code="86",
                                due=date(2026, 6, 30), now=factories.now())
    [duty] = [d for d in mandates.mandates_for(session, official, today=today) if d.course_id == "chuyen-doi-so-can-bo"]
    assert duty.due == date(2026, 6, 30)
    [shown] = [a for a in mandates.assigned_mandates(session, manager, today=today) if a.mandate_id == m.id]
    assert shown.unit_name == "Tỉnh Vĩnh Long" and shown.course_title
    mandates.change_mandate(session, manager, m.id, due=date(2026, 9, 15), recurring=False)
    [duty] = [d for d in mandates.mandates_for(session, official, today=today) if d.course_id == "chuyen-doi-so-can-bo"]
    assert duty.due == date(2026, 9, 15)
    stranger = factories.user(session, role="manager", unit_code="75")
    with pytest.raises(Forbidden):
        mandates.remove_mandate(session, stranger, m.id)
    mandates.remove_mandate(session, manager, m.id)
    [duty] = [d for d in mandates.mandates_for(session, official, today=today) if d.course_id == "chuyen-doi-so-can-bo"]
    assert duty.due == date(2026, 12, 31)  # back to the plan's yearly deadline
