"""Statements run straight on the database driver, inside a session's transaction.

The quiz's hot path (a bearer check, an autosave, starting and grading an attempt) runs a handful
of small indexed statements per request. Through SQLAlchemy each one cost 60-300 µs of Python
(building or looking up the compiled statement, result processing, the ORM's identity map),
against 5-15 µs for the same SQL on the driver (bench/README.md, issue 14). Here a statement is
written once as SQL with ``:name`` parameters, turned into the driver's parameter style once per
dialect, and executed on the DBAPI connection that the session's transaction already holds, so
it joins that transaction (and SQLite's write lock, or PostgreSQL's row locks) like any other.

Values cross the driver as SQLAlchemy's column types store them: :func:`stamp` and
:func:`read_stamp` for ``UTCDateTime`` (SQLite keeps text in SQLAlchemy's format, PostgreSQL
``timestamptz``), :func:`dump_json` and :func:`read_json` for ``JSON``.
"""

from __future__ import annotations

import contextlib
import json
import os
import re
import threading
import weakref
from collections.abc import Iterator
from datetime import UTC, datetime
from typing import Any

import orjson
from sqlalchemy import Engine, event
from sqlalchemy.orm import Session

from lms.store.engine import dead, driver_transaction, idle, loads_json, single_write, unpinged

__all__ = ["Driver", "On", "SessionNeeded", "Sql", "database_key", "dialect_of", "driver", "dump_json", "execute",
           "name", "read_json", "read_stamp", "row_apart", "stamp"]

_NAMED = re.compile(r"(?<![:\w]):(\w+)")


class Sql:
    """One statement, written with ``:name`` parameters (SQLite's own style); PostgreSQL's
    driver gets ``%(name)s``. Write a variant per dialect where the SQL itself differs. Values go
    in parameters, never in the text: ``:word`` inside a quoted literal would be taken for one."""

    __slots__ = ("_texts",)

    def __init__(self, sql: str, *, postgresql: str | None = None) -> None:
        if "%" in sql or (postgresql and "%" in postgresql):
            raise ValueError("no % in direct SQL: psycopg would read it as a placeholder")
        self._texts = {"sqlite": sql, "postgresql": _NAMED.sub(r"%(\1)s", postgresql or sql)}

    def text(self, dialect: str) -> str:
        return self._texts[dialect]


_NAME = re.compile(r":?[A-Za-z_]\w*(\.[A-Za-z_]\w*)?")


def name(reference: str) -> str:
    """``reference`` when it is a parameter (``:user``) or a column (``a.user_id``), for SQL
    fragments written once by one module and put in another's statement; anything else is refused."""
    if not _NAME.fullmatch(reference):
        raise ValueError(f"not a parameter or column name: {reference!r}")
    return reference


class Driver:
    """A pooled driver connection used without a session (:func:`driver`): statements of this
    module run on it in autocommit mode, each a transaction of its own (on PostgreSQL no BEGIN and
    COMMIT round trips around a statement that stands alone: lms.store.engine.unpinged), until
    :meth:`writing` begins a write transaction. For the quiz's autosave, where a session's
    transaction cost more than the autosave's own statements (issue 14)."""

    __slots__ = ("connection", "dialect", "engine")

    def __init__(self, engine: Engine, connection: Any) -> None:
        self.engine, self.connection, self.dialect = engine, connection, engine.dialect.name

    def single_write(self) -> contextlib.AbstractContextManager[None]:
        """One write statement of the block, outside :meth:`writing` (autocommit), that stands alone
        (lms.store.engine.single_write: SQLite's writer gate for just that statement). Read all
        its rows inside the block: SQLite commits when the last is read."""
        return single_write(self.engine, self.connection)

    def writing(self) -> contextlib.AbstractContextManager[None]:
        """The write transaction (lms.store.engine.driver_transaction): committed when the block
        ends, rolled back when it raises."""
        return driver_transaction(self.engine, self.connection)


class SessionNeeded(Exception):
    """Raised by a use case given a :class:`Driver` when this case needs a session (the ORM):
    the caller rolls back and runs it again with one."""


On = Session | Driver
"""Where a statement runs: in a session's transaction, or on a :class:`Driver`."""


class _Spares:
    """Driver connections kept between uses, in front of the pool: SQLAlchemy's checkout and
    checkin (its queue, the connection's record, the reset on return) cost about 7% of a quiz
    request's CPU on SQLite and a tenth of an autosave's on PostgreSQL (issue 14). One comes back
    here only when it is idle (no transaction open) and its block raised nothing; at most
    :data:`SIZE` per pool (a thread of a worker each); a forked child keeps none of its parent's,
    and a disposed engine's are closed."""

    SIZE = 4

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._kept: weakref.WeakKeyDictionary[Engine, list[Any]] = weakref.WeakKeyDictionary()
        self._on_disposed = self._disposed  # one listener object, so it is registered once per engine
        os.register_at_fork(after_in_child=self._forget)

    def take(self, pool: Engine) -> Any:
        with self._lock:
            kept = self._kept.get(pool)
            return kept.pop() if kept else None

    def give(self, pool: Engine, pooled: Any) -> bool:
        with self._lock:
            kept = self._kept.get(pool)
            if kept is None:
                kept = self._kept[pool] = []
                weakref.finalize(pool, _close_all, kept)  # an engine dropped undisposed (tests): closed too
                if not event.contains(pool, "engine_disposed", self._on_disposed):
                    event.listen(pool, "engine_disposed", self._on_disposed)
            if len(kept) >= self.SIZE:
                return False
            kept.append(pooled)
            return True

    def _disposed(self, pool: Engine) -> None:
        with self._lock:
            kept = self._kept.get(pool, [])
            lent, kept[:] = list(kept), []
        _close_all(lent)

    def _forget(self) -> None:
        # the parent's connections: never used here, and not closed (the parent still has them)
        self._lock = threading.Lock()
        self._kept = weakref.WeakKeyDictionary()


def _close_all(kept: list[Any]) -> None:
    while kept:
        kept.pop().invalidate()  # closes it: given back to a disposed pool, it would stay open


_SPARES = _Spares()


@contextlib.contextmanager
def driver(engine: Engine) -> Iterator[Driver]:
    """A driver connection lent for the block: the one the last block gave back, else one checked
    out of the pool (on PostgreSQL a pool that does not ping at checkout: lms.store.engine.unpinged;
    a connection that died unnoticed raises here, and is dropped rather than put back)."""
    pool = unpinged(engine)
    pooled = _SPARES.take(pool) or pool.raw_connection()
    dbapi: Any = pooled.driver_connection
    try:
        yield Driver(engine, dbapi)
    except BaseException:
        if dead(dbapi):
            pooled.invalidate()
        else:
            pooled.close()
        raise
    if not (idle(dbapi) and _SPARES.give(pool, pooled)):
        pooled.close()


def dialect_of(on: On) -> str:
    if isinstance(on, Driver):
        return on.dialect
    bind = on.bind if on.bind is not None else on.get_bind()
    return bind.dialect.name


def database_key(on: On | Engine) -> str:
    """Which database: the engine's URL as text (what per-worker caches of rows are keyed by),
    rendered once per engine: SQLAlchemy's URL hashes by rendering itself anew every time."""
    if isinstance(on, Driver):
        engine = on.engine
    elif isinstance(on, Engine):
        engine = on
    else:
        bind = on.bind if on.bind is not None else on.get_bind()
        engine = bind.engine
    key = _KEYS.get(engine)
    if key is None:
        key = _KEYS[engine] = engine.url.render_as_string(hide_password=True)
    return key


_KEYS: weakref.WeakKeyDictionary[Engine, str] = weakref.WeakKeyDictionary()


def execute(on: On, statement: Sql, params: dict[str, Any] | None = None) -> Any:
    """Run ``statement`` in the session's transaction (beginning it, as any query would), or on
    the driver connection, and return the driver's cursor: ``fetchone()``, ``fetchall()``,
    ``rowcount``."""
    if isinstance(on, Driver):
        driver_connection, dialect = on.connection, on.dialect
    else:
        driver_connection, dialect = _driver(on)
    cursor = driver_connection.cursor()
    cursor.execute(statement.text(dialect), params or {})
    return cursor


def row_apart(session: On, statement: Sql, params: dict[str, Any] | None = None) -> Any:
    """The first row a read gives, read before the session's transaction begins when it has not:
    on SQLite a request that writes holds the database's one write lock from its BEGIN IMMEDIATE to
    its commit, and what it reads first (the bearer token, the quiz's version) need not hold it. On
    a pooled connection in SQLite's autocommit mode the read is a transaction of its own (WAL: it
    waits for no writer). Inside a transaction already begun, or on PostgreSQL (whose writers lock
    rows, not the database), it joins the session's transaction. On a :class:`Driver`, it runs
    there: before :meth:`Driver.writing`, apart."""
    if isinstance(session, Driver):
        return execute(session, statement, params).fetchone()
    bind = session.bind if session.bind is not None else session.get_bind()
    if not isinstance(bind, Engine) or bind.dialect.name != "sqlite" or session.in_transaction():
        return execute(session, statement, params).fetchone()  # (a session bound to one connection: tests)
    pooled = bind.raw_connection()
    try:
        cursor = pooled.cursor()
        cursor.execute(statement.text("sqlite"), params or {})
        row = cursor.fetchone()
        cursor.close()
    finally:
        pooled.close()  # back to the pool
    return row


_DRIVER = "lms.direct.driver"


def _driver(session: Session) -> tuple[Any, str]:
    """The DBAPI connection of the session's transaction, kept on the session for as long as that
    transaction lasts (asking the session for its connection costs more than a statement)."""
    transaction = session.get_transaction()
    kept = session.info.get(_DRIVER)
    if transaction is not None and kept is not None and kept[0] is transaction:
        return kept[1], kept[2]
    connection = session.connection()
    driver = connection.connection.dbapi_connection
    session.info[_DRIVER] = (session.get_transaction(), driver, connection.dialect.name)
    return driver, connection.dialect.name


def stamp(moment: datetime, dialect: str) -> Any:
    """A ``UTCDateTime`` value as the driver stores it."""
    if moment.tzinfo is None:
        raise ValueError("naive datetime given to a UTC column")
    if moment.tzinfo is not UTC:
        moment = moment.astimezone(UTC)
    if dialect == "sqlite":  # SQLAlchemy's SQLite DATETIME text, "%Y-%m-%d %H:%M:%S.%f" (strftime: 3x slower)
        return moment.replace(tzinfo=None).isoformat(" ", "microseconds")
    return moment


def read_stamp(value: Any) -> datetime | None:
    """A ``UTCDateTime`` column as the driver gives it back: an aware UTC datetime."""
    if value is None:
        return None
    if isinstance(value, str):
        value = datetime.fromisoformat(value)
    assert isinstance(value, datetime)
    return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)


def dump_json(value: Any) -> str:
    """A ``JSON`` column's value as text (psycopg sends text of unknown type, which PostgreSQL
    reads as json). orjson: a few times faster than the json module on an attempt's layout
    (issue 14); what orjson refuses (an integer past 64 bits, NaN) the json module writes, as
    SQLAlchemy would."""
    try:
        return orjson.dumps(value).decode()
    except (orjson.JSONEncodeError, TypeError):
        return json.dumps(value)


def read_json(value: Any, dialect: str) -> Any:
    """A ``JSON`` column as the driver gives it back: parsed on PostgreSQL (where a JSON string
    comes back as a str, so the dialect decides, not the value's type); text on SQLite, except a
    bare number, which the column's numeric affinity stored as a number."""
    if dialect != "sqlite" or not isinstance(value, str | bytes):
        return value
    return loads_json(value)
