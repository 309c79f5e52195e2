"""Configuration classes, chosen by APP_SETTINGS and read from the environment.

Every value comes from an environment variable (twelve-factor); `.env` is read in
development only. Staging and production refuse to start without their required
variables, naming the one that is missing.
"""

import os
from datetime import timedelta
from email.utils import parseaddr

from werkzeug.utils import import_string

from config_budgets import Budgets
from config_parsing import (  # noqa: F401  (ConfigError and the URL readers are config's API)
    ConfigError,
    bucket_url,
    database_uri,
    direct_database_uri,
    fernet_keys,
    int_from_env,
    is_loopback,
    mail_from,
    public_url,
    sentry_dsn,
    smtp_settings,
    vapid_keys,
)

DEFAULT_SETTINGS = "config.DevelopmentConfig"
DEVELOPMENT_SECRET_KEY = "dev-only-secret-key-do-not-use-in-production"  # noqa: S105
DEVELOPMENT_PUBLIC_URL = "http://127.0.0.1:5000"
DEVELOPMENT_MAIL_FROM = "Memo <memo@localhost>"


class Config(Budgets):
    """Settings shared by every environment."""

    ENVIRONMENT = "base"
    DEBUG = False
    TESTING = False
    REQUIRED = ()

    # What the request front (front/) knows of the app, in one place; tests/test_front_config.py
    # checks each against the app's `url_map`, so a renamed route cannot silently drop a guarantee.
    # Larger bodies (a photo, an archive to import), read only for a live session:
    FRONT_UPLOAD_PATHS = ("/mypage/photo", "/mypage/import")
    # Answers 204 for a live session (its account in X-Memo-Account), 401 for anyone else:
    FRONT_SESSION_PROBE = "/auth/signed-in"
    # Where an anonymous upload is sent, and where the front's own pages lead back to:
    FRONT_SIGN_IN_URL = "/auth/login?next=/mypage"
    FRONT_HOME_URL = "/"
    # A body past the front's limit sent to one of these paths is answered with a redirect to
    # a page that says what to do (303), not the front's 413: the share sheet's POST, which
    # Memo's service worker takes in the browser, reaches the front only without it.
    FRONT_TOO_LARGE_PAGES = {"/notes/shared": "/notes/new?left=all"}

    NOTES_PER_PAGE = 20
    # The JSON API's OpenAPI document (flask-smorest; app/features/api/, docs/api.md):
    API_TITLE, API_VERSION, OPENAPI_VERSION = "Memo API", "1", "3.1.0"
    OPENAPI_URL_PREFIX, OPENAPI_JSON_PATH = "/api/v1", "openapi.json"
    API_SPEC_OPTIONS = {"security": [{"token": []}]}  # every route needs a token
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

    # A query that outlives the router's 30 s timeout helps nobody.
    STATEMENT_TIMEOUT_MS = 15_000
    SMTP_TIMEOUT_SECONDS = 10
    # Plain SMTP (`?tls=off`) and an http:// PUBLIC_URL: staging and production allow them
    # only for this machine (a relay beside the app; the tests' servers).
    SMTP_PLAIN_ALLOWED = True
    # The local inbox page (app/inbox.py): development only, never registered elsewhere.
    LOCAL_INBOX = False
    # A transaction left open (a bug, a vanished client) is ended by PostgreSQL: a backstop.
    IDLE_IN_TRANSACTION_TIMEOUT_MS = 30_000
    # Where error reports go instead of Sentry's servers: the tests' capturing transport.
    SENTRY_TRANSPORT = None

    def __init__(self, environ=None):
        environ = os.environ if environ is None else environ
        for name in self.REQUIRED:
            if not environ.get(name, "").strip():
                raise ConfigError(f"{name} is not set; {self.ENVIRONMENT} needs it")
        self.SECRET_KEY = environ.get("SECRET_KEY") or DEVELOPMENT_SECRET_KEY
        if "SECRET_KEY" in self.REQUIRED and self.SECRET_KEY == DEVELOPMENT_SECRET_KEY:
            raise ConfigError("SECRET_KEY is the development default; set a random secret")
        self.read_database_urls(environ)
        self.LOG_LEVEL = environ.get("LOG_LEVEL", "INFO").upper()
        # How many proxies in front append to X-Forwarded-For: the platform's router is one
        # (a CDN before it makes two). The client's address is read that many hops from the end.
        self.TRUSTED_PROXY_HOPS = int_from_env(
            environ, "TRUSTED_PROXY_HOPS", self.TRUSTED_PROXY_HOPS, minimum=0
        )
        self.read_processes(environ)
        self.read_limits(environ)
        self.read_migrations(environ)
        self.read_object_storage(environ)
        self.read_mail(environ)
        self.read_push(environ)
        self.read_reporting(environ)
        # Encrypts the authenticator apps' secrets; made from SECRET_KEY where not required.
        self.TWO_STEP_KEYS = fernet_keys(environ.get("TWO_STEP_KEY", ""), self.SECRET_KEY)

    def read_processes(self, environ):
        """Read how many processes, threads and connections serve the web and the jobs."""
        # One connection per gunicorn thread: a request never waits for the pool,
        # and WEB_CONCURRENCY x WEB_THREADS bounds the connections of one dyno.
        self.WEB_CONCURRENCY = int_from_env(environ, "WEB_CONCURRENCY", 2)
        self.WEB_THREADS = int_from_env(environ, "WEB_THREADS", 4)
        # The request front's read deadlines: the whole header block, then at most
        # this long between two reads of a body. Tests lower them to wait less.
        self.FRONT_HEADER_SECONDS = int_from_env(environ, "FRONT_HEADER_SECONDS", 10)
        self.FRONT_BODY_SECONDS = int_from_env(environ, "FRONT_BODY_SECONDS", 10)
        # A worker runs this many jobs at once, each in a thread with one connection.
        self.WORKER_CONCURRENCY = int_from_env(environ, "WORKER_CONCURRENCY", 4)
        # A worker that misses three heartbeats is taken for dead: its jobs run again.
        self.WORKER_HEARTBEAT_SECONDS = int_from_env(environ, "WORKER_HEARTBEAT_SECONDS", 10)
        self.SQLALCHEMY_ENGINE_OPTIONS = {
            # No SELECT 1 before each use: a dropped connection is found by the statement
            # that fails on it, which the session sends once more on a new connection
            # (app/extensions.py, ReconnectingSession). None is older than pool_recycle.
            "pool_pre_ping": False,
            # Connections open on demand: a web process never opens more than its
            # threads, a worker never more than its concurrent jobs.
            "pool_size": max(self.WEB_THREADS, self.WORKER_CONCURRENCY),
            "max_overflow": 0,
            "pool_timeout": 10,
            "pool_recycle": 300,
            "connect_args": self.connect_args(),
        }

    def read_limits(self, environ):
        """Read what one page, search, client and account may spend (docs/security.md)."""
        # CPU seconds a word count may spend decoding and reading one page (2 MB of dense
        # text takes about a second); past it the count fails for good.
        self.WORDCOUNT_CPU_SECONDS = int_from_env(environ, "WORDCOUNT_CPU_SECONDS", 5)
        # A search's statements are cancelled after this long ("too broad; add a word"), and a
        # user has at most this many searches running at once (app/features/search/query.py).
        self.SEARCH_TIMEOUT_MS = int_from_env(environ, "SEARCH_TIMEOUT_MS", 2000)
        self.SEARCHES_IN_FLIGHT_PER_USER = int_from_env(environ, "SEARCHES_IN_FLIGHT_PER_USER", 2)
        # Account creation (app/throttle.py): per client address, and all clients together,
        # per SIGNUP_THROTTLE_WINDOW. Enough for a family or an office; a flood is not.
        self.SIGNUPS_PER_CLIENT = int_from_env(environ, "SIGNUPS_PER_CLIENT", 10)
        self.SIGNUPS_IN_TOTAL = int_from_env(environ, "SIGNUPS_IN_TOTAL", 500)
        # An IPv6 site (/48: 65,536 /64s, each a "client") together, like sign-ins.
        self.SIGNUPS_PER_NETWORK = int_from_env(environ, "SIGNUPS_PER_NETWORK", 40)
        # Password checks that failed (or are under way), per hour, from all clients together;
        # and within LOGIN_THROTTLE_WINDOW from one IPv6 /48 (each /64 has its own 50 too).
        self.SIGNINS_IN_TOTAL = int_from_env(environ, "SIGNINS_IN_TOTAL", 1000)
        self.LOGIN_FAILURES_PER_NETWORK = int_from_env(environ, "LOGIN_FAILURES_PER_NETWORK", 200)
        # What one account may store (app/features/notes/quota.py), and how fast it may write notes.
        self.NOTES_PER_USER = int_from_env(environ, "NOTES_PER_USER", 10_000)
        self.NOTE_BYTES_PER_USER = int_from_env(environ, "NOTE_BYTES_PER_USER", 50 * 1024 * 1024)
        self.NOTE_WRITES_PER_MINUTE = int_from_env(environ, "NOTE_WRITES_PER_MINUTE", 30)
        # The API's writes are counted apart from the pages' (a sync never makes the person's
        # save a 429): each token's, and all of an account's tokens together, the ceiling that
        # more tokens cannot raise. An account writes at most 30 + 120 notes a minute.
        self.TOKEN_WRITES_PER_MINUTE = int_from_env(environ, "TOKEN_WRITES_PER_MINUTE", 60)
        self.API_WRITES_PER_MINUTE = int_from_env(environ, "API_WRITES_PER_MINUTE", 120)
        self.NOTE_PREVIEWS_PER_MINUTE = int_from_env(environ, "NOTE_PREVIEWS_PER_MINUTE", 60)
        # The largest archive to import: the largest export an account can have (attachments
        # to their quota; the notes' text twice, in account.json and compressed in the notes'
        # .md copies; the overhead).
        self.IMPORT_MAX_BYTES = (
            self.ATTACHMENT_QUOTA_BYTES + 2 * self.NOTE_BYTES_PER_USER + self.IMPORT_OVERHEAD_BYTES
        )

    def read_migrations(self, environ):
        """Read how the release phase waits for locks and retries (docs/releases.md)."""
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
        # A shipped revision whose code changed after it ran: a warning, or with
        # MIGRATION_STRICT=1 a refusal of the release phase (docs/releases.md).
        self.MIGRATION_STRICT = environ.get("MIGRATION_STRICT", "").strip() == "1"

    def read_mail(self, environ):
        """Read how mail is sent (SMTP_URL, MAIL_FROM) and the base URL its links are built on."""
        self.SMTP_URL = environ.get("SMTP_URL", "").strip()
        self.SMTP = smtp_settings(self.SMTP_URL) if self.SMTP_URL else None
        plain = self.SMTP and self.SMTP["security"] == "none"
        if plain and not (self.SMTP_PLAIN_ALLOWED or is_loopback(self.SMTP["host"])):
            raise ConfigError(
                "SMTP_URL asks for plain SMTP (tls=off) to another machine; "
                f"{self.ENVIRONMENT} allows that only on this machine"
            )
        self.MAIL_FROM = mail_from(environ.get("MAIL_FROM", "").strip() or DEVELOPMENT_MAIL_FROM)
        self.PUBLIC_URL = public_url(
            environ.get("PUBLIC_URL", "").strip() or DEVELOPMENT_PUBLIC_URL,
            secure=not self.SMTP_PLAIN_ALLOWED,
        )
        # Where the local SMTP server (devenv/mailserver.py) keeps each message as a .eml file.
        self.LOCAL_MAIL_DIR = environ.get("LOCAL_MAIL_DIR", "").strip() or ".dev/mail"

    def read_push(self, environ):
        """Read the VAPID keys of Web Push (docs/reminders.md); unset, push is not offered."""
        self.VAPID = vapid_keys(
            environ.get("VAPID_PUBLIC_KEY", "").strip(),
            environ.get("VAPID_PRIVATE_KEY", "").strip(),
            environ.get("VAPID_SUBJECT", "").strip(),
            parseaddr(self.MAIL_FROM)[1],
        )

    def read_reporting(self, environ):
        """Read where errors are reported (Sentry) and how long finished jobs are kept."""
        # Empty: no error is sent anywhere, and sentry-sdk is never loaded (app/error_reports.py).
        self.SENTRY_DSN = sentry_dsn(environ.get("SENTRY_DSN", "").strip())
        # Failed (cancelled, aborted) jobs stay this long for `flask jobs failures` and `retry`,
        # then the daily remove_old_jobs deletes them; succeeded jobs go as they finish.
        self.FINISHED_JOBS_KEEP_DAYS = int_from_env(environ, "FINISHED_JOBS_KEEP_DAYS", 30)

    def read_database_urls(self, environ):
        """Read the direct URL and, when set, the PgBouncer URL requests and jobs go through."""
        direct = database_uri(self.database_url(environ))
        pooled = environ.get("DATABASE_CONNECTION_POOL_URL", "").strip()
        self.SQLALCHEMY_DATABASE_URI = direct
        # Set only with a pooler: a test that points SQLALCHEMY_DATABASE_URI elsewhere
        # must not leave the release phase on the old database.
        self.DIRECT_DATABASE_URI = None
        self.DATABASE_POOLED = bool(pooled)
        if pooled:
            self.SQLALCHEMY_DATABASE_URI = database_uri(pooled, "DATABASE_CONNECTION_POOL_URL")
            self.DIRECT_DATABASE_URI = direct

    def connect_args(self):
        """Return psycopg2's connection options (PgBouncer 1.18 refuses an `options` one)."""
        settings = {"connect_timeout": 5, "application_name": "memo"}
        if not self.DATABASE_POOLED:
            # A pooled connection sets it per transaction instead (app/pooling.py).
            settings["options"] = (
                f"-c statement_timeout={self.STATEMENT_TIMEOUT_MS}"
                f" -c idle_in_transaction_session_timeout={self.IDLE_IN_TRANSACTION_TIMEOUT_MS}"
            )
        return settings

    def read_object_storage(self, environ):
        """Read the bucket (photos, uploads, attachments, exports, imports: app/objects.py)
        and the public base URL its photos are served from."""
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
    """Local development: `.env` honoured, plain-HTTP cookies; debug only when FLASK_DEBUG=1
    asks for it (`./scripts/run` does)."""

    ENVIRONMENT = "development"
    LOCAL_INBOX = True
    # A webhook's receiver on this machine (127.0.0.1): development only, see
    # app.features.webhooks.service.delivery_settings.
    WEBHOOK_ALLOW_LOOPBACK = True

    def __init__(self, environ=None):
        environ = os.environ if environ is None else environ
        super().__init__(environ)
        self.DEBUG = environ.get("FLASK_DEBUG", "").strip().lower() in ("1", "true")


class TestingConfig(Config):
    """The test suite: TEST_DATABASE_URL (or DATABASE_URL) names a database it may wipe."""

    ENVIRONMENT = "testing"
    TESTING = True
    # Tests serve pages from 127.0.0.1. Honoured under this config only: see
    # app.features.wordcount.settings.fetch_settings.
    FETCH_ALLOW_LOOPBACK = True
    # A push service's certificate authority, for the tests' local one (None: the system's).
    # Honoured under this config only: see app.features.reminders.subscriptions.push_settings.
    PUSH_CA_FILE = None
    # argon2id's smallest cost (1 pass over 1 MiB): the suite signs up hundreds of accounts.
    # tests/test_auth.py proves every other config hashes at the production cost.
    PASSWORD_HASHING = {"time_cost": 1, "memory_cost": 1024, "parallelism": 1}

    def database_url(self, environ):
        """Prefer TEST_DATABASE_URL so a suite never touches the development data."""
        url = environ.get("TEST_DATABASE_URL", "").strip()
        return url or super().database_url(environ)


class ProductionConfig(Config):
    """Production behind an HTTPS router: secrets and a bucket required, cookies Secure."""

    ENVIRONMENT = "production"
    REQUIRED = ("SECRET_KEY", "DATABASE_URL", "S3_BUCKET", "SMTP_URL", "MAIL_FROM", "PUBLIC_URL")
    REQUIRED += ("TWO_STEP_KEY",)  # the authenticator apps' secrets are encrypted with it
    SESSION_COOKIE_SECURE = True
    REMEMBER_COOKIE_SECURE = True
    PREFERRED_URL_SCHEME = "https"
    TRUSTED_PROXY_HOPS = 1
    HSTS_MAX_AGE = 365 * 24 * 3600
    SMTP_PLAIN_ALLOWED = False


class StagingConfig(ProductionConfig):
    """Staging: production's settings, with a banner so nobody mistakes it for production."""

    ENVIRONMENT = "staging"


def load_config(settings=None):
    """Instantiate the config class named by `settings` or APP_SETTINGS.

    Without either, a developer's machine gets DevelopmentConfig; a dyno (the platform sets
    DYNO in every one) refuses to start, so a forgotten APP_SETTINGS never serves users with
    development settings.
    """
    if not (settings or os.environ.get("APP_SETTINGS", "").strip()) and os.environ.get("DYNO"):
        raise ConfigError(
            "APP_SETTINGS is not set on this dyno; set config.ProductionConfig or "
            "config.StagingConfig"
        )
    settings = settings or os.environ.get("APP_SETTINGS", "").strip() or DEFAULT_SETTINGS
    if settings == DEFAULT_SETTINGS:
        from dotenv import load_dotenv

        load_dotenv(override=False)
    try:
        config_class = import_string(settings)
    except ImportError:
        raise ConfigError(f"APP_SETTINGS names no config class: {settings!r}") from None
    return config_class()
