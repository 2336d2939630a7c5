"""Upgrade an empty database to head, then `alembic check`: a model that drifts from the
migrations fails the build. Usage: python -m tests.migrations_check sqlite|postgres"""

from __future__ import annotations

import sys

from alembic import command

from lms.store.migrate import alembic_config, upgrade
from tests.databases import fresh_database


def main(kind: str) -> None:
    with fresh_database(kind) as url:
        upgrade(url)
        command.check(alembic_config(url))
        command.downgrade(alembic_config(url), "base")
        upgrade(url)
    print(f"migrations on {kind}: upgrade, check, downgrade and upgrade again: ok")


if __name__ == "__main__":
    main(sys.argv[1] if len(sys.argv) > 1 else "sqlite")
