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
import os
import threading
from collections.abc import Iterator
from typing import Any, cast

from sqlalchemy import Engine, create_engine, event
from sqlalchemy.orm import Session, sessionmaker
from sqlalchemy.pool import QueuePool

__all__ = ["LmsSession", "make_engine", "make_sessionmaker", "write_intent"]

_WRITE = contextvars.ContextVar("lms_write_intent", default=True)


@contextlib.contextmanager
def write_intent(writes: bool) -> Iterator[None]:
    """Declare whether the transactions begun inside may write (SQLite lock mode)."""
    token = _WRITE.set(writes)
    try:
        yield
    finally:
        _WRITE.reset(token)


def make_engine(url: str, **kwargs: Any) -> Engine:
    if url.startswith("sqlite"):
        if url not in ("sqlite://", "sqlite:///:memory:"):
            _ensure_parent(url)
            # Connections are kept: opening one and setting its pragmas cost more than the
            # whole of a cached page (profiled: ~1 ms of a 2 ms /healthz). One per thread of a
            # gthread worker is enough; overflow covers job threads.
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

        gate = _WriterGate(url)

        @event.listens_for(engine, "begin")
        def _on_begin(conn: Any) -> None:
            if _WRITE.get():
                gate.enter(conn)
                conn.exec_driver_sql("BEGIN IMMEDIATE")
            else:
                conn.exec_driver_sql("BEGIN")

        @event.listens_for(engine, "commit")
        def _on_commit(conn: Any) -> None:
            if gate.held(conn):
                try:  # commit now, so that the next writer never finds the database still locked
                    conn.connection.dbapi_connection.commit()
                finally:
                    gate.leave(conn)

        @event.listens_for(engine, "rollback")
        def _on_rollback(conn: Any) -> None:
            if gate.held(conn):
                try:
                    conn.connection.dbapi_connection.rollback()
                finally:
                    gate.leave(conn)

        return engine
    kwargs.setdefault("pool_pre_ping", True)
    engine = create_engine(url, **kwargs)
    _forget_pool_after_fork(engine)
    return engine


def _forget_pool_after_fork(engine: Engine) -> None:
    """A forked child (a gunicorn worker of a --preload master, a job process) must not share
    the parent's pooled connections: it starts with a pool of its own."""
    import weakref

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
    one commits, across threads (one lock file opened per connection) and processes (workers,
    CLI commands, job runners) alike. A thread already writing through another connection does
    not wait on itself: it falls back to SQLite's busy timeout, as before."""

    def __init__(self, url: str) -> None:
        path = url.split("///", 1)[-1].split("?", 1)[0]
        self.path = f"{path}-writer.lock" if path and path != ":memory:" else None
        self._held: dict[int, int] = {}  # id(dbapi connection) -> open lock file
        self._threads: set[int] = set()
        self._lock = threading.Lock()

    def enter(self, conn: Any) -> None:
        if self.path is None:
            return
        me = threading.get_ident()
        with self._lock:
            if me in self._threads:
                return
        fd = os.open(self.path, os.O_RDWR | os.O_CREAT, 0o600)
        try:
            fcntl.flock(fd, fcntl.LOCK_EX)  # releases the GIL while it waits
        except BaseException:
            os.close(fd)
            raise
        with self._lock:
            self._held[id(conn.connection.dbapi_connection)] = fd
            self._threads.add(me)

    def held(self, conn: Any) -> bool:
        return self.path is not None and id(conn.connection.dbapi_connection) in self._held

    def leave(self, conn: Any) -> None:
        with self._lock:
            fd = self._held.pop(id(conn.connection.dbapi_connection), None)
            self._threads.discard(threading.get_ident())
        if fd is not None:
            os.close(fd)  # closing the file releases the lock


def _ensure_parent(url: str) -> None:
    """The database file holds password hashes and personal data: its folder is made 0700 and
    the file 0600 before SQLite first opens it (SQLite gives its -wal and -shm files the same
    mode), so other users of the machine can read neither, at no moment."""
    import os
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
    import os
    import stat

    try:
        st = os.stat(path)
        if st.st_uid == os.getuid() and stat.S_IMODE(st.st_mode) & 0o077:
            os.chmod(path, stat.S_IMODE(st.st_mode) & mode)
    except OSError:
        pass


class LmsSession(Session):
    """The LMS's own session class. Its hooks (the kept summary figures) listen on this class, not
    on SQLAlchemy's ``Session``: a host site's own sessions in the same process never run them."""


def make_sessionmaker(bind: Any) -> sessionmaker[Session]:
    # Typed as plain Session for callers; the instances are LmsSession, which is what the hooks need.
    return cast("sessionmaker[Session]", sessionmaker(bind=bind, class_=LmsSession, expire_on_commit=False))


def set_write_intent(writes: bool) -> contextvars.Token[bool]:
    return _WRITE.set(writes)


def reset_write_intent(token: contextvars.Token[bool]) -> None:
    try:
        _WRITE.reset(token)
    except ValueError:  # reset from another context: nothing to undo there
        pass
