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


# NIST P-256, the curve of VAPID keys and of browsers' push keys (RFC 8292, RFC 8291).
P256_PRIME = 2**256 - 2**224 + 2**192 + 2**96 - 1
P256_B = 0x5AC635D8AA3A93E7B3EBBD55769886BC651D06B0CC53B0F63BCE3C3E27D2604B
P256_ORDER = 0xFFFFFFFF00000000FFFFFFFFFFFFFFFFBCE6FAADA7179E84F3B9CAC2FC632551
P256_BASE = (
    0x6B17D1F2E12C4247F8BCE6E563A440F277037D812DEB33A0F4A13945D898C296,
    0x4FE342E2FE1A7F9B8EE7EB4A7C0F9E162BCE33576B315ECECBB6406837BF51F5,
)
VAPID_SUBJECT = re.compile(r"mailto:[^@\s]+@[^@\s]+|https://[a-z0-9.-]+", re.IGNORECASE)


def base64url_bytes(value):
    """Return the bytes of unpadded (or padded) base64url text, or None if it is not that."""
    if not re.fullmatch(r"[A-Za-z0-9_-]*={0,2}", value):
        return None
    try:
        return base64.urlsafe_b64decode(value.rstrip("=") + "=" * (-len(value.rstrip("=")) % 4))
    except (binascii.Error, ValueError):
        return None


def p256_point(raw):
    """Return (x, y) of an uncompressed P-256 point (65 bytes, 0x04 first), or None when the
    bytes are not a point of the curve."""
    if raw is None or len(raw) != 65 or raw[0] != 4:
        return None
    x, y = int.from_bytes(raw[1:33], "big"), int.from_bytes(raw[33:], "big")
    on_curve = (y * y - (x * x * x - 3 * x + P256_B)) % P256_PRIME == 0
    return (x, y) if x < P256_PRIME and y < P256_PRIME and on_curve else None


def p256_add(one, other):
    """Add two points of P-256 in affine coordinates (None is the point at infinity)."""
    if one is None or other is None:
        return other if one is None else one
    (x1, y1), (x2, y2) = one, other
    if x1 == x2 and (y1 + y2) % P256_PRIME == 0:
        return None
    if one == other:
        slope = (3 * x1 * x1 - 3) * pow(2 * y1, -1, P256_PRIME)
    else:
        slope = (y2 - y1) * pow(x2 - x1, -1, P256_PRIME)
    x3 = (slope * slope - x1 - x2) % P256_PRIME
    return x3, (slope * (x1 - x3) - y1) % P256_PRIME


def p256_public_of(scalar):
    """Return the public point of a private scalar (double and add)."""
    point, addend = None, P256_BASE
    while scalar:
        if scalar & 1:
            point = p256_add(point, addend)
        addend, scalar = p256_add(addend, addend), scalar >> 1
    return point


def vapid_keys(public, private, subject, mail_from_address):
    """Return the Web Push settings ({"public_key", "private_key", "subject"}) or None when
    neither key is set; raise ConfigError naming the variable that is wrong.

    The keys are what `npx web-push generate-vapid-keys` or py_vapid's `vapid --gen` prints:
    the public key as 65 bytes (an uncompressed P-256 point), the private key as 32, both
    base64url. Both are checked here, with no cryptography library (the web process never
    loads one): a point of the curve, a scalar below the curve's order, and a pair, so that
    keys from two generations fail at start instead of at every push. Nothing here signs or
    protects anything; py_vapid signs, in the worker.
    """
    if not public and not private:
        return None
    if not public or not private:
        missing = "VAPID_PUBLIC_KEY" if not public else "VAPID_PRIVATE_KEY"
        raise ConfigError(f"{missing} is not set; Web Push needs both VAPID keys")
    point = p256_point(base64url_bytes(public))
    if point is None:
        raise ConfigError("VAPID_PUBLIC_KEY must be a P-256 public key: 65 bytes, base64url")
    raw = base64url_bytes(private)
    scalar = int.from_bytes(raw, "big") if raw is not None and len(raw) == 32 else 0
    if not 0 < scalar < P256_ORDER:
        raise ConfigError("VAPID_PRIVATE_KEY must be a P-256 private key: 32 bytes, base64url")
    if p256_public_of(scalar) != point:
        raise ConfigError("VAPID_PRIVATE_KEY is not the private key of VAPID_PUBLIC_KEY")
    subject = subject or f"mailto:{mail_from_address}"
    if not VAPID_SUBJECT.fullmatch(subject):
        raise ConfigError(
            "VAPID_SUBJECT must be mailto:ADDRESS or https://HOST (no port or path), "
            f"got {subject!r}"
        )
    return {
        "public_key": public.rstrip("="),
        "private_key": private.rstrip("="),
        "subject": subject,
    }
