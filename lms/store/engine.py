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
from collections.abc import Iterator
from typing import Any, cast

from sqlalchemy import Engine, create_engine, event
from sqlalchemy.orm import Session, sessionmaker
from sqlalchemy.pool import NullPool

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
            kwargs.setdefault("poolclass", NullPool)
        engine = create_engine(url, connect_args={"timeout": 30}, **kwargs)

        @event.listens_for(engine, "connect")
        def _on_connect(dbapi_conn: Any, _record: Any) -> None:
            dbapi_conn.isolation_level = None  # we emit BEGIN ourselves, below
            cur = dbapi_conn.cursor()
            cur.execute("PRAGMA journal_mode=WAL")
            cur.execute("PRAGMA busy_timeout=30000")
            cur.execute("PRAGMA foreign_keys=ON")
            cur.execute("PRAGMA synchronous=NORMAL")
            cur.close()

        @event.listens_for(engine, "begin")
        def _on_begin(conn: Any) -> None:
            conn.exec_driver_sql("BEGIN IMMEDIATE" if _WRITE.get() else "BEGIN")

        return engine
    kwargs.setdefault("pool_pre_ping", True)
    return create_engine(url, **kwargs)


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
