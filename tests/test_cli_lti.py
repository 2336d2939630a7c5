"""The `lms lti` commands: thin, each over one service."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from click.testing import CliRunner
from sqlalchemy import Engine, delete
from sqlalchemy.orm import Session

from lms.cli import main
from lms.store.models import LtiKey, LtiPlatform


@pytest.fixture()
def run(database_url: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch):  # type: ignore[no-untyped-def]
    monkeypatch.setenv("LMS_DATABASE_URL", database_url)
    monkeypatch.setenv("LMS_INSTANCE_PATH", str(tmp_path / "instance"))
    monkeypatch.setenv("LMS_SECRET_KEY", "c" * 40)
    monkeypatch.setenv("LMS_PUBLIC_URL", "https://lms.example.vn")
    monkeypatch.delenv("LMS_REDIS_URL", raising=False)

    def invoke(*args: str) -> tuple[int, str]:
        result = CliRunner().invoke(main, list(args), catch_exceptions=False)
        return result.exit_code, result.stdout

    return invoke


def test_platforms_add_list_rotate_flush_and_registration_url(run, engine: Engine) -> None:  # type: ignore[no-untyped-def]
    args = ["lti", "platforms", "add", "--issuer", "https://moodle.example.vn", "--client-id", "abc123",
            "--auth-login-url", "https://moodle.example.vn/mod/lti/auth.php",
            "--auth-token-url", "https://moodle.example.vn/mod/lti/token.php",
            "--keyset-url", "https://moodle.example.vn/mod/lti/certs.php"]
    try:
        code, out = run(*args, "--deployment-id", "1")
        assert code == 0
        platform_id = json.loads(out)["platform_id"]
        code, out = run(*args, "--deployment-id", "2")
        assert code == 0 and json.loads(out)["platform_id"] == platform_id  # one platform, two deployments
        code, out = run("lti", "platforms", "list")
        listed = [x for x in json.loads(out) if x["platform_id"] == platform_id]
        assert listed[0]["deployment_ids"] == ["1", "2"] and listed[0]["client_id"] == "abc123"
        code, out = run(*args[:5], "--client-id", "x", "--deployment-id", "1", "--auth-login-url", "not a url",
                        "--auth-token-url", "https://a.vn/t", "--keyset-url", "https://a.vn/k")
        assert code == 1
        code, out = run("lti", "rotate-key", "--grace-hours", "1")
        assert code == 0 and len(json.loads(out)["published"]) >= 2
        code, out = run("lti", "flush")
        assert code == 0 and set(json.loads(out)) == {"sent", "failed", "pending"}
        code, out = run("lti", "registration-url")
        assert code == 0 and json.loads(out)["url"].startswith("https://lms.example.vn/lti/register?grant=")
        code, out = run("lti", "roster-sync")
        assert code == 0 and json.loads(out)["errors"] == []
    finally:
        with Session(engine) as s, s.begin():
            s.execute(delete(LtiPlatform).where(LtiPlatform.client_id == "abc123"))
            s.execute(delete(LtiKey))


def test_platforms_remove_a_deployment_then_the_platform(run, engine: Engine) -> None:  # type: ignore[no-untyped-def]
    args = ["lti", "platforms", "add", "--issuer", "https://canvas.example.vn", "--client-id", "rm-cli",
            "--auth-login-url", "https://canvas.example.vn/auth", "--auth-token-url", "https://canvas.example.vn/token",
            "--keyset-url", "https://canvas.example.vn/jwks"]
    try:
        platform_id = json.loads(run(*args, "--deployment-id", "a")[1])["platform_id"]
        run(*args, "--deployment-id", "b")
        code, out = run("lti", "platforms", "remove", str(platform_id), "--deployment-id", "a")
        assert code == 0 and json.loads(out)["deployment_ids"] == ["b"]
        code, out = run("lti", "platforms", "remove", str(platform_id))
        assert code == 0 and json.loads(out) == {"platform_id": platform_id, "removed": "platform", "scores_dropped": 0}
        assert platform_id not in [p["platform_id"] for p in json.loads(run("lti", "platforms", "list")[1])]
        result = CliRunner().invoke(main, ["lti", "platforms", "remove", str(platform_id)])
        assert result.exit_code == 1 and "lti.platform_not_found" in result.output
    finally:
        with Session(engine) as s, s.begin():
            s.execute(delete(LtiPlatform).where(LtiPlatform.client_id == "rm-cli"))
