"""Settings: one frozen dataclass, read once from ``LMS_*`` variables.

The embedded default needs nothing: SQLite under ``instance/`` and a secret key generated
there on first run. ``LMS_ENV=production`` refuses to start without an explicit secret key
and database URL, because a generated secret on a cluster of servers would differ per node.
"""

from __future__ import annotations

import hashlib
import hmac
import os
import secrets
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path

__all__ = ["PROJECT_ROOT", "ConfigurationError", "Settings"]

PROJECT_ROOT = Path(__file__).resolve().parent.parent


def _home() -> Path:
    """Where ``instance/``, ``course_content/`` and ``quizzes/`` live unless set: beside the
    package in a source checkout; in the working directory when the LMS is an installed wheel
    inside someone else's site (site-packages is no place for a database)."""
    return PROJECT_ROOT if (PROJECT_ROOT / "setup.cfg").is_file() else Path.cwd()


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
    instance_path: Path = field(default_factory=lambda: _home() / "instance")
    content_path: Path = field(default_factory=lambda: _home() / "course_content")
    quizzes_path: Path = field(default_factory=lambda: _home() / "quizzes")
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
    # Single sign-on with an OpenID Connect provider (VNeID or a province's own); off when no issuer
    oidc_issuer: str | None = None
    oidc_client_id: str = ""
    oidc_client_secret: str = field(default="", repr=False)
    oidc_name: str = "VNeID"
    oidc_scopes: str = "openid profile phone"
    # Learning records (xAPI 1.0.3): the LRS's base URL ("…/xAPI/"); unset, no statement is written
    xapi_endpoint: str | None = None
    xapi_username: str = ""
    xapi_password: str = field(default="", repr=False)
    # Key of the opaque actor names: set it explicitly so that names survive a new LMS_SECRET_KEY
    xapi_actor_key: str = field(default="", repr=False)
    # How stale a kept page may be after content changed in another process (issue 14)
    content_recheck_seconds: float = 1.0
    # Reverse proxies in front of the app server (nginx: 1) whose X-Forwarded-For and -Proto are
    # believed; 0 (the default) believes none, since anyone can send those headers.
    trusted_proxies: int = 0
    attempt_lane: bool = True  # LMS_ATTEMPT_LANE=0: the attempt API's hot requests go through Flask too

    @property
    def production(self) -> bool:
        return self.env == "production"

    @property
    def oidc_enabled(self) -> bool:
        return bool(self.oidc_issuer and self.oidc_client_id)

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
        instance = Path(get("LMS_INSTANCE_PATH") or _home() / "instance")
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
        # Kept exactly as given: it is compared byte for byte with the `iss` of every token.
        oidc_issuer = (get("LMS_OIDC_ISSUER") or "").strip() or None
        if oidc_issuer and not get("LMS_OIDC_CLIENT_ID"):
            raise ConfigurationError("LMS_OIDC_ISSUER needs LMS_OIDC_CLIENT_ID; refusing to start.")
        if oidc_issuer and env == "production" and not oidc_issuer.startswith("https://"):
            raise ConfigurationError("LMS_OIDC_ISSUER must be an https:// URL in production; refusing to start.")
        scopes = " ".join((get("LMS_OIDC_SCOPES") or "openid profile phone").split())
        if "openid" not in scopes.split():
            scopes = "openid " + scopes
        return cls(
            env=env,
            database_url=database_url,
            secret_key=secret_key,
            redis_url=redis_url,
            port=int(get("LMS_PORT") or 5000),
            default_language=get("LMS_DEFAULT_LANGUAGE") or "vi",
            timezone=get("LMS_TIMEZONE") or "Asia/Ho_Chi_Minh",
            instance_path=instance,
            content_path=Path(get("LMS_CONTENT_PATH") or _home() / "course_content"),
            quizzes_path=Path(get("LMS_QUIZZES_PATH") or _home() / "quizzes"),
            secure_cookies=_bool(get("LMS_SECURE_COOKIES"), env == "production"),
            ratelimit_storage_url=get("LMS_RATELIMIT_STORAGE_URL") or redis_url or "memory://",
            signing_key=Path(k) if (k := get("LMS_SIGNING_KEY")) else None,
            signing_cert=Path(c) if (c := get("LMS_SIGNING_CERT")) else None,
            issuer_name=get("LMS_ISSUER_NAME") or "Phong trào Bình dân học vụ số",
            audit_retention_days=_days(get("LMS_AUDIT_RETENTION_DAYS"), 5 * 365, "LMS_AUDIT_RETENTION_DAYS"),
            token_retention_days=_days(get("LMS_TOKEN_RETENTION_DAYS"), 90, "LMS_TOKEN_RETENTION_DAYS"),
            job_retention_days=_days(get("LMS_JOB_RETENTION_DAYS"), 30, "LMS_JOB_RETENTION_DAYS"),
            oidc_issuer=oidc_issuer,
            oidc_client_id=get("LMS_OIDC_CLIENT_ID") or "",
            oidc_client_secret=get("LMS_OIDC_CLIENT_SECRET") or "",
            oidc_name=get("LMS_OIDC_NAME") or "VNeID",
            oidc_scopes=scopes,
            xapi_endpoint=(get("LMS_XAPI_ENDPOINT") or "").strip() or None,
            xapi_username=get("LMS_XAPI_USERNAME") or "",
            xapi_password=get("LMS_XAPI_PASSWORD") or "",
            xapi_actor_key=get("LMS_XAPI_ACTOR_KEY") or _derived(secret_key, "lms xapi actor"),
            public_url=(get("LMS_PUBLIC_URL") or f"http://127.0.0.1:{int(get('LMS_PORT') or 5000)}").rstrip("/"),
            content_recheck_seconds=_seconds(get("LMS_CONTENT_RECHECK_SECONDS"), 1.0, "LMS_CONTENT_RECHECK_SECONDS"),
            trusted_proxies=_proxies(get("LMS_TRUSTED_PROXIES")),
            attempt_lane=_bool(get("LMS_ATTEMPT_LANE"), True),
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


def _proxies(value: str | None) -> int:
    if not value:
        return 0
    if not value.isdecimal() or int(value) > 5:
        raise ConfigurationError(f"LMS_TRUSTED_PROXIES must be a number of proxies from 0 to 5, not {value!r}.")
    return int(value)


def _derived(secret: str, purpose: str) -> str:
    """A key for one purpose derived from the secret key, so one leaked use reveals no other."""
    return hmac.new(secret.encode(), purpose.encode(), hashlib.sha256).hexdigest()


def _instance_secret(instance: Path) -> str:
    """A secret generated once into ``instance/secret_key`` and reused on every start. The
    instance folder (database, secret, signing key) is private to the server's user: 0700."""
    instance.mkdir(mode=0o700, parents=True, exist_ok=True)
    try:
        if instance.stat().st_uid == os.getuid() and instance.stat().st_mode & 0o077:
            instance.chmod(0o700)
    except OSError:
        pass
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
