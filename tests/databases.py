"""Fresh, real databases for tests: a SQLite file, or a new PostgreSQL database per run; and the
Redis database the queue tests empty before and after each of them."""

from __future__ import annotations

import os
import tempfile
import uuid
from collections.abc import Iterator
from contextlib import contextmanager

import psycopg

PG_ADMIN = os.environ.get("LMS_TEST_PG_ADMIN", "postgresql://postgres@127.0.0.1:5432/postgres")
REDIS_URL = os.environ.get("LMS_TEST_REDIS_URL", "redis://127.0.0.1:6379/15")


@contextmanager
def fresh_database(kind: str, *, keep: bool = False) -> Iterator[str]:
    """Yield the SQLAlchemy URL of an empty database of ``kind``; drop it afterwards unless
    ``keep`` (a PostgreSQL benchmark database to look at later). Benchmarks use it too."""
    if kind == "sqlite":
        with tempfile.TemporaryDirectory() as tmp:
            yield f"sqlite:///{tmp}/test.db"
        return
    if kind != "postgres":
        raise ValueError(f"unknown test database kind {kind!r}")
    name = f"lms_test_{uuid.uuid4().hex[:10]}"
    with psycopg.connect(PG_ADMIN, autocommit=True) as conn:
        conn.execute(f'CREATE DATABASE "{name}" ENCODING \'UTF8\' TEMPLATE template0')
    base = PG_ADMIN.rsplit("/", 1)[0].replace("postgresql://", "postgresql+psycopg://", 1)
    try:
        yield f"{base}/{name}"
    finally:
        if not keep:
            with psycopg.connect(PG_ADMIN, autocommit=True) as conn:
                conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
