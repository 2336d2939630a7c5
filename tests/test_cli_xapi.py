"""`lms xapi ...` against the test database and a real LRS (ralph on loopback)."""

from __future__ import annotations

import json
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest
from click.testing import CliRunner
from sqlalchemy import Engine, delete
from sqlalchemy.orm import Session

from lms.cli import main
from lms.store.models import XapiStatement
from tests.xapi_lrs import Ralph


@pytest.fixture(scope="module")
def ralph(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Ralph]:
    lrs = Ralph(tmp_path_factory.mktemp("ralph-cli"))
    lrs.start()
    yield lrs
    lrs.stop()


@pytest.fixture()
def run(database_url: str, engine: Engine, tmp_path: Path, ralph: Ralph,
        monkeypatch: pytest.MonkeyPatch) -> Iterator:  # type: ignore[type-arg]
    for key, value in {"LMS_DATABASE_URL": database_url, "LMS_INSTANCE_PATH": str(tmp_path / "instance"),
                       "LMS_SECRET_KEY": "c" * 40, "LMS_PUBLIC_URL": "https://hoc.example.vn",
                       "LMS_XAPI_ENDPOINT": ralph.endpoint, "LMS_XAPI_USERNAME": ralph.username,
                       "LMS_XAPI_PASSWORD": ralph.password}.items():
        monkeypatch.setenv(key, value)
    monkeypatch.delenv("LMS_REDIS_URL", raising=False)
    monkeypatch.delenv("LMS_XAPI_ACTOR_KEY", raising=False)

    def invoke(*args: str) -> tuple[int, dict, str]:  # type: ignore[type-arg]
        result = CliRunner().invoke(main, list(args), catch_exceptions=False)
        out = result.stdout.strip().splitlines()
        return result.exit_code, json.loads(out[-1]) if out else {}, result.stderr

    yield invoke
    with Session(engine) as s, s.begin():  # these commands commit: leave the outbox as other tests expect it
        s.execute(delete(XapiStatement))


def test_flush_actor_replay_and_status(run, ralph: Ralph) -> None:  # type: ignore[no-untyped-def]
    login = f"{uuid.uuid4().hex[:8]}@example.vn"
    assert run("users", "create", "--role", "citizen", "--login", login, "--password", "Mat-khau-2026!",
               "--name", "Lê Văn Tám", "--unit", "28756")[0] == 0
    code, issued, _ = run("certificates", "issue", "--login", login, "--course", "an-toan-so")
    assert code == 0
    assert run("xapi", "status")[1]["pending"] >= 1
    code, flushed, err = run("xapi", "flush")
    assert code == 0 and flushed["sent"] >= 1 and flushed["pending"] == 0, (flushed, err)
    code, found, _ = run("xapi", "actor", login)
    account = found["account"]
    assert code == 0 and account["homePage"] == "https://hoc.example.vn" and login not in account["name"]
    earned = [st for st in ralph.statements() if st["actor"]["account"] == account]
    assert [st["verb"]["id"] for st in earned] == ["http://id.tincanapi.com/verb/earned"]
    assert run("xapi", "actor", "--name", account["name"])[1]["login"] == login
    code, replayed, _ = run("xapi", "replay", "--since", "2000-01-01")
    assert code == 0 and replayed["requeued"] >= 1
    assert run("xapi", "flush")[1]["pending"] == 0
    assert len([st for st in ralph.statements() if st["actor"]["account"] == account]) == 1
    code, _, _ = run("certificates", "revoke", issued["code"], "--reason", "Kiểm tra")
    assert code == 0
    assert run("xapi", "flush")[1]["sent"] == 1


def test_flush_with_the_lrs_down_keeps_everything(run, ralph: Ralph) -> None:  # type: ignore[no-untyped-def]
    login = f"{uuid.uuid4().hex[:8]}@example.vn"
    run("users", "create", "--role", "citizen", "--login", login, "--password", "Mat-khau-2026!", "--unit", "28756")
    run("certificates", "issue", "--login", login, "--course", "an-toan-so")
    ralph.stop()
    try:
        code, down, err = run("xapi", "flush")
        assert code == 0 and down["sent"] == 0 and down["pending"] >= 1 and "did not take" in err
    finally:
        ralph.start()
    code, back, _ = run("xapi", "flush")
    assert code == 0 and back["sent"] == down["pending"] and back["pending"] == 0
