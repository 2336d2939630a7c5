"""Alembic environment: the URL comes from the caller (lms db upgrade) or LMS settings."""

from __future__ import annotations

from alembic import context

from lms.config import Settings
from lms.store import Base, make_engine

config = context.config
target_metadata = Base.metadata


def _url() -> str:
    return str(config.attributes.get("database_url") or Settings.load().database_url)


def run_migrations_offline() -> None:
    context.configure(url=_url(), target_metadata=target_metadata, literal_binds=True,
                      render_as_batch=True, compare_type=True)
    with context.begin_transaction():
        context.run_migrations()


def run_migrations_online() -> None:
    engine = make_engine(_url())
    with engine.connect() as connection:
        context.configure(connection=connection, target_metadata=target_metadata,
                          render_as_batch=connection.dialect.name == "sqlite", compare_type=True)
        with context.begin_transaction():
            context.run_migrations()
    engine.dispose()


if context.is_offline_mode():
    run_migrations_offline()
else:
    run_migrations_online()
