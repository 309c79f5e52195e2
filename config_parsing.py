"""Reading one setting from the environment: URLs, addresses, numbers (config.py uses these).

Each function either returns the value in the form the app uses or raises ConfigError with
one sentence naming the variable; none reads the environment itself.
"""

import base64
import binascii
import hashlib
import ipaddress
import re
from email.policy import default as default_email_policy
from urllib.parse import parse_qs, unquote, urlsplit


class ConfigError(Exception):
    """A setting is missing or unusable; the message names the variable."""


def database_uri(url, name="DATABASE_URL"):
    """Return a psycopg2 SQLAlchemy URI for a platform `DATABASE_URL` (or the variable `name`).

    Platforms hand out `postgres://`, and SQLAlchemy 2.1 maps a bare
    `postgresql://` to psycopg 3, so both are pinned to the psycopg2 driver.
    """
    scheme, separator, rest = url.partition("://")
    if not separator or scheme not in ("postgres", "postgresql", "postgresql+psycopg2"):
        raise ConfigError(f"{name} must be a postgres:// or postgresql:// URL")
    return f"postgresql+psycopg2://{rest}"


def direct_database_uri(settings):
    """Return the URI of a real PostgreSQL session: never PgBouncer's, for whatever needs one.

    The release phase (session timeouts, an advisory lock) and the worker's LISTEN use it.
    """
    return settings.get("DIRECT_DATABASE_URI") or settings["SQLALCHEMY_DATABASE_URI"]


def bucket_url(bucket, endpoint_url, region):
    """Return a bucket's own URL: path-style under an endpoint, else AWS's regional host."""
    if not bucket:
        return ""
    if endpoint_url:
        return f"{endpoint_url}/{bucket}"
    return f"https://{bucket}.s3.{region}.amazonaws.com"


# What SMTP_URL's scheme and `tls` parameter choose (see docs/mail.md).
SMTP_DEFAULT_PORTS = {"smtps": 465, "smtp": 587}


def smtp_settings(url):
    """Return how to reach the SMTP server of `url`, or raise ConfigError naming SMTP_URL.

    `smtps://` speaks TLS from the first byte (implicit TLS, port 465 by default);
    `smtp://` must upgrade with STARTTLS (port 587 by default), unless `?tls=off` asks for
    plain SMTP, which only a server on this machine (the local inbox) should get.
    """
    parts = urlsplit(url)
    options = parse_qs(parts.query)
    tls = options.get("tls", ["on"])[-1]
    try:
        port = parts.port
    except ValueError:
        raise ConfigError("SMTP_URL has a port that is not a number") from None
    if parts.scheme not in SMTP_DEFAULT_PORTS or not parts.hostname:
        raise ConfigError("SMTP_URL must be smtp://user:password@host:port or smtps://...")
    if tls not in ("on", "off") or (tls == "off" and parts.scheme == "smtps"):
        raise ConfigError("SMTP_URL's tls parameter must be on or off (off only with smtp://)")
    return {
        "host": parts.hostname,
        "port": port or SMTP_DEFAULT_PORTS[parts.scheme],
        "username": unquote(parts.username or ""),
        "password": unquote(parts.password or ""),
        "security": "tls" if parts.scheme == "smtps" else ("starttls" if tls == "on" else "none"),
    }


def mail_from(value):
    """Return MAIL_FROM checked to be one address (with an optional display name)."""
    header = default_email_policy.header_factory("From", value)
    addresses = header.addresses
    if header.defects or len(addresses) != 1 or not addresses[0].domain:
        raise ConfigError(
            f"MAIL_FROM must be an address such as Memo <memo@example.com>, got {value!r}"
        )
    return value


def is_loopback(host):
    """Return whether `host` names this machine (localhost, 127.0.0.0/8, ::1)."""
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def public_url(value, secure):
    """Return PUBLIC_URL without its trailing slash, checked to be a site's base URL.

    With `secure`, it must be https://, unless it names this machine (as a browser trusts
    http://127.0.0.1 like https: the tests serve production's settings there).
    """
    parts = urlsplit(value)
    plain_allowed = not secure or is_loopback(parts.hostname or "")
    schemes = ("http", "https") if plain_allowed else ("https",)
    if parts.scheme not in schemes or not parts.hostname or parts.query or parts.fragment:
        wanted = "https://" if secure else "http:// or https://"
        raise ConfigError(f"PUBLIC_URL must be the site's {wanted} base URL, got {value!r}")
    return value.rstrip("/")


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


HEX_KEY = re.compile(r"[0-9a-fA-F]{64}")


def hex_to_fernet(key):
    """Return 32 bytes written as 64 hex digits as a Fernet key (url-safe base64)."""
    return base64.urlsafe_b64encode(bytes.fromhex(key)).decode()


def fernet_keys(value, secret_key, name="TWO_STEP_KEY"):
    """Return the Fernet keys in `value` (separated by commas or spaces), newest first: the
    first encrypts, every one decrypts (MultiFernet), so a key can be rotated. Without any
    (development and tests), one key made from `secret_key`."""
    keys = [key for key in re.split(r"[\s,]+", value) if key]
    if not keys:
        digest = hashlib.sha256(f"two-step\n{secret_key}".encode()).digest()
        return [base64.urlsafe_b64encode(digest).decode()]
    # 64 hex digits (what a platform's secret generator makes) are a key too.
    keys = [hex_to_fernet(key) if HEX_KEY.fullmatch(key) else key for key in keys]
    for key in keys:
        try:
            raw = base64.urlsafe_b64decode(key.encode())
        except (binascii.Error, ValueError):
            raw = b""
        if len(raw) != 32:
            raise ConfigError(
                f"{name} must be Fernet keys (32 bytes each, url-safe base64 or 64 hex "
                "digits); make one with `python -c 'from cryptography.fernet import Fernet; "
                "print(Fernet.generate_key().decode())'`"
            )
    return keys


def sentry_dsn(value):
    """Return a Sentry DSN (https://KEY@HOST/PROJECT) unchanged, "" for none, or raise."""
    if not value:
        return ""
    parts = urlsplit(value)
    project = parts.path.rstrip("/").rpartition("/")[2]
    if parts.scheme not in ("http", "https") or not parts.username or not project.isdigit():
        raise ConfigError("SENTRY_DSN must be a Sentry DSN: https://KEY@HOST/PROJECT")
    return value
