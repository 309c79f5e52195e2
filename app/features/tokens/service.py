"""Make, authenticate and revoke personal access tokens: the one place that knows their rules.

A secret reads `memo_pat_` + 43 base62 characters (256 random bits) + a 6-character checksum
(the CRC32 of what comes before it, in base62), as GitHub's tokens do. The prefix lets secret
scanners (GitHub's, gitleaks, trufflehog) find a token pasted into a repository or a log, and
people tell it from a password; the checksum lets them (and authenticate()) tell a real token
from a look-alike without asking the database. The database keeps only its SHA-256: 256
random bits cannot be guessed, so a fast hash is enough, and the lookup by hash needs no
constant-time comparison. No function here logs a secret, and none takes one into a job.

Limits, under the account's row lock so two requests at once cannot both squeeze under one:
TOKENS_PER_ACCOUNT live tokens, and TOKENS_PER_HOUR made in any hour (revoked ones count).
make_token() and the revocations leave the commit to the caller, whose transaction may hold
more (a notice's job); authenticate() commits the last use it records.
"""

import ipaddress
import math
import re
import secrets
import string
import zlib
from datetime import timedelta
from functools import cache

from flask import current_app
from flask_babel import gettext, ngettext
from sqlalchemy import bindparam, delete, func, or_, select, update
from sqlalchemy.orm import joinedload

from app.accounts.pausing import pause_made_by
from app.errors import Refused
from app.extensions import db
from app.models import (
    BIGINT_MAX,
    TOKEN_ADDRESS_MAX_LENGTH,
    TOKEN_MAX_DAYS,
    TOKEN_NAME_MAX_LENGTH,
    TOKEN_SCOPES,
    AccessToken,
    hash_token,
    lock_user,
    utcnow,
)
from app.validators import ALLOWED_CONTROLS, NOT_TEXT

PREFIX = "memo_pat_"
ALPHABET = string.digits + string.ascii_uppercase + string.ascii_lowercase  # base62
RANDOM_LENGTH = 43  # 43 base62 characters hold 256.03 bits
CHECKSUM_LENGTH = 6  # 62**6 > 2**32: a CRC32 fits
SECRET_LENGTH = len(PREFIX) + RANDOM_LENGTH + CHECKSUM_LENGTH
SECRET_FORM = re.compile(rf"{PREFIX}[0-9A-Za-z]{{{RANDOM_LENGTH + CHECKSUM_LENGTH}}}")
# A token's last use is written at most this often: most API requests only read.
LAST_USE_EVERY = timedelta(minutes=1)
HOUR = timedelta(hours=1)


class TokenRefused(Refused):
    """A token that is not made: the message says why; `field` names the input at fault
    (422), a limit of the account's names none (409, or 429 for too many made lately)."""


def base62(number, width):
    """Return `number` in base62, zero-padded to `width` characters."""
    digits = []
    while number:
        number, digit = divmod(number, 62)
        digits.append(ALPHABET[digit])
    return "".join(reversed(digits)).rjust(width, ALPHABET[0])


def checksum(text):
    """Return the checksum that ends a secret whose other characters are `text`."""
    return base62(zlib.crc32(text.encode()), CHECKSUM_LENGTH)


def new_secret():
    """Return a new secret: the prefix, 256 random bits in base62, the checksum."""
    body = PREFIX + "".join(secrets.choice(ALPHABET) for _ in range(RANDOM_LENGTH))
    return body + checksum(body)


def well_formed(secret):
    """Return whether `secret` could be a token's: the prefix, the length, base62 ASCII only
    (so no NUL reaches PostgreSQL) and its checksum."""
    return (
        isinstance(secret, str)
        and len(secret) == SECRET_LENGTH
        and SECRET_FORM.fullmatch(secret) is not None
        and checksum(secret[:-CHECKSUM_LENGTH]) == secret[-CHECKSUM_LENGTH:]
    )


def clean_name(name):
    """Return the token's name trimmed; raise TokenRefused for an empty, long or odd one."""
    if not isinstance(name, str) or not name.strip():
        raise TokenRefused(
            gettext("Give the token a name, such as where it is used."), field="name"
        )
    name = name.strip()
    if len(name) > TOKEN_NAME_MAX_LENGTH:
        message = gettext(
            "A token's name is at most %(max)d characters.", max=TOKEN_NAME_MAX_LENGTH
        )
        raise TokenRefused(message, field="name")
    if NOT_TEXT.search(name) or any(char in ALLOWED_CONTROLS for char in name):
        raise TokenRefused(
            gettext("Please remove control characters from this field."), field="name"
        )
    return name


def check_fields(name, scope, expires_days):
    """Return (name, scope, days) as stored; raise TokenRefused naming the first wrong one."""
    name = clean_name(name)
    if scope not in TOKEN_SCOPES:
        raise TokenRefused(
            gettext("Choose whether the token may read or also write."), field="scope"
        )
    if (
        isinstance(expires_days, bool)
        or not isinstance(expires_days, int)
        or not 1 <= expires_days <= TOKEN_MAX_DAYS
    ):
        message = gettext("A token lasts from 1 to %(max)d days.", max=TOKEN_MAX_DAYS)
        raise TokenRefused(message, field="expires_days")
    return name, scope, expires_days


def live_tokens(user_id, now):
    """Return the condition: a token of `user_id` that is neither revoked nor expired."""
    return (
        (AccessToken.user_id == user_id)
        & AccessToken.revoked_at.is_(None)
        & (AccessToken.expires_at > now)
    )


def check_room(user_id, now):
    """Raise TokenRefused if the account has all the live tokens it may have, or made as many
    as it may in the last hour. Call it holding the account's lock."""
    config = current_app.config
    live = db.session.scalar(select(func.count()).where(live_tokens(user_id, now)))
    if live >= config["TOKENS_PER_ACCOUNT"]:
        message = ngettext(
            "You have %(num)d token, the most one account may have. Revoke one first.",
            "You have %(num)d tokens, the most one account may have. Revoke one first.",
            live,
        )
        raise TokenRefused(message, status=409)
    made, oldest = db.session.execute(
        select(func.count(), func.min(AccessToken.created_at)).where(
            AccessToken.user_id == user_id, AccessToken.created_at > now - HOUR
        )
    ).one()
    if made >= config["TOKENS_PER_HOUR"]:
        seconds = max(1, math.ceil((oldest + HOUR - now).total_seconds()))
        message = ngettext(
            "You have made %(num)d token in the last hour. Please try again in a while.",
            "You have made %(num)d tokens in the last hour. Please try again in a while.",
            made,
        )
        raise TokenRefused(message, status=429, retry_after=seconds)


def make_token(user, name, scope, expires_days, maker=None):
    """Make a token of `user`; return (the token, its secret). The secret exists only here:
    show it once. `maker`: the session that makes it, and its proofs (app/features/grants/).
    Raises TokenRefused; the caller commits."""
    name, scope, expires_days = check_fields(name, scope, expires_days)
    lock_user(user.id)
    now = utcnow()
    check_room(user.id, now)
    secret = new_secret()
    token = AccessToken(
        user_id=user.id,
        name=name,
        scope=scope,
        secret_hash=hash_token(secret),
        created_at=now,
        expires_at=now + timedelta(days=expires_days),
        **(maker.columns(AccessToken) if maker else {}),
    )
    db.session.add(token)
    db.session.flush()
    return token, secret


def client_address(address):
    """Return the client's address as the token's last use keeps it, or "unknown"."""
    try:
        return str(ipaddress.ip_address(address or ""))[:TOKEN_ADDRESS_MAX_LENGTH]
    except ValueError:
        return "unknown"


@cache
def token_with_its_user():
    """Return the statement that loads the token of a secret's hash, its user joined. Built
    once: every API request runs it, and building it each time cost 0.60 M instructions, 4.6 %
    of the API's notes list (bench/instructions.py)."""
    return (
        select(AccessToken)
        .options(joinedload(AccessToken.user))
        .where(AccessToken.secret_hash == bindparam("secret_hash"))
    )


def authenticate(secret, address):
    """Return the live token whose secret this is (its user loaded), or None for an unknown,
    expired, revoked or malformed one.

    Records the use (time and client address) at most once every LAST_USE_EVERY per token,
    committing it: call this before the request writes anything else.
    """
    if not well_formed(secret):
        return None
    now = utcnow()
    token = db.session.scalar(token_with_its_user(), {"secret_hash": hash_token(secret)})
    if token is None or not token.is_live(now):
        return None
    if token.last_used_at is None or token.last_used_at <= now - LAST_USE_EVERY:
        record_use(token, now, client_address(address))
    return token


def record_use(token, now, address):
    """Write the token's last use, unless another request wrote one within the minute."""
    stale = AccessToken.last_used_at.is_(None) | (AccessToken.last_used_at <= now - LAST_USE_EVERY)
    db.session.execute(
        update(AccessToken)
        .where(AccessToken.id == token.id, stale)
        .values(last_used_at=now, last_used_address=address)
        .execution_options(synchronize_session=False)
    )
    db.session.commit()  # the token and its user are read again when next used


def tokens_of(user_id):
    """Return the account's tokens that are not revoked (expired ones too), newest first."""
    return db.session.scalars(
        select(AccessToken)
        .where(AccessToken.user_id == user_id, AccessToken.revoked_at.is_(None))
        .order_by(AccessToken.created_at.desc(), AccessToken.id.desc())
    ).all()


def revoke(user_id, token_id):
    """Revoke the token `token_id` if it is `user_id`'s; return whether the account has such
    a token (revoked now or before). Another account's token is untouched."""
    if not isinstance(token_id, int) or not 0 < token_id <= BIGINT_MAX:
        return False
    found = db.session.scalar(
        select(AccessToken.id).where(AccessToken.id == token_id, AccessToken.user_id == user_id)
    )
    if found is None:
        return False
    db.session.execute(
        update(AccessToken)
        .where(AccessToken.id == token_id, AccessToken.revoked_at.is_(None))
        .values(revoked_at=utcnow())
        .execution_options(synchronize_session=False)
    )
    pause_made_by(user_id, "token_revoked", token=token_id)  # its webhooks: none is queued
    return True


def revoke_all(user_id):
    """Revoke every token of the account (a recovery took it back); return how many."""
    return db.session.execute(
        update(AccessToken)
        .where(AccessToken.user_id == user_id, AccessToken.revoked_at.is_(None))
        .values(revoked_at=utcnow())
        .execution_options(synchronize_session=False)
    ).rowcount


def delete_spent(keep):
    """Delete tokens revoked or expired longer than `keep` ago (they authenticate nothing,
    and the hour's count needs none that old); return how many."""
    ended = utcnow() - keep
    return db.session.execute(
        delete(AccessToken).where(
            or_(AccessToken.revoked_at < ended, AccessToken.expires_at < ended)
        )
    ).rowcount
