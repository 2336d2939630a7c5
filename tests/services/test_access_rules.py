"""lms.services.access is the one place that says who may open which pages and see which units;
the web layer's decorators, the layout's menu ("may") and the services ask it. The stored role
strings and the Role enum stay the same thing."""

from __future__ import annotations

import pytest
from sqlalchemy.orm import Session

from lms.domain.accounts import ROLES
from lms.services import access
from lms.store import AttemptStatus, JobKind, JobStatus, PdfStatus, QuizKind, Role, User
from tests import factories

PROVINCE, COMMUNE, OTHER_PROVINCE = "86", "28756", "01"

# role -> (may_open_reports, can_author, may_edit_lessons, is_admin, has_duties)
OPENS = {
    "citizen": (False, False, False, False, False),
    "official": (False, False, False, False, True),
    "trainer": (False, True, True, False, False),
    "manager": (True, True, False, False, False),
    "admin": (True, True, True, True, False),
}


@pytest.mark.parametrize("role", sorted(OPENS))
def test_who_opens_which_pages(session: Session, role: str) -> None:
    user = factories.user(session, role=role, unit_code=PROVINCE)
    got = (access.may_open_reports(user), access.can_author(user), access.may_edit_lessons(user),
           access.is_admin(user), access.has_duties(user))
    assert got == OPENS[role]
    assert not any((access.may_open_reports(None), access.can_author(None), access.may_edit_lessons(None),
                    access.is_admin(None), access.has_duties(None)))


def test_a_manager_sees_their_unit_and_its_communes(session: Session) -> None:
    province = factories.user(session, role="manager", unit_code=PROVINCE)
    commune = factories.user(session, role="manager", unit_code=COMMUNE)
    trainer = factories.user(session, role="trainer", unit_code=PROVINCE)
    admin = factories.user(session, role="admin", unit_code=None)
    assert access.can_see_unit(session, province, COMMUNE) and access.can_see_unit(session, province, PROVINCE)
    assert not access.can_see_unit(session, province, OTHER_PROVINCE)
    assert access.can_see_unit(session, commune, COMMUNE) and not access.can_see_unit(session, commune, PROVINCE)
    assert not access.can_see_unit(session, trainer, PROVINCE)
    assert access.can_see_unit(session, admin, OTHER_PROVINCE)
    assert access.unit_scope(session, province, PROVINCE)[0] == PROVINCE
    assert COMMUNE in access.unit_scope(session, province, PROVINCE)


def test_who_hands_out_a_first_password_code(session: Session) -> None:
    manager = factories.user(session, role="manager", unit_code=PROVINCE)
    official = factories.user(session, role="official", unit_code=COMMUNE)
    faraway = factories.user(session, role="official", unit_code=OTHER_PROVINCE)
    other_manager = factories.user(session, role="manager", unit_code=COMMUNE)
    assert access.can_hand_out_setup_code(session, None, official)  # the operator at the command line
    assert access.can_hand_out_setup_code(session, manager, official)
    assert not access.can_hand_out_setup_code(session, manager, faraway)
    assert not access.can_hand_out_setup_code(session, manager, other_manager)
    assert not access.can_hand_out_setup_code(session, official, official)
    assert access.can_hand_out_setup_code(session, factories.user(session, role="admin", unit_code=None), faraway)


def test_enums_are_the_stored_strings(session: Session) -> None:
    assert tuple(Role) == ROLES  # one list of roles, in the domain and the store
    user = factories.user(session, role=Role.MANAGER.value)
    session.flush()
    session.expire(user)
    stored = session.get(User, user.id)
    assert stored is not None and stored.role == Role.MANAGER and type(stored.role) is str
    assert {s.value for s in AttemptStatus} == {"in_progress", "submitted"}
    assert {k.value for k in QuizKind} == {"lesson", "practice", "final"}
    assert {s.value for s in PdfStatus} == {"pending", "ready", "failed"}
    assert {s.value for s in JobStatus} == {"queued", "running", "done", "failed"}
    assert {k.value for k in JobKind} == {"quiz_import", "report_export", "certificates_regenerate", "roster_import"}
