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
from typing import Any

from sqlalchemy import Engine, create_engine, event
from sqlalchemy.orm import Session, sessionmaker
from sqlalchemy.pool import QueuePool

__all__ = ["make_engine", "make_sessionmaker", "write_intent"]

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

        @event.listens_for(engine, "begin")
        def _on_begin(conn: Any) -> None:
            conn.exec_driver_sql("BEGIN IMMEDIATE" if _WRITE.get() else "BEGIN")

        return engine
    kwargs.setdefault("pool_pre_ping", True)
    engine = create_engine(url, **kwargs)
    _forget_pool_after_fork(engine)
    return engine


def _forget_pool_after_fork(engine: Engine) -> None:
    """A forked child (a gunicorn worker of a --preload master, a job process) must not share
    the parent's pooled connections: it starts with a pool of its own."""
    import os
    import weakref

    ref = weakref.ref(engine)

    def _child() -> None:
        live = ref()
        if live is not None:
            live.dispose(close=False)

    os.register_at_fork(after_in_child=_child)


def _ensure_parent(url: str) -> None:
    from pathlib import Path

    path = url.split("///", 1)[-1].split("?", 1)[0]
    if path:
        Path(path).parent.mkdir(parents=True, exist_ok=True)


def make_sessionmaker(bind: Any) -> sessionmaker[Session]:
    return sessionmaker(bind=bind, expire_on_commit=False)


def set_write_intent(writes: bool) -> contextvars.Token[bool]:
    return _WRITE.set(writes)


def reset_write_intent(token: contextvars.Token[bool]) -> None:
    try:
        _WRITE.reset(token)
    except ValueError:  # reset from another context: nothing to undo there
        pass
