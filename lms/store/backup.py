"""Back up and restore the embedded SQLite database, safely while the site is running.

Both directions go through SQLite's online backup API, never a file copy: a copy of a live
WAL database can miss the pages still in ``-wal`` or catch a half-written transaction. A backup
is written to a temporary file beside its target and renamed into place, so a crash leaves
either the old file or the complete new one. A restore first copies and checks the file (a
SQLite database, ``PRAGMA integrity_check`` ok, an Alembic revision this code knows), keeps a
consistent copy of the database it replaces as ``<name>.bak``, then writes the checked copy into
the live database in one transaction, so a running server sees the old data or the new, never
a mixture. PostgreSQL has its own tools (``pg_dump``/``pg_restore``, docs/operations.md).
"""

from __future__ import annotations

import contextlib
import os
import sqlite3
import tempfile
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path

from sqlalchemy.engine import make_url
from sqlalchemy.exc import ArgumentError

from lms.store.migrate import alembic_config

__all__ = [
    "KEY_TABLES",
    "BackupError",
    "BackupReport",
    "RestoreReport",
    "backup_sqlite",
    "check_backup",
    "restore_sqlite",
    "sqlite_file",
]

# Counted in every report: enough to see at a glance that a backup holds the site's data.
KEY_TABLES = ("users", "courses", "lessons", "quizzes", "questions", "attempts", "certificates")
_SQLITE_HEADER = b"SQLite format 3\x00"

POSTGRES_MESSAGE = (
    "LMS_DATABASE_URL is a PostgreSQL database; `lms backup` and `lms restore` handle only the embedded "
    "SQLite file. Use PostgreSQL's own tools: `pg_dump -Fc -f lms.dump DBNAME` to back up and "
    "`pg_restore --clean --if-exists --no-owner -d DBNAME lms.dump` to restore (see docs/operations.md)."
)


class BackupError(Exception):
    """The backup or restore was refused or failed; the message says why. Nothing was changed."""


@dataclass(frozen=True)
class BackupReport:
    path: Path
    size: int  # bytes
    revision: str
    tables: dict[str, int] = field(default_factory=dict)


@dataclass(frozen=True)
class RestoreReport:
    database: Path
    source: Path
    revision: str
    upgrade_needed: bool  # the backup predates the newest migration: run `lms db upgrade`
    previous: Path | None  # the replaced database, kept beside it; None when there was none
    tables: dict[str, int] = field(default_factory=dict)


def sqlite_file(database_url: str) -> Path:
    """The file of a SQLite ``database_url``; BackupError for any other database."""
    try:
        url = make_url(database_url)
    except ArgumentError as exc:
        raise BackupError(f"LMS_DATABASE_URL is not a database URL ({exc})") from None
    backend = url.get_backend_name()
    if backend == "postgresql":
        raise BackupError(POSTGRES_MESSAGE)
    if backend != "sqlite":
        raise BackupError(f"LMS_DATABASE_URL is a {backend} database; `lms backup` and `lms restore` handle "
                          "only the embedded SQLite file: use that database's own backup tools")
    if not url.database or url.database == ":memory:" or url.database.startswith("file::memory:"):
        raise BackupError("LMS_DATABASE_URL is an in-memory SQLite database; there is no file to back up or restore")
    return Path(url.database)


def _known_revisions() -> tuple[set[str], str | None]:
    """Every Alembic revision of this code, and the head."""
    from alembic.script import ScriptDirectory


    script = ScriptDirectory.from_config(alembic_config("sqlite://"))
    return {rev.revision for rev in script.walk_revisions()}, script.get_current_head()


@contextlib.contextmanager
def _connect(path: Path, *, read_only: bool = False) -> Iterator[sqlite3.Connection]:
    # isolation_level=None: no implicit transactions around PRAGMAs and VACUUM.
    target = f"{path.resolve().as_uri()}?mode=ro" if read_only else str(path)
    conn = sqlite3.connect(target, uri=read_only, timeout=30, isolation_level=None)
    try:
        yield conn
    finally:
        conn.close()


def _temp_beside(path: Path) -> Path:
    """A new empty file in ``path``'s folder, so the final rename never crosses file systems."""
    fd, name = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    os.close(fd)
    return Path(name)


def _discard(path: Path) -> None:
    for leftover in (path, Path(f"{path}-journal"), Path(f"{path}-wal"), Path(f"{path}-shm")):
        leftover.unlink(missing_ok=True)


def _fsync(path: Path) -> None:
    fd = os.open(path, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def _publish(temp: Path, target: Path) -> None:
    """Rename a finished ``temp`` over ``target`` durably."""
    _fsync(temp)
    os.replace(temp, target)
    with contextlib.suppress(OSError):  # not every platform can fsync a folder
        _fsync(target.parent)


def _snapshot(source: Path, target: Path, *, read_only: bool = False) -> None:
    """Copy the database ``source`` into the file ``target`` as a standalone (rollback journal) file."""
    with _connect(source, read_only=read_only) as src, _connect(target) as dst:
        src.backup(dst)
        dst.execute("PRAGMA journal_mode=DELETE")


def check_backup(path: Path, *, name: Path | None = None) -> tuple[str, dict[str, int]]:
    """(Alembic revision, rows of KEY_TABLES) of a database file, or BackupError saying why it is not
    a sound database of ours. Opens ``path`` read-write: call it on a copy, with ``name`` the file
    the copy was made from (for messages)."""
    shown = name or path
    try:
        with path.open("rb") as f:
            header = f.read(len(_SQLITE_HEADER))
    except OSError as exc:
        raise BackupError(f"{shown}: cannot read the file ({exc.strerror or exc})") from None
    if header != _SQLITE_HEADER:
        raise BackupError(f"{shown}: not a SQLite database (it does not start with the SQLite header)")
    try:
        with _connect(path) as conn:
            verdict = [str(row[0]) for row in conn.execute("PRAGMA integrity_check(20)")]
            if verdict != ["ok"]:
                raise BackupError(f"{shown}: the database is damaged (PRAGMA integrity_check: "
                                  f"{'; '.join(verdict[:5])})")
            tables = {str(row[0]) for row in conn.execute("SELECT name FROM sqlite_master WHERE type = 'table'")}
            if "alembic_version" not in tables:
                raise BackupError(f"{shown}: not an LMS database (it has no alembic_version table)")
            versions = [str(row[0]) for row in conn.execute("SELECT version_num FROM alembic_version")]
            known, _ = _known_revisions()
            if len(versions) != 1:
                raise BackupError(f"{shown}: not an LMS database (alembic_version holds {len(versions)} rows, not 1)")
            if versions[0] not in known:
                raise BackupError(f"{shown}: the database is at schema revision '{versions[0]}', which this version "
                                  "of the LMS does not know (it was made by a newer version, or by another "
                                  "application)")
            missing = [t for t in KEY_TABLES if t not in tables]
            if missing:
                raise BackupError(f"{shown}: not an LMS database (tables missing: {', '.join(missing)})")
            # Table names from KEY_TABLES, never from input.
            counts = {t: int(conn.execute(f'SELECT count(*) FROM "{t}"').fetchone()[0])  # noqa: S608
                      for t in KEY_TABLES}
    except sqlite3.DatabaseError as exc:
        raise BackupError(f"{shown}: not a usable SQLite database ({exc})") from None
    return versions[0], counts


def backup_sqlite(database_url: str, target: Path, *, now: datetime) -> BackupReport:
    """Write a consistent copy of the live SQLite database to ``target`` (a file, or a folder that
    receives ``lms-YYYYMMDD-HHMMSS.db``), replacing it atomically."""
    live = sqlite_file(database_url)
    if not live.is_file():
        raise BackupError(f"{live}: there is no database file to back up (run `lms db upgrade` first)")
    if target.is_dir():
        target = target / f"lms-{now:%Y%m%d-%H%M%S}.db"
    if not target.parent.is_dir():
        raise BackupError(f"{target.parent}: no such folder for the backup")
    if target.exists() and target.resolve() == live.resolve():
        raise BackupError(f"{target}: that is the live database itself; choose another path")
    temp = _temp_beside(target)
    try:
        try:
            _snapshot(live, temp)
        except sqlite3.DatabaseError as exc:
            raise BackupError(f"{live}: cannot read the database ({exc})") from None
        revision, counts = check_backup(temp, name=live)
        _publish(temp, target)
    finally:
        _discard(temp)
    return BackupReport(path=target, size=target.stat().st_size, revision=revision, tables=counts)


def restore_sqlite(database_url: str, source: Path) -> RestoreReport:
    """Replace the live SQLite database with the backup ``source`` after checking it; the
    replaced database is kept as ``<name>.bak``. BackupError (nothing changed) when refused."""
    live = sqlite_file(database_url)
    if not source.is_file():
        raise BackupError(f"{source}: no such file")
    if live.exists() and source.resolve() == live.resolve():
        raise BackupError(f"{source}: that is the live database itself")
    live.parent.mkdir(parents=True, exist_ok=True)
    checked = _temp_beside(live)
    try:
        # Check a private copy: opening the backup itself could write to it, and it could change
        # between the check and the restore.
        try:
            with source.open("rb") as f:
                is_sqlite = f.read(len(_SQLITE_HEADER)) == _SQLITE_HEADER
        except OSError as exc:
            raise BackupError(f"{source}: cannot read the file ({exc.strerror or exc})") from None
        if not is_sqlite:
            raise BackupError(f"{source}: not a SQLite database (it does not start with the SQLite header)")
        try:
            _snapshot(source, checked, read_only=True)
        except sqlite3.DatabaseError as exc:
            raise BackupError(f"{source}: not a usable SQLite database ({exc})") from None
        revision, counts = check_backup(checked, name=source)
        _, head = _known_revisions()
        previous: Path | None = None
        if live.is_file():
            previous = Path(f"{live}.bak")
            kept = _temp_beside(live)
            try:
                _snapshot(live, kept)
                _publish(kept, previous)
            finally:
                _discard(kept)
            _write_into(checked, live)
        else:
            for stray in (Path(f"{live}-wal"), Path(f"{live}-shm")):  # of no database: must not be replayed
                stray.unlink(missing_ok=True)
            _publish(checked, live)
    finally:
        _discard(checked)
    return RestoreReport(database=live, source=source, revision=revision, upgrade_needed=revision != head,
                         previous=previous, tables=counts)


def _write_into(checked: Path, live: Path) -> None:
    """Copy ``checked`` over the live database in one write transaction (other connections keep
    working and then see the restored data)."""
    with _connect(live) as dst, _connect(checked) as src:
        wanted = int(dst.execute("PRAGMA page_size").fetchone()[0])
        if int(src.execute("PRAGMA page_size").fetchone()[0]) != wanted:
            # A WAL database cannot change its page size; give the copy the live one instead.
            src.execute(f"PRAGMA page_size={wanted}")
            src.execute("VACUUM")
        try:
            src.backup(dst)
        except sqlite3.DatabaseError as exc:
            raise BackupError(f"{live}: could not write the restored data ({exc}); the database is unchanged "
                              f"and its previous contents are also in {live}.bak") from None
        dst.execute("PRAGMA wal_checkpoint(TRUNCATE)")
