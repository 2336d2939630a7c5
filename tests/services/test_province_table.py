"""The unit -> province table that report figures consult is kept per database (per engine),
never for the whole process: a second LMS in the same process, on another database, gets its own
answers; adding units drops the kept table; the table goes with its engine."""

from __future__ import annotations

import gc
import weakref

from sqlalchemy import Engine, create_engine
from sqlalchemy.orm import Session

from lms.services import units
from lms.store import Base, Unit


def _database(*rows: tuple[str, str | None]) -> Engine:
    engine = create_engine("sqlite://")
    Base.metadata.create_all(engine, tables=[Unit.__table__])  # type: ignore[list-item]
    with Session(engine) as session, session.begin():
        for code, parent in rows:
            session.add(Unit(code=code, name=code, level="commune" if parent else "province", kind="x",
                             parent_code=parent))
    return engine


def test_each_database_has_its_own_table_and_adding_units_drops_it() -> None:
    first = _database(("86", None), ("28756", "86"))
    second = _database(("01", None), ("28756", "01"))  # the same code, elsewhere
    with Session(first) as a, Session(second) as b:
        assert units.province_of(a, "28756") == "86" and units.province_of(a, "86") == "86"
        assert units.province_of(b, "28756") == "01"
        assert units.province_of(a, "99999") is None

        b.add(Unit(code="00004", name="Ba Đình", level="commune", kind="phường", parent_code="01"))
        b.flush()
        assert units.province_of(b, "00004") == "01"  # a code it has not seen: read again

        b.get(Unit, "28756").parent_code = "86"  # type: ignore[union-attr]
        b.flush()
        assert units.province_of(b, "28756") == "01"  # kept...
        units.forget_provinces(b)
        assert units.province_of(b, "28756") == "86"  # ...until dropped
        assert units.province_of(a, "28756") == "86"


def test_the_table_goes_with_its_engine() -> None:
    engine = _database(("86", None))
    with Session(engine) as session:
        assert units.province_of(session, "86") == "86"
    assert engine in units._PROVINCES  # the module's own keeping, looked at from outside
    gone = weakref.ref(engine)
    engine.dispose()
    del engine, session
    gc.collect()
    assert gone() is None  # the kept table did not keep the engine (nor itself) alive
