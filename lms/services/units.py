"""Administrative units (provinces and communes) from the package's copy of the NSO list."""

from __future__ import annotations

import csv
import threading
import weakref
from importlib import resources

from sqlalchemy import Engine, func, select
from sqlalchemy.orm import Session

from lms.domain.text import nfc
from lms.store import Unit, UnitLevel

__all__ = ["communes_of", "ensure_units", "find_unit", "forget_provinces", "province_of", "provinces",
           "unit_and_descendants", "unit_names", "units_in"]

# Each LMS database's unit -> province table, read once: units are fixed reference data. Kept per
# engine (the LMS's own: a host site, or a second LMS mounted in the same process, has another),
# so it goes with its engine, and is dropped when units are added (forget_provinces).
_PROVINCES: weakref.WeakKeyDictionary[Engine, dict[str, str]] = weakref.WeakKeyDictionary()
_PROVINCES_LOCK = threading.Lock()


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
            wanted[pc] = Unit(code=pc, name=nfc(row["province_name"]), level=UnitLevel.PROVINCE,
                              kind=row["province_type"], parent_code=None)
    for row in rows:
        wanted[row["commune_code"]] = Unit(code=row["commune_code"], name=nfc(row["commune_name"]),
                                           level=UnitLevel.COMMUNE, kind=row["commune_type"],
                                           parent_code=row["province_code"])
    have = session.scalar(select(func.count()).select_from(Unit)) or 0
    if have >= len(wanted):
        return 0
    existing = set(session.scalars(select(Unit.code)))
    provinces = [u for u in wanted.values() if u.level == UnitLevel.PROVINCE and u.code not in existing]
    communes = [u for u in wanted.values() if u.level == UnitLevel.COMMUNE and u.code not in existing]
    session.add_all(provinces)
    session.flush()
    session.add_all(communes)
    session.flush()
    forget_provinces(session)
    return len(provinces) + len(communes)


def _engine(session: Session) -> Engine:
    return session.get_bind().engine  # an Engine's .engine is itself; a Connection's is its engine


def province_of(session: Session, code: str) -> str | None:
    """The province a unit belongs to (itself, for a province); None for an unknown code. The
    table is read again when a code is missing from it."""
    engine = _engine(session)
    table = _PROVINCES.get(engine)
    if table is None or code not in table:
        table = {unit: parent or unit for unit, parent in session.execute(select(Unit.code, Unit.parent_code))}
        with _PROVINCES_LOCK:
            _PROVINCES[engine] = table
    return table.get(code)


def forget_provinces(session: Session) -> None:
    """Drop the kept province table of the session's database (its units changed)."""
    with _PROVINCES_LOCK:
        _PROVINCES.pop(_engine(session), None)


def find_unit(session: Session, code: str) -> Unit | None:
    return session.get(Unit, code.strip())


def unit_and_descendants(session: Session, code: str) -> list[str]:
    """The unit's code and, for a province, the codes of its communes."""
    unit = session.get(Unit, code)
    if unit is None:
        return []
    if unit.level == UnitLevel.PROVINCE:
        return [code, *session.scalars(select(Unit.code).where(Unit.parent_code == code))]
    return [code]


def provinces(session: Session) -> list[Unit]:
    return list(session.scalars(select(Unit).where(Unit.level == UnitLevel.PROVINCE).order_by(Unit.name)))


def communes_of(session: Session, province_code: str) -> list[Unit]:
    return list(session.scalars(select(Unit).where(Unit.parent_code == province_code).order_by(Unit.name)))


def units_in(session: Session, codes: list[str]) -> list[Unit]:
    return list(session.scalars(select(Unit).where(Unit.code.in_(codes))))


def unit_names(session: Session, codes: list[str]) -> dict[str, str]:
    """Code → name of the given units (unknown codes are left out)."""
    return dict(session.execute(select(Unit.code, Unit.name).where(Unit.code.in_(codes))).tuples().all())
