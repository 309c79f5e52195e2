"""Configuration classes, chosen by APP_SETTINGS and read from the environment.

Every value comes from an environment variable (twelve-factor); `.env` is read in
development only. Staging and production refuse to start without their required
variables, naming the one that is missing.
"""

import os
from datetime import timedelta

from werkzeug.utils import import_string

DEFAULT_SETTINGS = "config.DevelopmentConfig"
DEVELOPMENT_SECRET_KEY = "dev-only-secret-key-do-not-use-in-production"  # noqa: S105


class ConfigError(Exception):
    """A setting is missing or unusable; the message names the variable."""


def database_uri(url):
    """Return a psycopg2 SQLAlchemy URI for a platform `DATABASE_URL`.

    Platforms hand out `postgres://`, and SQLAlchemy 2.1 maps a bare
    `postgresql://` to psycopg 3, so both are pinned to the psycopg2 driver.
    """
    scheme, separator, rest = url.partition("://")
    if not separator or scheme not in ("postgres", "postgresql", "postgresql+psycopg2"):
        raise ConfigError("DATABASE_URL must be a postgres:// or postgresql:// URL")
    return f"postgresql+psycopg2://{rest}"


def bucket_url(bucket, endpoint_url, region):
    """Return a bucket's own URL: path-style under an endpoint, else AWS's regional host."""
    if not bucket:
        return ""
    if endpoint_url:
        return f"{endpoint_url}/{bucket}"
    return f"https://{bucket}.s3.{region}.amazonaws.com"


def int_from_env(environ, name, default, minimum=1):
    """Read a whole-number variable, or raise ConfigError naming it."""
    raw = environ.get(name, "").strip()
    if not raw:
        return default
    try:
        value = int(raw)
    except ValueError:
        raise ConfigError(f"{name} must be a whole number, got {raw!r}") from None
    if value < minimum:
        raise ConfigError(f"{name} must be at least {minimum}, got {value}")
    return value


class Config:
    """Settings shared by every environment."""

    ENVIRONMENT = "base"
    DEBUG = False
    TESTING = False
    REQUIRED = ()

    NOTES_PER_PAGE = 20
    MAX_CONTENT_LENGTH = 10 * 1024 * 1024
    SESSION_COOKIE_HTTPONLY = True
    SESSION_COOKIE_SAMESITE = "Lax"
    REMEMBER_COOKIE_HTTPONLY = True
    REMEMBER_COOKIE_SAMESITE = "Lax"
    REMEMBER_COOKIE_DURATION = timedelta(days=30)
    LOGIN_SESSION_LIFETIME = timedelta(days=30)  # a login session row older than this is dead
    PERMANENT_SESSION_LIFETIME = timedelta(days=14)
    WTF_CSRF_TIME_LIMIT = None  # the token lives as long as the session that signs it
    TRUSTED_PROXY_HOPS = 0
    HSTS_MAX_AGE = 0  # seconds; sent only over HTTPS, so only behind the production router

    # Password guessing (app/auth/throttle.py): after this many failed checks within the
    # window, an email, or a client address, is refused until the window ends.
    LOGIN_FAILURES_PER_EMAIL = 5
    LOGIN_FAILURES_PER_CLIENT = 50  # a whole office behind one address shares it
    LOGIN_THROTTLE_WINDOW = timedelta(minutes=15)
    SIGNUP_THROTTLE_WINDOW = timedelta(hours=1)

    # The word counter fetches one page of at most 2 MB within 10 s (see app/fetcher.py),
    # well inside the router's 30 s, and lists a user's results 20 to a page.
    FETCH_MAX_BYTES = 2 * 1024 * 1024
    FETCH_DEADLINE_SECONDS = 10.0
    RESULTS_PER_PAGE = 20
    SEARCH_RESULTS_PER_PAGE = 20
    # Work a user can queue for the worker before being told to wait (429): enforced in
    # PostgreSQL. Work unfinished after ABANDONED_AFTER is failed (its job was lost).
    WORD_COUNTS_UNFINISHED_PER_USER = 3
    PHOTOS_UNFINISHED_PER_USER = 2
    UNFINISHED_RETRY_AFTER_SECONDS = 30
    ABANDONED_AFTER = timedelta(minutes=15)

    # Attachments (app/attachments/): files go from the browser straight to the object
    # store under a policy Memo signs; these limits are checked before a policy is signed
    # and again when the upload is confirmed.
    ATTACHMENTS_PER_NOTE = 10
    ATTACHMENT_MAX_BYTES = 25 * 1024 * 1024
    ATTACHMENT_QUOTA_BYTES = 1024 * 1024 * 1024  # per user, confirmed attachments
    ATTACHMENT_PENDING_PER_USER = 20  # uploads signed and not yet confirmed, at once
    ATTACHMENT_UPLOAD_MINUTES = 10  # a policy's lifetime: the upload must start by then
    ATTACHMENT_TRANSFER_MINUTES = 30  # how long an upload started in time may still run
    ATTACHMENT_DOWNLOAD_SECONDS = 60  # a download link's lifetime

    def __init__(self, environ=None):
        environ = os.environ if environ is None else environ
        for name in self.REQUIRED:
            if not environ.get(name, "").strip():
                raise ConfigError(f"{name} is not set; {self.ENVIRONMENT} needs it")
        self.SECRET_KEY = environ.get("SECRET_KEY") or DEVELOPMENT_SECRET_KEY
        if "SECRET_KEY" in self.REQUIRED and self.SECRET_KEY == DEVELOPMENT_SECRET_KEY:
            raise ConfigError("SECRET_KEY is the development default; set a random secret")
        self.SQLALCHEMY_DATABASE_URI = database_uri(self.database_url(environ))
        # One connection per gunicorn thread: a request never waits for the pool,
        # and WEB_CONCURRENCY x WEB_THREADS bounds the connections of one dyno.
        self.WEB_CONCURRENCY = int_from_env(environ, "WEB_CONCURRENCY", 2)
        self.WEB_THREADS = int_from_env(environ, "WEB_THREADS", 4)
        # A worker runs this many jobs at once, each in a thread with one connection.
        self.WORKER_CONCURRENCY = int_from_env(environ, "WORKER_CONCURRENCY", 4)
        # A worker that misses three heartbeats is taken for dead: its jobs run again.
        self.WORKER_HEARTBEAT_SECONDS = int_from_env(environ, "WORKER_HEARTBEAT_SECONDS", 10)
        self.SQLALCHEMY_ENGINE_OPTIONS = {
            "pool_pre_ping": True,
            # Connections open on demand: a web process never opens more than its
            # threads, a worker never more than its concurrent jobs.
            "pool_size": max(self.WEB_THREADS, self.WORKER_CONCURRENCY),
            "max_overflow": 0,
            "pool_timeout": 10,
            "pool_recycle": 300,
            "connect_args": {
                "connect_timeout": 5,
                "application_name": "memo",
                # A query that outlives the router's 30 s timeout helps nobody.
                "options": "-c statement_timeout=15000",
            },
        }
        self.LOG_LEVEL = environ.get("LOG_LEVEL", "INFO").upper()
        # Account creation (app/auth/throttle.py): per client address, and all clients together,
        # per SIGNUP_THROTTLE_WINDOW. Enough for a family or an office; a flood is not.
        self.SIGNUPS_PER_CLIENT = int_from_env(environ, "SIGNUPS_PER_CLIENT", 10)
        self.SIGNUPS_IN_TOTAL = int_from_env(environ, "SIGNUPS_IN_TOTAL", 500)
        # How many proxies in front append to X-Forwarded-For: the platform's router is one
        # (a CDN before it makes two). The client's address is read that many hops from the end.
        self.TRUSTED_PROXY_HOPS = int_from_env(
            environ, "TRUSTED_PROXY_HOPS", self.TRUSTED_PROXY_HOPS, minimum=0
        )
        # `flask db upgrade` runs while the previous release serves traffic. Every query on a
        # table queues behind a revision waiting for that table's lock, so the wait is short
        # (pgroll's 0.5 s) and a revision that misses is retried after a jittered, doubling delay.
        self.MIGRATION_LOCK_TIMEOUT_MS = int_from_env(environ, "MIGRATION_LOCK_TIMEOUT_MS", 500)
        self.MIGRATION_STATEMENT_TIMEOUT_MS = int_from_env(
            environ, "MIGRATION_STATEMENT_TIMEOUT_MS", 60_000
        )
        self.MIGRATION_ATTEMPTS = int_from_env(environ, "MIGRATION_ATTEMPTS", 10)
        self.MIGRATION_RETRY_DELAY_SECONDS = (
            int_from_env(environ, "MIGRATION_RETRY_DELAY_MS", 1000, minimum=0) / 1000
        )
        self.MIGRATION_LOCK_WAIT_SECONDS = int_from_env(environ, "MIGRATION_LOCK_WAIT_SECONDS", 600)
        self.read_object_storage(environ)

    def read_object_storage(self, environ):
        """Read where profile photos are stored and the public base URL they are served from."""
        self.S3_BUCKET = environ.get("S3_BUCKET", "").strip()
        self.S3_ENDPOINT_URL = environ.get("S3_ENDPOINT_URL", "").strip().rstrip("/")
        if self.S3_ENDPOINT_URL and not self.S3_ENDPOINT_URL.startswith(("http://", "https://")):
            raise ConfigError("S3_ENDPOINT_URL must be an http:// or https:// URL")
        self.AWS_REGION = environ.get("AWS_REGION", "").strip() or "us-east-1"
        # Empty means boto3's own chain (an instance role, ~/.aws) supplies the credentials.
        self.AWS_ACCESS_KEY_ID = environ.get("AWS_ACCESS_KEY_ID", "").strip() or None
        self.AWS_SECRET_ACCESS_KEY = environ.get("AWS_SECRET_ACCESS_KEY", "").strip() or None
        public_url = environ.get("S3_PUBLIC_URL", "").strip().rstrip("/")
        self.S3_PUBLIC_URL = public_url or self.bucket_url()

    def bucket_url(self):
        """Return the bucket's own URL, for when no S3_PUBLIC_URL (a CDN, say) is set."""
        return bucket_url(self.S3_BUCKET, self.S3_ENDPOINT_URL, self.AWS_REGION)

    def database_url(self, environ):
        """Return the raw database URL this environment connects to."""
        url = environ.get("DATABASE_URL", "").strip()
        if not url:
            raise ConfigError("DATABASE_URL is not set; it must name a PostgreSQL database")
        return url


class DevelopmentConfig(Config):
    """Local development: debug on, `.env` honoured, plain-HTTP cookies."""

    ENVIRONMENT = "development"
    DEBUG = True


class TestingConfig(Config):
    """The test suite: TEST_DATABASE_URL (or DATABASE_URL) names a database it may wipe."""

    ENVIRONMENT = "testing"
    TESTING = True
    # Tests serve pages from 127.0.0.1. Honoured under this config only: see
    # app.wordcount.routes.fetch_settings.
    FETCH_ALLOW_LOOPBACK = True

    def database_url(self, environ):
        """Prefer TEST_DATABASE_URL so a suite never touches the development data."""
        url = environ.get("TEST_DATABASE_URL", "").strip()
        return url or super().database_url(environ)


class ProductionConfig(Config):
    """Production behind an HTTPS router: secrets and a bucket required, cookies Secure."""

    ENVIRONMENT = "production"
    REQUIRED = ("SECRET_KEY", "DATABASE_URL", "S3_BUCKET")
    SESSION_COOKIE_SECURE = True
    REMEMBER_COOKIE_SECURE = True
    PREFERRED_URL_SCHEME = "https"
    TRUSTED_PROXY_HOPS = 1
    HSTS_MAX_AGE = 365 * 24 * 3600


class StagingConfig(ProductionConfig):
    """Staging: production's settings, with a banner so nobody mistakes it for production."""

    ENVIRONMENT = "staging"


def load_config(settings=None):
    """Instantiate the config class named by `settings` or APP_SETTINGS."""
    settings = settings or os.environ.get("APP_SETTINGS", "").strip() or DEFAULT_SETTINGS
    if settings == DEFAULT_SETTINGS:
        from dotenv import load_dotenv

        load_dotenv(override=False)
    try:
        config_class = import_string(settings)
    except ImportError:
        raise ConfigError(f"APP_SETTINGS names no config class: {settings!r}") from None
    return config_class()
