"""The `lms` command, as API.md promises it, against the test database."""

from __future__ import annotations

import json
import shutil
import uuid
from pathlib import Path

import pytest
from click.testing import CliRunner

from lms.cli import main
from lms.config import PROJECT_ROOT
from lms.services.unit_of_work import make_sessionmaker
from tests.shared_dir import SHARED


@pytest.fixture()
def run(database_url: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch):  # type: ignore[no-untyped-def]
    monkeypatch.setenv("LMS_DATABASE_URL", database_url)
    monkeypatch.setenv("LMS_INSTANCE_PATH", str(tmp_path / "instance"))
    monkeypatch.setenv("LMS_SECRET_KEY", "c" * 40)
    monkeypatch.delenv("LMS_REDIS_URL", raising=False)

    def invoke(*args: str) -> tuple[int, str, str]:
        result = CliRunner().invoke(main, list(args), catch_exceptions=False)
        return result.exit_code, result.stdout, result.stderr

    return invoke


def test_users_create_and_certificates(run) -> None:  # type: ignore[no-untyped-def]
    login = f"{uuid.uuid4().hex[:8]}@example.vn"
    code, out, _ = run("users", "create", "--role", "citizen", "--login", login, "--password", "Mat-khau-2026!",
                       "--name", "Lê Văn Tám", "--unit", "28756")
    assert code == 0 and isinstance(json.loads(out)["user_id"], int)
    code, _, err = run("users", "create", "--role", "citizen", "--login", login, "--password", "Mat-khau-2026!")
    assert code == 1 and "login.taken" in err
    code, out, _ = run("certificates", "issue", "--login", login, "--course", "an-toan-so")
    issued = json.loads(out)
    assert code == 0 and len(issued["code"]) >= 16 and issued["pdf"] == "ready"
    code, out, _ = run("certificates", "revoke", issued["code"], "--reason", "Kiểm tra")
    assert code == 0 and json.loads(out)["status"] == "revoked"
    code, _, err = run("certificates", "issue", "--login", "khong-co@example.vn", "--course", "an-toan-so")
    assert code == 1 and "user.not_found" in err


def test_content_check_reports_file_and_line(run, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    code, out, _ = run("content", "check")
    assert code == 0 and "5 courses" in out
    copy = tmp_path / "course_content"
    shutil.copytree(PROJECT_ROOT / "course_content", copy)
    lesson = sorted(copy.glob("*/02-*.md"))[0]
    lesson.write_text(lesson.read_text(encoding="utf-8").replace("competences: [", "competences: [\"7.7\", ", 1),
                      encoding="utf-8")
    code, _, err = run("content", "check", str(copy))
    assert code == 1 and f"{lesson}:" in err and "unknown competence code '7.7'" in err


def test_quiz_import_and_export_round_trip(run, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    sample = SHARED / "accept" / "sample_quiz.gift"
    code, out, _ = run("quiz", "import", str(sample), "--course", "tri-tue-nhan-tao")
    first = json.loads(out)
    assert code == 0 and first["questions"] == 6 and first["quiz_id"].startswith("imp_")
    exported = tmp_path / "export.gift"
    code, _, _ = run("quiz", "export", first["quiz_id"], "-o", str(exported))
    assert code == 0 and exported.read_text(encoding="utf-8").count("::") >= 12
    code, out, _ = run("quiz", "import", str(exported), "--course", "tri-tue-nhan-tao")
    again = json.loads(out)
    assert code == 0 and again["questions"] == 6 and again["quiz_id"] != first["quiz_id"]  # always a new quiz
    broken = SHARED / "fixtures" / "moodle-question-formats" / "xml" / "error_invalid_grades.xml"
    code, out, err = run("quiz", "import", str(broken), "--course", "tri-tue-nhan-tao")
    assert code == 1 and f"{broken}:38: " in err and out == ""
    code, _, err = run("quiz", "import", "--quiz-id", "x", str(sample), "--course", "tri-tue-nhan-tao")
    assert code == 2 and "--quiz-id" in err  # the option that named (and overwrote) quizzes is gone


def _export(run, quiz_id: str, tmp_path: Path) -> str:  # type: ignore[no-untyped-def]
    path = tmp_path / f"{quiz_id}-{uuid.uuid4().hex[:6]}.gift"
    code, _, err = run("quiz", "export", quiz_id, "-o", str(path))
    assert code == 0, err
    return path.read_text(encoding="utf-8")


def test_quiz_import_draft_replace_and_refusals(run, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    from lms.config import Settings
    from lms.store import Quiz, make_engine

    sample = SHARED / "accept" / "sample_quiz.gift"
    code, out, _ = run("quiz", "import", str(sample), "--course", "dich-vu-cong", "--draft")
    draft = json.loads(out)["quiz_id"]
    engine = make_engine(Settings.load().database_url)
    try:
        with make_sessionmaker(engine)() as session:
            row = session.get(Quiz, draft)
            assert row is not None and row.published is False and row.kind == "practice" and row.owner_id is None
            assert row.max_attempts == 0 and row.cooldown_minutes == 0
    finally:
        engine.dispose()
    assert _export(run, draft, tmp_path).count("::") >= 12  # export works for a draft too
    small = tmp_path / "cuoi-khoa.gift"
    small.write_text("::q1:: Bầu trời màu xanh? {TRUE}\n", encoding="utf-8")
    # the operator replaces the bank of a quiz imported at the command line: same id, new bank
    code, out, _ = run("quiz", "import", str(small), "--course", "dich-vu-cong", "--replace", draft)
    assert code == 0 and json.loads(out) == {"quiz_id": draft, "questions": 1, "skipped": 0}
    assert "Bầu trời" in _export(run, draft, tmp_path)
    # refusals: a quiz from quizzes/, a missing quiz, another course; each exits 1 and changes nothing
    final = "dich-vu-cong-cuoi-khoa"
    before = _export(run, final, tmp_path)
    for target, course, key in ((final, "dich-vu-cong", "quiz.replace_forbidden"),
                                ("dich-vu-cong-bai-01", "dich-vu-cong", "quiz.replace_forbidden"),
                                ("imp_000000000000", "dich-vu-cong", "quiz.not_found"),
                                (draft, "an-toan-so", "quiz.invalid")):
        code, out, err = run("quiz", "import", str(small), "--course", course, "--replace", target)
        assert (code, out) == (1, "") and key in err, (target, err)
    assert _export(run, final, tmp_path) == before
    # a file named like the final imports as a new quiz beside it
    code, out, _ = run("quiz", "import", str(small), "--course", "dich-vu-cong")
    assert code == 0 and json.loads(out)["quiz_id"] not in (final, draft)
    assert _export(run, final, tmp_path) == before


def test_co_owners_are_granted_by_the_operator(run) -> None:  # type: ignore[no-untyped-def]
    login = f"gv{uuid.uuid4().hex[:8]}@example.vn"
    code, _, _ = run("users", "create", "--role", "trainer", "--login", login, "--password", "Mat-khau-2026!",
                     "--unit", "86")
    assert code == 0
    code, out, _ = run("content", "co-owner", "an-toan-so", "--login", login)
    assert code == 0 and json.loads(out) == {"course_id": "an-toan-so", "co_owner": login}
    code, _, err = run("quiz", "co-owner", "an-toan-so-cuoi-khoa", "--login", login)
    assert code == 1 and "quiz.file_only" in err


def test_roster_dry_run_stores_nothing(run, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    tag = uuid.uuid4().hex[:6]
    path = tmp_path / "roster.csv"
    path.write_text(f"full_name,login,unit_code,agency,position\nVõ Thị Sáu,cb.{tag}@vinhlong.gov.vn,28756,"
                    "UBND Phường Phú Khương,Công chức\n", encoding="utf-8")
    code, out, _ = run("roster", "import", str(path), "--dry-run")
    assert code == 0 and json.loads(out)["created"] == 1
    code, out, _ = run("roster", "import", str(path))
    assert code == 0 and json.loads(out)["created"] == 1  # the dry run stored nothing
    code, out, _ = run("roster", "import", str(path))
    assert json.loads(out)["unchanged"] == 1


def test_retention_dry_run_and_settings(run, monkeypatch: pytest.MonkeyPatch) -> None:  # type: ignore[no-untyped-def]
    monkeypatch.setenv("LMS_TOKEN_RETENTION_DAYS", "7")
    code, out, _ = run("retention", "--dry-run")
    report = json.loads(out.strip().splitlines()[-1])
    assert code == 0 and report["dry_run"] is True and report["days"]["tokens"] == 7
    monkeypatch.setenv("LMS_TOKEN_RETENTION_DAYS", "forever")
    from lms.config import ConfigurationError, Settings

    with pytest.raises(ConfigurationError, match="LMS_TOKEN_RETENTION_DAYS"):
        Settings.load({})


def test_demo_seed_refuses_in_production_and_creates_nothing(run, monkeypatch: pytest.MonkeyPatch,
                                                              engine) -> None:  # type: ignore[no-untyped-def]
    from sqlalchemy import func, select

    from lms.store import User

    with make_sessionmaker(engine, expire_on_commit=True)() as s:
        before = s.scalar(select(func.count()).select_from(User))
    monkeypatch.setenv("LMS_ENV", "production")
    code, out, err = run("demo", "seed")
    assert code == 1 and "production" in err and out == ""
    with make_sessionmaker(engine, expire_on_commit=True)() as s:
        assert s.scalar(select(func.count()).select_from(User)) == before


def test_users_setup_code_prints_a_one_time_code(run) -> None:  # type: ignore[no-untyped-def]
    login = f"{uuid.uuid4().hex[:8]}@example.vn"
    assert run("users", "create", "--role", "official", "--login", login, "--password", "Mat-khau-2026!")[0] == 0
    code, out, _ = run("users", "setup-code", "--login", login)
    printed = json.loads(out)
    assert code == 0 and len(printed["code"]) == 11 and printed["url"].endswith("/first-password")
    assert run("users", "setup-code", "--login", "khong-co@example.vn")[0] == 1
