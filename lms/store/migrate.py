"""Alembic, driven from code: ``lms db upgrade`` and the tests use the same path."""

from __future__ import annotations

from alembic import command
from alembic.config import Config

from lms.config import PROJECT_ROOT

__all__ = ["alembic_config", "upgrade"]


def alembic_config(database_url: str) -> Config:
    cfg = Config(str(PROJECT_ROOT / "alembic.ini"))
    cfg.set_main_option("script_location", str(PROJECT_ROOT / "migrations"))
    cfg.attributes["database_url"] = database_url
    return cfg


def upgrade(database_url: str, revision: str = "head") -> None:
    command.upgrade(alembic_config(database_url), revision)
