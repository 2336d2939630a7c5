"""Fixtures: a real database (SQLite or PostgreSQL, by LMS_TEST_DATABASE), migrated once and
loaded with the project's own content; each test runs inside a transaction rolled back after it
(SQLAlchemy 2.0's "join an external transaction" recipe)."""

from __future__ import annotations

import os
import re
from collections.abc import Iterator
from dataclasses import replace
from datetime import UTC, datetime
from pathlib import Path

import pytest
from flask import Flask
from flask.testing import FlaskClient
from redis import Redis
from sqlalchemy import Connection, Engine
from sqlalchemy.orm import Session

from lms import create_app
from lms.config import PROJECT_ROOT, Settings
from lms.services.content import sync_all
from lms.services.plans import ensure_default_plan
from lms.services.unit_of_work import make_sessionmaker
from lms.services.units import ensure_units
from lms.store import make_engine
from lms.store.migrate import upgrade
from lms.web.limits import limiter
from tests.databases import REDIS_URL, fresh_database

KIND = os.environ.get("LMS_TEST_DATABASE", "sqlite")


def pytest_report_header() -> str:
    return f"database: {KIND}"


def seeded(url: str) -> Engine:
    """Migrate the empty database at ``url`` and load the units, the default plan and the
    project's own content; the engine over it is returned."""
    upgrade(url)
    engine = make_engine(url)
    with make_sessionmaker(engine)() as s, s.begin():
        ensure_units(s)
        ensure_default_plan(s, now=datetime.now(UTC))
        sync_all(s, PROJECT_ROOT / "course_content", PROJECT_ROOT / "quizzes", now=datetime.now(UTC))
    return engine


@pytest.fixture(scope="session")
def database_url() -> Iterator[str]:
    with fresh_database(KIND) as url:
        seeded(url).dispose()
        yield url


@pytest.fixture(scope="session")
def engine(database_url: str) -> Iterator[Engine]:
    eng = make_engine(database_url)
    yield eng
    eng.dispose()


@pytest.fixture()
def connection(engine: Engine) -> Iterator[Connection]:
    with engine.connect() as conn:
        outer = conn.begin()
        yield conn
        outer.rollback()


@pytest.fixture()
def session(connection: Connection) -> Iterator[Session]:
    s = make_sessionmaker(connection, join_transaction_mode="create_savepoint")()
    yield s
    s.close()


@pytest.fixture()
def settings(database_url: str, tmp_path: Path) -> Settings:
    return replace(Settings.load({"LMS_DATABASE_URL": database_url, "LMS_SECRET_KEY": "t" * 64,
                                  "LMS_INSTANCE_PATH": str(tmp_path / "instance")}))


@pytest.fixture()
def worker_env(database_url: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Settings:
    """The environment a background worker (RQ, a sender thread) reads its settings from: this
    test's database, a fresh instance folder and a fixed secret key; its settings, without a queue."""
    monkeypatch.setenv("LMS_DATABASE_URL", database_url)
    monkeypatch.setenv("LMS_INSTANCE_PATH", str(tmp_path))
    monkeypatch.setenv("LMS_SECRET_KEY", "k" * 40)
    return replace(Settings.load(), redis_url=None)


@pytest.fixture()
def test_redis() -> Iterator[Redis]:
    """The real Redis the queue tests use (database 15 unless LMS_TEST_REDIS_URL says otherwise)."""
    redis = Redis.from_url(REDIS_URL)
    redis.flushdb()
    try:
        yield redis
    finally:
        redis.flushdb()


@pytest.fixture()
def app(settings: Settings, connection: Connection) -> Iterator[Flask]:
    application = create_app(settings)
    application.config["TESTING"] = True
    state = application.extensions["lms"]
    state.sessionmaker = make_sessionmaker(connection, join_transaction_mode="create_savepoint")
    limiter.reset()
    yield application
    state.engine.dispose()


@pytest.fixture()
def client(app: Flask) -> FlaskClient:
    return app.test_client()


_CSRF = re.compile(r'name="csrf_token" type="hidden" value="([^"]+)"|name="csrf_token" value="([^"]+)"')


_PREFERENCE = re.compile(r'name="preference_token" value="([^"]+)"')


def preference_token(client: FlaskClient, path: str = "/") -> str:
    """The token of the header's language and text-size switches on ``path``."""
    m = _PREFERENCE.search(client.get(path).get_data(as_text=True))
    assert m, f"no preference token on {path}"
    return m.group(1)


def csrf_token(client: FlaskClient, path: str) -> str:
    html = client.get(path).get_data(as_text=True)
    m = _CSRF.search(html)
    assert m, f"no CSRF token on {path}"
    return m.group(1) or m.group(2)
