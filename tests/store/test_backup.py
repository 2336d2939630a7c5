"""`lms backup` / `lms restore`: SQLite's online backup API on a real database file, and a refusal
that points to pg_dump / pg_restore on PostgreSQL."""

from __future__ import annotations

import hashlib
import json
import sqlite3
from collections.abc import Callable
from pathlib import Path

import pytest
from click.testing import CliRunner
from sqlalchemy import select, text

from lms.cli import main
from lms.services.unit_of_work import make_sessionmaker
from lms.store import User, make_engine
from lms.store.backup import BackupError, check_backup
from lms.store.migrate import upgrade
from tests.conftest import KIND

Run = Callable[..., tuple[int, str, str]]
sqlite_only = pytest.mark.skipif(KIND != "sqlite", reason="the SQLite run covers the round trip")


def _cli(monkeypatch: pytest.MonkeyPatch, tmp_path: Path, url: str) -> Run:
    monkeypatch.setenv("LMS_DATABASE_URL", url)
    monkeypatch.setenv("LMS_INSTANCE_PATH", str(tmp_path / "instance"))
    monkeypatch.setenv("LMS_SECRET_KEY", "b" * 40)

    def invoke(*args: str) -> tuple[int, str, str]:
        result = CliRunner().invoke(main, list(args), catch_exceptions=False)
        return result.exit_code, result.stdout, result.stderr

    return invoke


@pytest.fixture()
def site(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> tuple[Path, Run]:
    """A migrated SQLite site of its own (the shared test database is not to be replaced) with
    three accounts, and the `lms` command pointed at it."""
    live = tmp_path / "site" / "lms.db"
    upgrade(f"sqlite:///{live}")
    run = _cli(monkeypatch, tmp_path, f"sqlite:///{live}")
    for n, name in enumerate(["Nguyễn Văn An", "Trần Thị Bích", "Lê Văn Tám"]):
        code, _, err = run("users", "create", "--role", "admin", "--login", f"admin{n}@example.vn",
                           "--password", "Mat-khau-2026!", "--name", name)
        assert code == 0, err
    return live, run


def _accounts(path: Path) -> list[tuple[str, str | None]]:
    # Plain sqlite3, read only: the engine would switch a backup file to WAL mode.
    conn = sqlite3.connect(f"{path.as_uri()}?mode=ro", uri=True)
    try:
        return [(login, name) for login, name in conn.execute("SELECT login, full_name FROM users ORDER BY login")]
    finally:
        conn.close()


def _digest(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


@sqlite_only
def test_backup_change_restore_brings_the_data_back(site: tuple[Path, Run], tmp_path: Path) -> None:
    live, run = site
    before = _accounts(live)
    assert len(before) == 3

    code, out, err = run("backup", str(tmp_path / "nightly.db"))
    assert code == 0, err
    report = json.loads(out)
    assert report["path"] == str(tmp_path / "nightly.db") and report["tables"]["users"] == 3
    assert report["bytes"] == (tmp_path / "nightly.db").stat().st_size > 0
    assert report["revision"] and report["tables"]["courses"] == 0

    # The site goes on: one account renamed, one deleted, one added.
    engine = make_engine(f"sqlite:///{live}")  # stays open across the restore, like a running server's
    with make_sessionmaker(engine, expire_on_commit=True)() as s, s.begin():
        s.execute(text("UPDATE users SET full_name = 'Đổi tên' WHERE login = 'admin0@example.vn'"))
        s.execute(text("DELETE FROM users WHERE login = 'admin1@example.vn'"))
    code, _, _ = run("users", "create", "--role", "admin", "--login", "new@example.vn", "--password", "Mat-khau-2026!")
    assert code == 0
    changed = _accounts(live)
    assert changed != before and len(changed) == 3

    code, out, err = run("restore", str(tmp_path / "nightly.db"))
    assert code == 0, err
    restored = json.loads(out)
    assert restored["restored"] == str(live) and restored["previous"] == f"{live}.bak"
    assert restored["upgrade_needed"] is False and restored["tables"]["users"] == 3

    assert _accounts(live) == before
    # the open engine sees the restored data, and can still write
    with make_sessionmaker(engine, expire_on_commit=True)() as s, s.begin():
        names = {u.login: u.full_name for u in s.scalars(select(User))}
        assert names["admin0@example.vn"] == "Nguyễn Văn An" and "new@example.vn" not in names
        s.execute(text("UPDATE users SET position = 'x' WHERE login = 'admin2@example.vn'"))
    engine.dispose()
    assert _accounts(Path(f"{live}.bak")) == changed  # what the restore replaced is kept beside it
    assert sqlite3.connect(live).execute("PRAGMA journal_mode").fetchone()[0] == "wal"
    assert not [p.name for p in live.parent.iterdir() if p.name.endswith(".tmp")]


@sqlite_only
def test_backup_during_an_open_write_holds_only_committed_data(site: tuple[Path, Run], tmp_path: Path) -> None:
    live, run = site
    writer = sqlite3.connect(live, isolation_level=None)
    try:
        writer.execute("BEGIN IMMEDIATE")  # a request of the running site, half way through
        writer.execute("DELETE FROM users")
        code, out, err = run("backup", str(tmp_path))
        assert code == 0, err
        writer.execute("ROLLBACK")
    finally:
        writer.close()
    path = Path(json.loads(out)["path"])
    assert path.parent == tmp_path and path.name.startswith("lms-") and path.suffix == ".db"
    assert json.loads(out)["tables"]["users"] == 3
    assert _accounts(path) == _accounts(live)
    assert sqlite3.connect(path).execute("PRAGMA journal_mode").fetchone()[0] == "delete"  # one standalone file


def _not_ours(path: Path) -> Path:
    with sqlite3.connect(path) as conn:
        conn.execute("CREATE TABLE notes (body TEXT)")
    return path


def _unknown_revision(backup: Path, path: Path) -> Path:
    path.write_bytes(backup.read_bytes())
    with sqlite3.connect(path) as conn:
        conn.execute("UPDATE alembic_version SET version_num = 'f00dcafe9999'")
    return path


def _damaged(backup: Path, path: Path) -> Path:
    data = bytearray(backup.read_bytes())
    page = 4096
    for i in range(2 * page, len(data) - page, 3 * page):  # scribble over b-tree pages, keep the header
        data[i:i + 64] = b"\xff" * 64
    path.write_bytes(bytes(data))
    return path


@sqlite_only
def test_restore_refuses_what_is_not_a_sound_backup_and_leaves_the_site_alone(
        site: tuple[Path, Run], tmp_path: Path) -> None:
    live, run = site
    code, _, _ = run("backup", str(tmp_path / "good.db"))
    assert code == 0
    good = tmp_path / "good.db"
    garbage = tmp_path / "garbage.db"
    garbage.write_bytes(b"PK\x03\x04 this is a zip, not a database" * 100)
    cases = {
        garbage: ("not a SQLite database",),
        _not_ours(tmp_path / "notes.db"): ("no alembic_version table",),
        _unknown_revision(good, tmp_path / "future.db"): ("schema revision 'f00dcafe9999'",),
        _damaged(good, tmp_path / "damaged.db"): ("damaged", "malformed"),
        tmp_path / "missing.db": ("no such file",),
    }
    with sqlite3.connect(live) as conn:
        conn.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    digest, accounts = _digest(live), _accounts(live)
    for path, words in cases.items():
        code, out, err = run("restore", str(path))
        assert code == 1 and out == "", path
        assert err.startswith(f"error: {path}: ") and any(w in err for w in words), err
        assert _digest(live) == digest and _accounts(live) == accounts
    assert not Path(f"{live}.bak").exists()
    assert sorted(p.name for p in live.parent.iterdir() if not p.name.startswith("lms.db")) == []


@sqlite_only
def test_check_backup_names_the_problem(tmp_path: Path) -> None:
    (tmp_path / "empty.db").write_bytes(b"")
    with pytest.raises(BackupError, match="not a SQLite database"):
        check_backup(tmp_path / "empty.db")
    upgrade(f"sqlite:///{tmp_path / 'ok.db'}")
    revision, counts = check_backup(tmp_path / "ok.db")
    assert revision and counts == dict.fromkeys(counts, 0) and "users" in counts


@sqlite_only
def test_backup_refuses_to_overwrite_the_live_database(site: tuple[Path, Run]) -> None:
    live, run = site
    digest = _digest(live)
    code, _, err = run("backup", str(live))
    assert code == 1 and "the live database itself" in err
    assert _digest(live) == digest


@pytest.mark.skipif(KIND != "postgres", reason="the PostgreSQL run checks the refusal")
def test_postgres_refuses_and_points_to_pg_dump(database_url: str, tmp_path: Path,
                                               monkeypatch: pytest.MonkeyPatch) -> None:
    run = _cli(monkeypatch, tmp_path, database_url)
    (tmp_path / "dump.db").write_bytes(b"")
    for args in (("backup", str(tmp_path / "out.db")), ("restore", str(tmp_path / "dump.db"))):
        code, out, err = run(*args)
        assert code == 1 and out == ""
        assert "PostgreSQL" in err and "pg_dump -Fc" in err and "pg_restore" in err and "docs/operations.md" in err
    assert not (tmp_path / "out.db").exists()
