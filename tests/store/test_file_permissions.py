"""The instance folder, the SQLite file and the signing key are private to the server's user
(issue 13, item 5): 0700 folders, 0600 files, and the key never readable by others, not even for
a moment (it is created with its mode, not chmod-ed after)."""

from __future__ import annotations

import os
import stat
from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy import text

from lms.certificates.signing import ensure_dev_signer
from lms.config import Settings
from lms.store import make_engine


def _mode(path: Path) -> int:
    return stat.S_IMODE(path.stat().st_mode)


@pytest.fixture()
def open_umask() -> Iterator[None]:
    """The most permissive umask: whatever is private below is so by the code, not the shell."""
    old = os.umask(0)
    yield
    os.umask(old)


def test_the_sqlite_file_and_its_folder_are_private(tmp_path: Path, open_umask: None) -> None:
    db = tmp_path / "instance" / "lms.db"
    engine = make_engine(f"sqlite:///{db}")
    with engine.begin() as conn:
        conn.execute(text("CREATE TABLE t (x INTEGER)"))
        conn.execute(text("INSERT INTO t VALUES (1)"))
    assert _mode(db.parent) == 0o700 and _mode(db) == 0o600
    for extra in (Path(f"{db}-wal"), Path(f"{db}-shm")):
        if extra.exists():
            assert _mode(extra) & 0o077 == 0, extra
    engine.dispose()


def test_an_existing_database_made_readable_by_others_is_tightened(tmp_path: Path) -> None:
    db = tmp_path / "old.db"
    db.touch()
    db.chmod(0o644)
    make_engine(f"sqlite:///{db}").dispose()
    assert _mode(db) == 0o600


def test_the_instance_folder_and_secret_are_private(tmp_path: Path, open_umask: None) -> None:
    instance = tmp_path / "inst"
    Settings.load({"LMS_INSTANCE_PATH": str(instance), "LMS_DATABASE_URL": f"sqlite:///{instance}/lms.db"})
    assert _mode(instance) == 0o700 and _mode(instance / "secret_key") == 0o600


def test_the_signing_key_is_created_0600_without_a_chmod(tmp_path: Path, open_umask: None,
                                                         monkeypatch: pytest.MonkeyPatch) -> None:
    def refuse(*_a: object, **_k: object) -> None:
        raise AssertionError("the key's mode must come from its creation, not a later chmod")

    monkeypatch.setattr(os, "chmod", refuse)
    monkeypatch.setattr(Path, "chmod", refuse)
    key, cert = ensure_dev_signer(tmp_path / "signing", "Sở Thông tin")
    assert _mode(key) == 0o600 and _mode(key.parent) == 0o700
    assert not list(key.parent.glob("*.tmp"))
    assert ensure_dev_signer(tmp_path / "signing", "Sở Thông tin") == (key, cert)
