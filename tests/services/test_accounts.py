from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from lms.services import accounts
from lms.services.errors import Conflict, Invalid
from lms.services.units import ensure_units, unit_and_descendants
from lms.store import Unit, User
from tests import factories
from tests.factories import now


def _reg(**over: object) -> dict[str, object]:
    data: dict[str, object] = {"full_name": "Đặng Quỳnh Như", "login": "nhu@example.vn",
                               "password": "Mat-khau-2026!", "birth_year": 1970, "unit_code": "28756"}
    data.update(over)
    return data


def test_units_are_loaded_once(session: Session) -> None:
    assert session.scalar(select(func.count()).select_from(Unit).where(Unit.level == "province")) == 34
    assert session.scalar(select(func.count()).select_from(Unit).where(Unit.level == "commune")) == 3321
    assert ensure_units(session) == 0
    vinh_long = unit_and_descendants(session, "86")
    assert len(vinh_long) == 125 and "28756" in vinh_long


def test_registration_stores_a_citizen_with_a_hashed_password(session: Session) -> None:
    user = accounts.register_citizen(session, _reg(), now=now())
    assert user.role == "citizen" and user.unit_code == "28756" and user.consent_at is not None
    assert "Mat-khau" not in user.password_hash and user.password_hash.startswith("scrypt:")
    assert accounts.authenticate(session, " NHU@example.vn ", "Mat-khau-2026!") == user
    assert accounts.authenticate(session, "nhu@example.vn", "wrong-password") is None


def test_registration_refuses_unknown_unit_and_taken_login(session: Session) -> None:
    with pytest.raises(Invalid) as bad_unit:
        accounts.register_citizen(session, _reg(unit_code="99999"), now=now())
    assert bad_unit.value.fields == {"unit_code": "unit_code.unknown"}
    accounts.register_citizen(session, _reg(), now=now())
    with pytest.raises(Conflict) as taken:
        accounts.register_citizen(session, _reg(login="Nhu@Example.vn"), now=now())
    assert taken.value.fields == {"login": "login.taken"}
    assert session.scalar(select(func.count()).select_from(User).where(User.login == "nhu@example.vn")) == 1


def test_tokens_expire_and_can_be_revoked(session: Session) -> None:
    user = factories.user(session)
    t0 = now()
    raw, _ = accounts.issue_token(session, user, now=t0, lifetime=timedelta(hours=1))
    assert accounts.resolve_token(session, raw, now=t0) == user
    assert accounts.resolve_token(session, raw, now=t0 + timedelta(hours=2)) is None
    assert accounts.resolve_token(session, raw + "x", now=t0) is None
    assert accounts.revoke_token(session, raw, now=t0) is True
    assert accounts.resolve_token(session, raw, now=t0) is None


def test_password_change_revokes_tokens(session: Session) -> None:
    user = factories.user(session)
    raw, _ = accounts.issue_token(session, user, now=now(), lifetime=timedelta(days=1))
    accounts.change_password(session, user, "Mat-khau-moi-2027")
    assert accounts.resolve_token(session, raw, now=now()) is None
    assert accounts.authenticate(session, user.login, "Mat-khau-moi-2027") == user


def test_create_user_validates_role_password_and_unit(session: Session) -> None:
    with pytest.raises(Invalid) as exc:
        accounts.create_user(session, role="king", login="x@example.vn", password="short", unit_code="00000",
                             now=now())
    assert exc.value.fields == {"role": "role.unknown", "password": "password.too_short",
                                "unit_code": "unit_code.unknown"}


def test_the_quiz_apis_token_check_agrees_with_the_full_one(session: Session) -> None:
    """accounts.token_holder (the attempt API's light check, issue 14) refuses exactly what
    resolve_token refuses: revoked, expired, an inactive account, credentials changed since."""
    from lms.store import ApiToken

    at = now()

    def both(raw: str, when=at) -> tuple[object, object]:
        full = accounts.resolve_token(session, raw, now=when)
        light = accounts.token_holder(session, raw, now=when)
        return (full.id if full else None), (light.id if light else None)

    user = factories.user(session)
    raw = factories.token(session, user)
    session.flush()
    assert both(raw) == (user.id, user.id)
    assert accounts.token_holder(session, raw, now=at).login == user.login
    assert both("not-a-token") == (None, None)
    assert both(raw, at + timedelta(days=2)) == (None, None)  # expired
    accounts.revoke_token(session, raw, now=at)
    assert both(raw) == (None, None)
    second = factories.token(session, user)
    session.flush()
    user.is_active = False
    session.flush()
    assert both(second) == (None, None)
    user.is_active = True
    accounts.change_password(session, user, "Mat-khau-moi-2026!x")
    assert both(second) == (None, None)
    third = factories.token(session, user)
    session.flush()
    assert both(third) == (user.id, user.id)
    assert session.query(ApiToken).count() == 3
