"""A small demonstration data set: one account per role (listed in README.md)."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import select
from sqlalchemy.orm import Session

from lms.services.accounts import create_user
from lms.services.errors import Forbidden
from lms.store import CoOwner, Course, Role, User

__all__ = ["DEMO_ACCOUNTS", "seed"]

# login, password, role, name, unit (Vĩnh Long and one of its communes)
DEMO_ACCOUNTS = [
    ("admin@demo.vn", "Demo-2026!", Role.ADMIN, "Quản trị viên", "86"),
    ("quanly@demo.vn", "Demo-2026!", Role.MANAGER, "Trần Thị Quản Lý", "86"),
    ("giangvien@demo.vn", "Demo-2026!", Role.TRAINER, "Lê Văn Giảng", "86"),
    ("canbo@demo.vn", "Demo-2026!", Role.OFFICIAL, "Phạm Minh Cán Bộ", "28756"),
    ("0912345678", "Demo-2026!", Role.CITIZEN, "Nguyễn Thị Hồng Nhung", "28756"),
]


def seed(session: Session, *, now: datetime, production: bool = False) -> int:
    """The demo accounts' passwords are published in README.md: on a production site they would
    be open doors, so there the seed refuses and creates nothing."""
    if production:
        raise Forbidden("demo.production")
    created = 0
    for login, password, role, name, unit in DEMO_ACCOUNTS:
        if session.scalar(select(User.id).where(User.login == login)) is not None:
            continue
        user = create_user(session, role=role, login=login, password=password, full_name=name, unit_code=unit,
                           now=now)
        if role == Role.CITIZEN:
            user.birth_year, user.consent_at = 1958, now
        created += 1
    session.flush()
    _demo_trainer_co_owns_the_courses(session, now=now)
    return created


def _demo_trainer_co_owns_the_courses(session: Session, *, now: datetime) -> None:
    """So that the demo shows the lesson editor: lessons are edited by a course's co-owners."""
    trainer = session.scalar(select(User).where(User.login == "giangvien@demo.vn"))
    if trainer is None:
        return
    have = set(session.scalars(select(CoOwner.object_id).where(CoOwner.object_type == "course",
                                                               CoOwner.user_id == trainer.id)))
    for course_id in session.scalars(select(Course.id)):
        if course_id not in have:
            session.add(CoOwner(object_type="course", object_id=course_id, user_id=trainer.id, granted_at=now))
    session.flush()
