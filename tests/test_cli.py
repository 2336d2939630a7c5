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
    code, out, _ = run("quiz", "import", str(sample), "--course", "tri-tue-nhan-tao", "--quiz-id", "cli-sample")
    assert code == 0 and json.loads(out) == {"quiz_id": "cli-sample", "questions": 6, "skipped": 0}
    exported = tmp_path / "export.gift"
    code, _, _ = run("quiz", "export", "cli-sample", "-o", str(exported))
    assert code == 0 and exported.read_text(encoding="utf-8").count("::") >= 12
    code, out, _ = run("quiz", "import", str(exported), "--course", "tri-tue-nhan-tao", "--quiz-id", "cli-again")
    assert code == 0 and json.loads(out)["questions"] == 6
    broken = SHARED / "fixtures" / "moodle-question-formats" / "xml" / "error_invalid_grades.xml"
    code, out, err = run("quiz", "import", str(broken), "--course", "tri-tue-nhan-tao")
    assert code == 1 and f"{broken}:38: " in err and out == ""


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
