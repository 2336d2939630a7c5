"""Administrative units (provinces and communes) from the package's copy of the NSO list."""

from __future__ import annotations

import csv
from importlib import resources

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from lms.domain.text import nfc
from lms.store import Unit

__all__ = ["communes_of", "ensure_units", "find_unit", "provinces", "unit_and_descendants", "unit_names", "units_in"]


def _rows() -> list[dict[str, str]]:
    text = resources.files("lms").joinpath("data/admin_units_2025.csv").read_text(encoding="utf-8")
    return list(csv.DictReader(text.splitlines()))


def ensure_units(session: Session) -> int:
    """Insert any unit missing from the database. Idempotent; returns how many were added."""
    rows = _rows()
    wanted: dict[str, Unit] = {}
    for row in rows:
        pc = row["province_code"]
        if pc not in wanted:
            wanted[pc] = Unit(code=pc, name=nfc(row["province_name"]), level="province",
                              kind=row["province_type"], parent_code=None)
    for row in rows:
        wanted[row["commune_code"]] = Unit(code=row["commune_code"], name=nfc(row["commune_name"]),
                                           level="commune", kind=row["commune_type"],
                                           parent_code=row["province_code"])
    have = session.scalar(select(func.count()).select_from(Unit)) or 0
    if have >= len(wanted):
        return 0
    existing = set(session.scalars(select(Unit.code)))
    provinces = [u for u in wanted.values() if u.level == "province" and u.code not in existing]
    communes = [u for u in wanted.values() if u.level == "commune" and u.code not in existing]
    session.add_all(provinces)
    session.flush()
    session.add_all(communes)
    session.flush()
    return len(provinces) + len(communes)


def find_unit(session: Session, code: str) -> Unit | None:
    return session.get(Unit, code.strip())


def unit_and_descendants(session: Session, code: str) -> list[str]:
    """The unit's code and, for a province, the codes of its communes."""
    unit = session.get(Unit, code)
    if unit is None:
        return []
    if unit.level == "province":
        return [code, *session.scalars(select(Unit.code).where(Unit.parent_code == code))]
    return [code]


def provinces(session: Session) -> list[Unit]:
    return list(session.scalars(select(Unit).where(Unit.level == "province").order_by(Unit.name)))


def communes_of(session: Session, province_code: str) -> list[Unit]:
    return list(session.scalars(select(Unit).where(Unit.parent_code == province_code).order_by(Unit.name)))


def units_in(session: Session, codes: list[str]) -> list[Unit]:
    return list(session.scalars(select(Unit).where(Unit.code.in_(codes))))


def unit_names(session: Session, codes: list[str]) -> dict[str, str]:
    """Code → name of the given units (unknown codes are left out)."""
    return dict(session.execute(select(Unit.code, Unit.name).where(Unit.code.in_(codes))).tuples().all())
