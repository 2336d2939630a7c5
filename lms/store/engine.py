"""Engines for SQLite (embedded default) and PostgreSQL (production).

SQLite runs in WAL mode with a busy timeout. pysqlite's own transaction handling starts
transactions late and cannot take a write lock up front, so we switch it off and emit BEGIN
ourselves: ``BEGIN IMMEDIATE`` when the unit of work intends to write (a request that changes
state, a CLI command), a plain deferred BEGIN for reads. A write transaction that reads first
then never fails halfway with "database is locked".
"""

from __future__ import annotations

import contextlib
import contextvars
import fcntl
import json
import os
import stat
import threading
import weakref
from collections.abc import Callable, Iterator, Sequence
from typing import Any, Protocol, cast

import orjson
from sqlalchemy import Connection, Engine, create_engine, event
from sqlalchemy.orm import Session, SessionTransaction, sessionmaker
from sqlalchemy.pool import QueuePool

__all__ = ["LmsSession", "UnitOfWorkParticipant", "after_commit", "build_sessionmaker", "database_answers", "dead",
           "driver_transaction", "idle", "loads_json", "make_engine", "single_write", "unpinged", "write_intent"]

_WRITE = contextvars.ContextVar("lms_write_intent", default=True)


@contextlib.contextmanager
def write_intent(writes: bool) -> Iterator[None]:
    """Declare whether the transactions begun inside may write (SQLite lock mode)."""
    token = _WRITE.set(writes)
    try:
        yield
    finally:
        _WRITE.reset(token)


# Every digit made "0", every other byte " ": twenty zeros in a row are twenty digits in a row, an
# integer that may not fit in 64 bits, which orjson would read as a float. (A regular expression
# searching for them took longer than the json module's whole parse.)
_DIGITS_TO_ZEROS = bytes(0x30 if 0x30 <= b <= 0x39 else 0x20 for b in range(256))
_LONG_NUMBER = b"0" * 20


def loads_json(text: str | bytes | bytearray | memoryview | float) -> Any:
    """A ``JSON`` column's text parsed (the engines' ``json_deserializer``; lms.store.direct for
    the driver's own reads). orjson, about twice as fast as the json module the drivers use by
    default: on PostgreSQL an autosave that reaches a worker which did not draw its attempt reads
    and parses the attempt's layout, a few kilobytes (issue 14). The json module reads what orjson
    refuses (NaN, Infinity, a lone surrogate) and, so that no integer becomes a float, any text
    with twenty digits in a row. A number is given back as it is: SQLite's numeric affinity stores
    a bare number's text as a number."""
    if isinstance(text, int | float):
        return text
    data = text.encode() if isinstance(text, str) else bytes(text)
    if _LONG_NUMBER not in data.translate(_DIGITS_TO_ZEROS):
        try:
            return orjson.loads(data)
        except orjson.JSONDecodeError:
            pass
    return json.loads(data)


def make_engine(url: str, **kwargs: Any) -> Engine:
    kwargs.setdefault("json_deserializer", loads_json)
    if url.startswith("sqlite"):
        if url not in ("sqlite://", "sqlite:///:memory:"):
            _ensure_parent(url)
            # Connections are kept: opening one and setting its pragmas cost more than the
            # whole of a cached page (profiled: ~1 ms of a 2 ms /healthz). One per thread of a
            # worker is enough (gthread workers may have several); overflow covers job threads.
            kwargs.setdefault("poolclass", QueuePool)
            kwargs.setdefault("pool_size", 8)
            kwargs.setdefault("max_overflow", 16)
        engine = create_engine(url, connect_args={"timeout": 30, "check_same_thread": False}, **kwargs)
        _forget_pool_after_fork(engine)

        @event.listens_for(engine, "connect")
        def _on_connect(dbapi_conn: Any, _record: Any) -> None:
            dbapi_conn.isolation_level = None  # we emit BEGIN ourselves, below
            cur = dbapi_conn.cursor()
            cur.execute("PRAGMA journal_mode=WAL")
            cur.execute("PRAGMA busy_timeout=30000")
            cur.execute("PRAGMA foreign_keys=ON")
            cur.execute("PRAGMA synchronous=NORMAL")
            cur.close()

        gate = _GATES[engine] = _WriterGate(url)

        @event.listens_for(engine, "begin")
        def _on_begin(conn: Any) -> None:
            # on the driver: through exec_driver_sql, SQLAlchemy's execution path cost more
            # than the BEGIN itself (issue 14)
            if _WRITE.get():
                gate.enter(conn.connection.dbapi_connection)
                conn.connection.dbapi_connection.execute("BEGIN IMMEDIATE")
            else:
                conn.connection.dbapi_connection.execute("BEGIN")

        @event.listens_for(engine, "commit")
        def _on_commit(conn: Any) -> None:
            if gate.held(conn.connection.dbapi_connection):
                try:  # commit now, so that the next writer never finds the database still locked
                    conn.connection.dbapi_connection.commit()
                finally:
                    gate.leave(conn.connection.dbapi_connection)

        @event.listens_for(engine, "rollback")
        def _on_rollback(conn: Any) -> None:
            if gate.held(conn.connection.dbapi_connection):
                try:
                    conn.connection.dbapi_connection.rollback()
                finally:
                    gate.leave(conn.connection.dbapi_connection)

        return engine
    kwargs.setdefault("pool_pre_ping", True)
    engine = create_engine(url, **kwargs)
    _forget_pool_after_fork(engine)
    return engine


_UNPINGED: weakref.WeakKeyDictionary[Engine, Engine] = weakref.WeakKeyDictionary()
_UNPINGED_LOCK = threading.Lock()


def unpinged(engine: Engine) -> Engine:
    """Where the quiz's hot path takes its driver connections (lms.store.direct.driver): on
    PostgreSQL, a small pool of its own to the same database that does not ping a connection at
    every checkout. The ping is a round trip of its own: a sixth of an autosave's, and half of
    ``/healthz`` (issue 14). A connection that died unnoticed raises at its first statement; the
    caller drops it (:func:`dead`) and answers another way (the attempt lane hands the request to
    Flask's view, whose session's pool pings). Its connections are in autocommit mode, each
    statement a transaction of its own, as SQLite's driver connections are outside a write
    transaction: psycopg would otherwise send BEGIN before a statement that stands alone, and
    switching the mode per request cost about 5% of an autosave's CPU. :func:`driver_transaction`
    begins and commits a write transaction on them itself. On SQLite, which has no round trip to
    save, the engine itself."""
    if engine.dialect.name == "sqlite":
        return engine
    with _UNPINGED_LOCK:
        lean = _UNPINGED.get(engine)
        if lean is None:
            lean = _UNPINGED[engine] = make_engine(engine.url.render_as_string(hide_password=False),
                                                   pool_pre_ping=False, pool_size=4, max_overflow=12,
                                                   isolation_level="AUTOCOMMIT")
            event.listen(engine, "engine_disposed", _dispose_too(lean))
        return lean


def _dispose_too(lean: Engine) -> Callable[[Engine], None]:
    """The engine's own pool disposed: its unpinged one closes its connections too, except in a
    forked child (the engine's fork hook disposes it there, keeping the parent's connections
    open): those belong to the parent."""
    owner = [os.getpid()]

    def _disposed(_engine: Engine) -> None:
        here = os.getpid()
        lean.dispose(close=here == owner[0])
        owner[0] = here
    return _disposed


def idle(dbapi: Any) -> bool:
    """Whether a driver connection has no transaction open (sqlite3's ``in_transaction``,
    psycopg's transaction status), so that it may be lent again as it is."""
    info = getattr(dbapi, "info", None)
    if info is not None:  # psycopg
        return bool(info.transaction_status == info.transaction_status.IDLE)
    return not dbapi.in_transaction


def dead(dbapi: Any) -> bool:
    """Whether a driver connection can no longer be used (psycopg's ``closed`` or ``broken``:
    the server went away): it must be invalidated, not put back in its pool."""
    return bool(getattr(dbapi, "closed", False) or getattr(dbapi, "broken", False))


def database_answers(engine: Engine) -> bool:
    """``SELECT 1`` on a pooled connection, outside the ORM (``/healthz``): on PostgreSQL first on
    :func:`unpinged`'s pool, one round trip; a connection of it found dead is dropped and the
    engine's own pool, which pings, asked. False when neither answers."""
    return any(_selects_one(pool) for pool in dict.fromkeys((unpinged(engine), engine)))


def _selects_one(pool: Engine) -> bool:
    try:
        raw = pool.raw_connection()
    except Exception:  # the check reports the failure instead of raising it
        return False
    dbapi: Any = raw.driver_connection
    # else psycopg adds BEGIN, and the pool a ROLLBACK: 3 round trips (unpinged()'s are in autocommit already)
    autocommit = pool.dialect.name == "postgresql" and not dbapi.autocommit
    try:
        if autocommit:
            dbapi.autocommit = True
        cursor = raw.cursor()
        cursor.execute("SELECT 1")
        cursor.fetchall()
        cursor.close()
        if autocommit:
            dbapi.autocommit = False
    except Exception:
        if dead(dbapi):
            raw.invalidate()
        else:
            raw.close()
        return False
    raw.close()  # back to the pool
    return True


def _forget_pool_after_fork(engine: Engine) -> None:
    """A forked child (a gunicorn worker of a --preload master, a job process) must not share
    the parent's pooled connections: it starts with a pool of its own."""

    ref = weakref.ref(engine)

    def _child() -> None:
        live = ref()
        if live is not None:
            live.dispose(close=False)

    os.register_at_fork(after_in_child=_child)


class _WriterGate:
    """Writers to one SQLite file queue on an exclusive lock of a file beside it before BEGIN
    IMMEDIATE. SQLite itself makes a writer that finds the database locked sleep and retry
    (1, 2, 5 ... 100 ms): under 16 learners autosaving through 2 workers of 4 threads, those
    sleeps were most of an autosave's time. flock() wakes the next writer the moment the last
    one commits, across threads (the lock file is opened once per thread and locked and unlocked
    per transaction) and processes (workers, CLI commands, job runners) alike. A thread already
    writing through another connection does not wait on itself: it falls back to SQLite's busy
    timeout, as before. Keyed by DBAPI connection: sessions' transactions and
    :func:`driver_transaction` pass the same gate."""

    def __init__(self, url: str) -> None:
        path = url.split("///", 1)[-1].split("?", 1)[0]
        self.path = f"{path}-writer.lock" if path and path != ":memory:" else None
        self._held: dict[int, int] = {}  # id(dbapi connection) -> this thread's lock file
        self._threads: set[int] = set()
        self._lock = threading.Lock()
        self._files = threading.local()
        ref = weakref.ref(self)

        def _child() -> None:  # a forked child opens lock files of its own: flock is per open file
            gate = ref()
            if gate is not None:
                gate._files = threading.local()
                gate._held.clear()
                gate._threads.clear()

        os.register_at_fork(after_in_child=_child)

    def enter(self, dbapi: Any) -> None:
        if self.path is None:
            return
        me = threading.get_ident()
        with self._lock:
            if me in self._threads:
                return
        fd = getattr(self._files, "fd", None)
        if fd is None:
            fd = self._files.fd = os.open(self.path, os.O_RDWR | os.O_CREAT, 0o600)
        fcntl.flock(fd, fcntl.LOCK_EX)  # releases the GIL while it waits
        with self._lock:
            self._held[id(dbapi)] = fd
            self._threads.add(me)

    def held(self, dbapi: Any) -> bool:
        return self.path is not None and id(dbapi) in self._held

    def leave(self, dbapi: Any) -> None:
        with self._lock:
            fd = self._held.pop(id(dbapi), None)
            self._threads.discard(threading.get_ident())
        if fd is not None:
            fcntl.flock(fd, fcntl.LOCK_UN)


_GATES: weakref.WeakKeyDictionary[Engine, _WriterGate] = weakref.WeakKeyDictionary()


@contextlib.contextmanager
def driver_transaction(engine: Engine, dbapi: Any) -> Iterator[None]:
    """A write transaction on ``dbapi``, a driver connection checked out of ``engine``'s pool,
    without SQLAlchemy's transaction machinery (lms.store.direct.Driver, for the quiz's autosave:
    issue 14). On SQLite it passes the same writer gate and begins with the same BEGIN IMMEDIATE as
    a session's write transaction. The driver connections of both databases are in autocommit mode
    (SQLite's ``isolation_level`` None, :func:`unpinged`'s on PostgreSQL): it sends BEGIN, and
    COMMIT when the block ends, or ROLLBACK when it raises."""
    gate = _GATES.get(engine)
    if gate is not None:
        gate.enter(dbapi)
    try:
        dbapi.execute("BEGIN IMMEDIATE" if gate is not None else "BEGIN")
        try:
            yield
        except BaseException:
            if not dead(dbapi) and not idle(dbapi):
                dbapi.execute("ROLLBACK")
            raise
        dbapi.execute("COMMIT")
    finally:
        if gate is not None:
            gate.leave(dbapi)


@contextlib.contextmanager
def single_write(engine: Engine, dbapi: Any) -> Iterator[None]:
    """One write statement on ``dbapi`` in autocommit mode, a transaction of its own (the quiz's
    autosave: lms.store.direct.Driver.single_write): on SQLite it passes the same writer gate as a
    write transaction, for that statement alone, which SQLite commits when its last row is read.
    Nothing to do on PostgreSQL."""
    gate = _GATES.get(engine)
    if gate is None:
        yield
        return
    gate.enter(dbapi)
    try:
        yield
    finally:
        gate.leave(dbapi)


def _ensure_parent(url: str) -> None:
    """The database file holds password hashes and personal data: its folder is made 0700 and
    the file 0600 before SQLite first opens it (SQLite gives its -wal and -shm files the same
    mode), so other users of the machine can read neither, at no moment."""
    from pathlib import Path

    path = url.split("///", 1)[-1].split("?", 1)[0]
    if not path or path.startswith("file:"):
        return
    file = Path(path)
    if not file.parent.exists():
        file.parent.mkdir(mode=0o700, parents=True, exist_ok=True)
    try:
        os.close(os.open(file, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600))
    except FileExistsError:
        _tighten(file, 0o600)


def _tighten(path: Any, mode: int) -> None:
    """Take away the group's and others' rights on a file or folder we own (an older install
    may have made it with the umask's defaults); someone else's file is left as it is."""

    try:
        st = os.stat(path)
        if st.st_uid == os.getuid() and stat.S_IMODE(st.st_mode) & 0o077:
            os.chmod(path, stat.S_IMODE(st.st_mode) & mode)
    except OSError:
        pass


class UnitOfWorkParticipant(Protocol):
    """Something kept in step with a session's transaction (the summary figures): told of every
    flush, asked to settle before the outermost commit, told when the outermost transaction is
    rolled back."""

    def flushed(self, session: Session) -> None: ...

    def settle(self, session: Session) -> None: ...

    def forget(self, session: Session) -> None: ...


_AFTER_COMMIT = "lms.uow.after_commit"


class LmsSession(Session):
    """The LMS's own session class: the unit of work. Sessions made by :func:`build_sessionmaker`
    (a subclass of this per sessionmaker) settle their participants before each commit and run the
    callbacks given to :func:`after_commit` once the outermost transaction has committed. Nothing
    listens on this class or on SQLAlchemy's ``Session`` itself: a host site's own sessions in the
    same process, and a bare ``LmsSession``, run none of it."""

    participants: tuple[UnitOfWorkParticipant, ...] = ()
    unit_of_work: bool = False  # True on the classes build_sessionmaker makes


def after_commit(session: Session, callback: Callable[[], object], *, key: str | None = None) -> None:
    """Run ``callback`` once this session's outermost transaction has committed (never on a
    rollback, never when a savepoint is released): work for after the rows are visible to others
    (queue a job, start a thread, wake a sender). A ``key`` already waiting is not added again."""
    if not getattr(session, "unit_of_work", False):
        raise TypeError("after_commit needs a session from the LMS's sessionmaker (build_sessionmaker)")
    waiting: dict[object, Callable[[], object]] = session.info.setdefault(_AFTER_COMMIT, {})
    waiting.setdefault(key if key is not None else object(), callback)


def build_sessionmaker(bind: Engine | Connection, *, participants: Sequence[UnitOfWorkParticipant],
                       **kwargs: Any) -> sessionmaker[Session]:
    """The LMS's sessionmaker, with its unit of work wired in here, explicitly, on this maker's own
    session class: ``participants`` hear of flushes, settle before commit and forget on rollback;
    :func:`after_commit` callbacks run after the outermost commit. Services build it through
    ``lms.services.unit_of_work.make_sessionmaker``, which names the participants."""
    kwargs.setdefault("expire_on_commit", False)
    maker = sessionmaker(bind=bind, class_=LmsSession, **kwargs)
    session_class = cast("type[LmsSession]", maker.class_)  # sessionmaker's own subclass of LmsSession
    session_class.participants = tuple(participants)
    session_class.unit_of_work = True
    event.listen(session_class, "after_flush", _flushed)
    event.listen(session_class, "before_commit", _before_commit)
    event.listen(session_class, "after_commit", _after_commit)
    event.listen(session_class, "after_soft_rollback", _after_rollback)
    # Typed as plain Session for callers; the instances are LmsSession.
    return cast("sessionmaker[Session]", maker)


def _participants(session: Session) -> tuple[UnitOfWorkParticipant, ...]:
    return cast("tuple[UnitOfWorkParticipant, ...]", getattr(session, "participants", ()))


def _flushed(session: Session, _flush_context: Any) -> None:
    for participant in _participants(session):
        participant.flushed(session)


def _before_commit(session: Session) -> None:
    for participant in _participants(session):
        participant.settle(session)


def _after_commit(session: Session) -> None:
    if session.in_nested_transaction():  # a savepoint released: nothing is committed yet
        return
    for callback in session.info.pop(_AFTER_COMMIT, {}).values():
        callback()


def _after_rollback(session: Session, previous: SessionTransaction) -> None:
    if previous.nested:  # a savepoint rolled back: what was marked before it still stands
        return
    session.info.pop(_AFTER_COMMIT, None)
    for participant in _participants(session):
        participant.forget(session)


def set_write_intent(writes: bool) -> contextvars.Token[bool]:
    return _WRITE.set(writes)


def reset_write_intent(token: contextvars.Token[bool]) -> None:
    try:
        _WRITE.reset(token)
    except ValueError:  # reset from another context: nothing to undo there
        pass
