"""Alembic, driven from code: ``lms db upgrade`` and the tests use the same path.

The revisions ship inside the package (``lms._migrations``, mapped from the repository's
``migrations/`` folder by setup.py), so an installed wheel migrates without a source checkout."""

from __future__ import annotations

from importlib.resources import files
from pathlib import Path

from alembic import command
from alembic.config import Config

__all__ = ["alembic_config", "script_location", "upgrade"]


def script_location() -> Path:
    """The folder holding ``env.py`` and ``versions/``: Alembic needs a real directory, which an
    installed (unzipped) wheel and an editable checkout both provide."""
    folder = Path(str(files("lms._migrations")))
    if not (folder / "env.py").is_file():
        raise RuntimeError(f"the LMS migrations are missing from {folder}; reinstall the package")
    return folder


def alembic_config(database_url: str) -> Config:
    cfg = Config()
    cfg.set_main_option("script_location", str(script_location()))
    cfg.attributes["database_url"] = database_url
    return cfg


def upgrade(database_url: str, revision: str = "head") -> None:
    command.upgrade(alembic_config(database_url), revision)
