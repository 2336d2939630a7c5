from __future__ import annotations

import os
import runpy
from pathlib import Path

import pytest

from lms.config import ConfigurationError, Settings


def test_embedded_default_needs_no_configuration(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    for key in ("LMS_DATABASE_URL", "LMS_SECRET_KEY", "LMS_ENV", "LMS_REDIS_URL"):
        monkeypatch.delenv(key, raising=False)
    first = Settings.load({"LMS_INSTANCE_PATH": str(tmp_path)})
    assert first.database_url == f"sqlite:///{tmp_path / 'lms.db'}"
    assert len(first.secret_key) >= 64
    assert (tmp_path / "secret_key").stat().st_mode & 0o077 == 0  # readable by the owner only
    again = Settings.load({"LMS_INSTANCE_PATH": str(tmp_path)})
    assert again.secret_key == first.secret_key  # generated once, reused on every start


def test_production_refuses_without_secret_and_database(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    for key in ("LMS_DATABASE_URL", "LMS_SECRET_KEY"):
        monkeypatch.delenv(key, raising=False)
    with pytest.raises(ConfigurationError, match="LMS_SECRET_KEY and LMS_DATABASE_URL"):
        Settings.load({"LMS_ENV": "production", "LMS_INSTANCE_PATH": str(tmp_path)})
    ok = Settings.load({"LMS_ENV": "production", "LMS_SECRET_KEY": "s" * 40,
                        "LMS_DATABASE_URL": "postgresql://u@h/db"})
    assert ok.database_url == "postgresql+psycopg://u@h/db"
    assert ok.secure_cookies is True
    assert not (tmp_path / "secret_key").exists()


def test_settings_are_frozen() -> None:
    s = Settings.load({"LMS_SECRET_KEY": "k" * 40, "LMS_DATABASE_URL": "sqlite://"})
    with pytest.raises(AttributeError):
        s.port = 1  # type: ignore[misc]


def test_host_config_wins_over_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("LMS_PORT", "7000")
    assert Settings.load({"LMS_PORT": 8123, "LMS_SECRET_KEY": "k", "LMS_DATABASE_URL": "sqlite://"}).port == 8123
    assert Settings.load({"LMS_SECRET_KEY": "k", "LMS_DATABASE_URL": "sqlite://"}).port == 7000


def test_single_sign_on_settings(monkeypatch: pytest.MonkeyPatch) -> None:
    for key in ("LMS_OIDC_ISSUER", "LMS_OIDC_CLIENT_ID", "LMS_OIDC_CLIENT_SECRET", "LMS_OIDC_NAME", "LMS_OIDC_SCOPES"):
        monkeypatch.delenv(key, raising=False)
    base = {"LMS_SECRET_KEY": "k" * 40, "LMS_DATABASE_URL": "sqlite://"}
    off = Settings.load(base)
    assert off.oidc_issuer is None and not off.oidc_enabled
    on = Settings.load({**base, "LMS_OIDC_ISSUER": "https://sso.example.gov.vn/", "LMS_OIDC_CLIENT_ID": "lms",
                        "LMS_OIDC_CLIENT_SECRET": "s3cret", "LMS_OIDC_SCOPES": "profile  phone email"})
    assert on.oidc_enabled and on.oidc_issuer == "https://sso.example.gov.vn/"  # kept exactly: compared to `iss`
    assert on.oidc_scopes == "openid profile phone email" and on.oidc_name == "VNeID"
    assert "s3cret" not in repr(on)
    with pytest.raises(ConfigurationError, match="LMS_OIDC_CLIENT_ID"):
        Settings.load({**base, "LMS_OIDC_ISSUER": "https://sso.example.gov.vn"})
    with pytest.raises(ConfigurationError, match="https"):
        Settings.load({**base, "LMS_ENV": "production", "LMS_OIDC_ISSUER": "http://sso.example.gov.vn",
                       "LMS_OIDC_CLIENT_ID": "lms"})


def test_the_visitors_address_comes_from_the_proxy_only_when_it_is_trusted(tmp_path: Path) -> None:
    """Behind nginx (docs/operations.md) every request comes from nginx: with LMS_TRUSTED_PROXIES=1
    the app takes the visitor's address and scheme from the headers nginx sets, otherwise never
    (anyone can send X-Forwarded-For)."""
    from flask import request

    from lms import create_app

    with pytest.raises(ConfigurationError, match="LMS_TRUSTED_PROXIES"):
        Settings.load({"LMS_INSTANCE_PATH": str(tmp_path), "LMS_TRUSTED_PROXIES": "many"})
    seen = {}
    for proxies in ("0", "1"):
        settings = Settings.load({"LMS_INSTANCE_PATH": str(tmp_path), "LMS_TRUSTED_PROXIES": proxies,
                                  "LMS_DATABASE_URL": f"sqlite:///{tmp_path}/lms.db"})
        app = create_app(settings)
        app.config["TESTING"] = True  # no background senders: this database has no tables

        @app.get("/_who")
        def who() -> str:
            return f"{request.remote_addr} {request.scheme}"

        seen[proxies] = app.test_client().get(
            "/_who", headers={"X-Forwarded-For": "203.0.113.7", "X-Forwarded-Proto": "https"},
            environ_base={"REMOTE_ADDR": "127.0.0.1"}).get_data(as_text=True)
        app.extensions["lms"].engine.dispose()
    assert seen == {"0": "127.0.0.1 http", "1": "203.0.113.7 https"}


@pytest.mark.parametrize(("env", "expected"), [
    ({}, 2),
    ({"LMS_DATABASE_URL": "sqlite:////srv/lms/lms.db"}, 2),
    ({"LMS_DATABASE_URL": "postgresql://lms@db/lms"}, len(os.sched_getaffinity(0)) + 1),
    ({"LMS_DATABASE_URL": "postgresql+psycopg://lms@db/lms"}, len(os.sched_getaffinity(0)) + 1),
    ({"LMS_DATABASE_URL": "postgresql://lms@db/lms", "LMS_WORKERS": "5"}, 5),
    ({"LMS_WORKERS": "1"}, 1),
])
def test_gunicorn_runs_more_workers_on_postgresql_unless_told(monkeypatch: pytest.MonkeyPatch, env: dict[str, str],
                                                              expected: int) -> None:
    for name in ("LMS_DATABASE_URL", "LMS_WORKERS"):
        monkeypatch.delenv(name, raising=False)
    for name, value in env.items():
        monkeypatch.setenv(name, value)
    conf = runpy.run_path(str(Path(__file__).resolve().parents[1] / "gunicorn.conf.py"))
    assert conf["workers"] == expected and conf["worker_class"] == "sync"
