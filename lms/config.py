"""Settings: one frozen dataclass, read once from ``LMS_*`` variables.

The embedded default needs nothing: SQLite under ``instance/`` and a secret key generated
there on first run. ``LMS_ENV=production`` refuses to start without an explicit secret key
and database URL, because a generated secret on a cluster of servers would differ per node.
"""

from __future__ import annotations

import os
import secrets
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path

__all__ = ["PROJECT_ROOT", "ConfigurationError", "Settings"]

PROJECT_ROOT = Path(__file__).resolve().parent.parent


class ConfigurationError(RuntimeError):
    """The settings cannot run the application safely."""


def _bool(value: str | None, default: bool) -> bool:
    if value is None or value == "":
        return default
    return value.strip().lower() in {"1", "true", "yes", "on"}


@dataclass(frozen=True)
class Settings:
    env: str = "development"
    database_url: str = ""
    secret_key: str = field(default="", repr=False)
    redis_url: str | None = None
    port: int = 5000
    default_language: str = "vi"
    timezone: str = "Asia/Ho_Chi_Minh"
    instance_path: Path = PROJECT_ROOT / "instance"
    content_path: Path = PROJECT_ROOT / "course_content"
    quizzes_path: Path = PROJECT_ROOT / "quizzes"
    token_lifetime_hours: int = 24 * 30
    secure_cookies: bool = False
    login_failures_per_window: int = 10
    ratelimit_storage_url: str = "memory://"
    public_url: str = "http://127.0.0.1:5000"
    signing_key: Path | None = None  # PEM private key of the issuing organisation
    signing_cert: Path | None = None  # its PEM certificate
    issuer_name: str = "Phong trào Bình dân học vụ số"
    # Retention (Law 91/2025/QH15: keep personal data no longer than its purpose needs), in days
    audit_retention_days: int = 5 * 365  # who changed grades, certificates, roles: kept for audits
    token_retention_days: int = 90  # expired or revoked API tokens
    job_retention_days: int = 30  # finished jobs with their uploaded and exported files
    # How stale a kept page may be after content changed in another process (issue 14)
    content_recheck_seconds: float = 1.0

    @property
    def production(self) -> bool:
        return self.env == "production"

    @property
    def is_sqlite(self) -> bool:
        return self.database_url.startswith("sqlite")

    @classmethod
    def load(cls, source: Mapping[str, object] | None = None) -> Settings:
        """Read ``LMS_*`` keys from ``source`` (a host app's config), then the environment."""

        def get(key: str) -> str | None:
            if source is not None and source.get(key) is not None:
                return str(source.get(key))
            return os.environ.get(key)

        env = get("LMS_ENV") or "development"
        instance = Path(get("LMS_INSTANCE_PATH") or PROJECT_ROOT / "instance")
        database_url = get("LMS_DATABASE_URL") or ""
        secret_key = get("LMS_SECRET_KEY") or ""
        if env == "production":
            missing = [k for k, v in (("LMS_SECRET_KEY", secret_key), ("LMS_DATABASE_URL", database_url)) if not v]
            if missing:
                raise ConfigurationError(
                    "LMS_ENV=production needs an explicit " + " and ".join(missing) + "; refusing to start."
                )
        if env == "production" and bool(get("LMS_SIGNING_KEY")) != bool(get("LMS_SIGNING_CERT")):
            raise ConfigurationError("LMS_SIGNING_KEY and LMS_SIGNING_CERT go together; refusing to start.")
        if not database_url:
            database_url = f"sqlite:///{instance / 'lms.db'}"
        if database_url.startswith("postgresql://"):
            database_url = "postgresql+psycopg://" + database_url[len("postgresql://"):]
        if not secret_key:
            secret_key = _instance_secret(instance)
        redis_url = get("LMS_REDIS_URL") or None
        return cls(
            env=env,
            database_url=database_url,
            secret_key=secret_key,
            redis_url=redis_url,
            port=int(get("LMS_PORT") or 5000),
            default_language=get("LMS_DEFAULT_LANGUAGE") or "vi",
            timezone=get("LMS_TIMEZONE") or "Asia/Ho_Chi_Minh",
            instance_path=instance,
            content_path=Path(get("LMS_CONTENT_PATH") or PROJECT_ROOT / "course_content"),
            quizzes_path=Path(get("LMS_QUIZZES_PATH") or PROJECT_ROOT / "quizzes"),
            secure_cookies=_bool(get("LMS_SECURE_COOKIES"), env == "production"),
            ratelimit_storage_url=get("LMS_RATELIMIT_STORAGE_URL") or redis_url or "memory://",
            signing_key=Path(k) if (k := get("LMS_SIGNING_KEY")) else None,
            signing_cert=Path(c) if (c := get("LMS_SIGNING_CERT")) else None,
            issuer_name=get("LMS_ISSUER_NAME") or "Phong trào Bình dân học vụ số",
            audit_retention_days=_days(get("LMS_AUDIT_RETENTION_DAYS"), 5 * 365, "LMS_AUDIT_RETENTION_DAYS"),
            token_retention_days=_days(get("LMS_TOKEN_RETENTION_DAYS"), 90, "LMS_TOKEN_RETENTION_DAYS"),
            job_retention_days=_days(get("LMS_JOB_RETENTION_DAYS"), 30, "LMS_JOB_RETENTION_DAYS"),
            public_url=(get("LMS_PUBLIC_URL") or f"http://127.0.0.1:{int(get('LMS_PORT') or 5000)}").rstrip("/"),
            content_recheck_seconds=_seconds(get("LMS_CONTENT_RECHECK_SECONDS"), 1.0, "LMS_CONTENT_RECHECK_SECONDS"),
        )


def _seconds(value: str | None, default: float, name: str) -> float:
    if not value:
        return default
    try:
        seconds = float(value)
    except ValueError:
        seconds = -1.0
    if not 0 <= seconds <= 3600:
        raise ConfigurationError(f"{name} must be a number of seconds from 0 to 3600, not {value!r}.")
    return seconds


def _days(value: str | None, default: int, name: str) -> int:
    if not value:
        return default
    if not value.isdecimal() or not 1 <= int(value) <= 36500:
        raise ConfigurationError(f"{name} must be a number of days from 1 to 36500, not {value!r}.")
    return int(value)


def _instance_secret(instance: Path) -> str:
    """A secret generated once into ``instance/secret_key`` and reused on every start."""
    instance.mkdir(parents=True, exist_ok=True)
    path = instance / "secret_key"
    try:
        return path.read_text(encoding="ascii").strip()
    except FileNotFoundError:
        pass
    key = secrets.token_hex(32)
    try:
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    except FileExistsError:  # another worker won the race: use its key
        return path.read_text(encoding="ascii").strip()
    with os.fdopen(fd, "w", encoding="ascii") as f:
        f.write(key)
    return key
