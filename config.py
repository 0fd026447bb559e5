"""Configuration classes for the partnership-proposal tracker.

Every setting can come from the environment with the ``TRACKER_`` prefix, for example
``TRACKER_DATABASE_URL`` or ``TRACKER_SECRET_KEY``. ``TRACKER_CONFIG`` picks the class
(``development``, ``production`` or ``testing``; development when unset).
"""

from __future__ import annotations

import os
import secrets
import time
from datetime import timedelta
from pathlib import Path

PREFIX = "TRACKER_"


def env(name: str, default: str | None = None) -> str | None:
    """Read ``TRACKER_<name>`` from the environment."""
    return os.environ.get(PREFIX + name, default)


def env_bool(name: str, default: bool = False) -> bool:
    value = env(name)
    if value is None:
        return default
    return value.strip().lower() in {"1", "true", "yes", "on"}


def env_int(name: str, default: int) -> int:
    value = env(name)
    return int(value) if value else default


class Config:
    """Settings shared by every environment."""

    SECRET_KEY = env("SECRET_KEY")
    # The key of the history chains' HMAC; it must not live in the database (README).
    HISTORY_KEY = env("HISTORY_KEY")
    # None means "SQLite in the instance folder"; create_app fills it in.
    SQLALCHEMY_DATABASE_URI = env("DATABASE_URL")
    SQLALCHEMY_ENGINE_OPTIONS: dict = {"pool_pre_ping": True}
    UPLOAD_FOLDER = env("UPLOAD_FOLDER")  # None means "<instance>/uploads"
    UPLOAD_MAX_BYTES = 20 * 1024 * 1024
    # Room for a few documents at the limit, so the per-file check can answer at the field
    # (which file, what the limit is) with the rest of the form kept.
    MAX_CONTENT_LENGTH = 5 * UPLOAD_MAX_BYTES + 1024 * 1024
    MAX_FORM_MEMORY_SIZE = 2 * 1024 * 1024

    # Sessions live on the server (tracker.auth.models.UserSession) and end after this long
    # unused, on sign-out, or from the account page. The cookie, which only names the session
    # and holds the CSRF token, lasts longer: a form posted after the session ended is
    # recognised as its owner's, kept, and given back once they sign in again.
    SESSION_IDLE_LIMIT = timedelta(hours=env_int("SESSION_HOURS", 12))
    PERMANENT_SESSION_LIFETIME = timedelta(days=30)
    SESSION_REFRESH_EACH_REQUEST = True
    SESSION_COOKIE_HTTPONLY = True
    SESSION_COOKIE_SAMESITE = "Lax"
    SESSION_COOKIE_SECURE = False
    REMEMBER_COOKIE_HTTPONLY = True
    WTF_CSRF_TIME_LIMIT = None

    # Counters shared by every worker and server: the database by default, or Redis.
    RATELIMIT_STORAGE_URI = env("RATELIMIT_STORAGE_URI", "tracker-sql://")
    RATELIMIT_ENABLED = True
    LOGIN_RATE_LIMIT = env("LOGIN_RATE_LIMIT", "10 per minute;50 per hour")
    REGISTER_RATE_LIMIT = env("REGISTER_RATE_LIMIT", "5 per minute;20 per hour")
    RATELIMIT_HEADERS_ENABLED = True

    BOOTSTRAP_SERVE_LOCAL = True
    BABEL_DEFAULT_LOCALE = "en"
    BABEL_DEFAULT_TIMEZONE = "Europe/Luxembourg"
    LANGUAGES = ("en", "fr", "de")

    MAIL_SERVER = env("MAIL_SERVER")
    MAIL_PORT = env_int("MAIL_PORT", 25)
    MAIL_USERNAME = env("MAIL_USERNAME")
    MAIL_PASSWORD = env("MAIL_PASSWORD")
    MAIL_USE_TLS = env_bool("MAIL_USE_TLS")
    # Staff pages kept as rendered until the data changes (tracker.core.pagecache); off, every
    # view is made afresh (to measure that, or to rule the cache out).
    PAGE_CACHE = env_bool("PAGE_CACHE", True)
    MAIL_DEFAULT_SENDER = env("MAIL_DEFAULT_SENDER", "tracker@localhost")
    # The outbox worker: tries before a message is marked failed, and the first wait between
    # tries (it doubles after each).
    MAIL_MAX_ATTEMPTS = env_int("MAIL_MAX_ATTEMPTS", 6)
    MAIL_RETRY_SECONDS = env_int("MAIL_RETRY_SECONDS", 30)
    # Links in e-mails start with this address (the worker has no request to take it from).
    BASE_URL = env("BASE_URL", "http://127.0.0.1:5000")
    AGENCY_NAME = env("AGENCY_NAME", "Partnership tracker")
    # Reminders: before a draft's deadline, after an assignment without a score, after a
    # request for information without an answer; digests at this Luxembourg hour.
    REMINDER_DEADLINE_DAYS = (7, 1)
    REMINDER_SCORE_DAYS = env_int("REMINDER_SCORE_DAYS", 5)
    REMINDER_ANSWER_DAYS = env_int("REMINDER_ANSWER_DAYS", 10)
    REMINDER_REPORT_DAYS = env_int(
        "REMINDER_REPORT_DAYS", 14
    )  # before a report or condition is due
    DIGEST_HOUR = env_int("DIGEST_HOUR", 7)
    # Two-factor sign-in required for every staff role.
    REQUIRE_2FA_FOR_STAFF = env_bool("REQUIRE_2FA_FOR_STAFF")

    HSTS_SECONDS = 0  # production sends Strict-Transport-Security
    # A folder of the installation's own workflow files (YAML, see docs/workflows.md).
    WORKFLOWS_DIR = env("WORKFLOWS_DIR")
    QUEUE_PAGE_SIZE = 25
    INVITATION_DAYS = 14

    @classmethod
    def init_app(cls, app) -> None:
        """Hook for settings that need the app (instance path, checks)."""


class DevelopmentConfig(Config):
    """Local use: SQLite in the instance folder and a secret key kept beside it."""

    DEBUG = False

    @classmethod
    def init_app(cls, app) -> None:
        if not app.config.get("SECRET_KEY"):
            app.config["SECRET_KEY"] = instance_secret(Path(app.instance_path))
        if not app.config.get("HISTORY_KEY"):
            app.config["HISTORY_KEY"] = instance_secret(Path(app.instance_path), "history_key")


class TestingConfig(Config):
    """The test suite: no rate limits unless a test turns them on, fast password hashing."""

    TESTING = True
    SECRET_KEY = "testing-only-secret"  # noqa: S105 - a fixed key only for the test suite
    HISTORY_KEY = "testing-only-history-key"
    RATELIMIT_ENABLED = False
    PASSWORD_HASH_METHOD = "pbkdf2:sha256:1000"  # noqa: S105 - a hashing method, fast for tests
    SQLALCHEMY_ENGINE_OPTIONS: dict = {}


class ProductionConfig(Config):
    """Behind a load balancer, on PostgreSQL, with Secure cookies; needs TRACKER_SECRET_KEY."""

    # Browsers remember to use HTTPS only (a year), so no request ever goes out in clear.
    HSTS_SECONDS = 31536000
    SESSION_COOKIE_SECURE = True
    REMEMBER_COOKIE_SECURE = True
    PREFERRED_URL_SCHEME = "https"

    @classmethod
    def init_app(cls, app) -> None:
        if not app.config.get("SECRET_KEY"):
            raise RuntimeError(
                "TRACKER_SECRET_KEY is not set: the production configuration refuses to start "
                "without a secret key."
            )
        if not app.config.get("HISTORY_KEY"):
            # A key file made earlier may be used; a new one is never generated here, as each
            # app server would make its own and the chains would disagree.
            path = Path(app.instance_path) / "history_key"
            key = path.read_text().strip() if path.is_file() else ""
            if not key:
                raise RuntimeError(
                    "TRACKER_HISTORY_KEY is not set (nor instance/history_key): the production "
                    "configuration refuses to start without the key of the history chains."
                )
            app.config["HISTORY_KEY"] = key


CONFIGS = {
    "development": DevelopmentConfig,
    "testing": TestingConfig,
    "production": ProductionConfig,
}


def config_from_environment() -> type[Config]:
    """The configuration class named by ``TRACKER_CONFIG``."""
    name = (env("CONFIG") or "development").lower()
    try:
        return CONFIGS[name]
    except KeyError:
        raise RuntimeError(
            f"TRACKER_CONFIG={name!r} is not one of {', '.join(sorted(CONFIGS))}"
        ) from None


def instance_secret(instance: Path, name: str = "secret_key") -> str:
    """A random key generated once and kept in the instance folder (never in the repository).

    Created with O_EXCL, so several workers starting at once all read the same key.
    """
    instance.mkdir(parents=True, exist_ok=True)
    path = instance / name
    try:
        descriptor = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    except FileExistsError:
        for _ in range(50):
            key = path.read_text().strip()
            if key:
                return key
            time.sleep(0.02)  # another worker is writing it
        raise RuntimeError(f"{path} is empty") from None
    key = secrets.token_hex(32)
    with os.fdopen(descriptor, "w") as handle:
        handle.write(key)
    return key
