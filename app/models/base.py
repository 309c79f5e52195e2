"""What every model shares: limits on what users write, ids, the clock, password hashing."""

import unicodedata
from datetime import UTC, datetime
from functools import cache

from argon2 import PasswordHasher
from flask import current_app

# Limits on what users write, shared by the forms and the CHECK constraints. Revisions keep
# their own literal copies: a revision is frozen at the schema it made.
EMAIL_MAX_LENGTH = 254
NICKNAME_MIN_LENGTH, NICKNAME_MAX_LENGTH = 2, 30
TITLE_MAX_LENGTH = 200
CONTENT_MAX_LENGTH = 20_000
# The longest web address a word count takes and stores (what servers commonly accept).
URL_MAX_LENGTH = 2048
# An attachment's name as shown (longer ones are cut, keeping the extension), its key
# (Memo's own: a prefix, the user id and a random token) and its type.
ATTACHMENT_NAME_MAX_LENGTH = 255
ATTACHMENT_KEY_MAX_LENGTH = 200
CONTENT_TYPE_MAX_LENGTH = 255
# Rows an export reads at a time (a note is at most some 20 KB).
EXPORT_BATCH = 200
# The largest value of PostgreSQL's bigint: every id, and a byte count, fit under it.
BIGINT_MAX = 2**63 - 1


@cache
def hasher_for(time_cost, memory_cost, parallelism):
    """Return the argon2id hasher of these parameters (one per set, made once)."""
    return PasswordHasher(time_cost=time_cost, memory_cost=memory_cost, parallelism=parallelism)


def password_hasher():
    """Return the app's password hasher (config PASSWORD_HASHING)."""
    return hasher_for(**current_app.config["PASSWORD_HASHING"])


def comparison_key(text):
    """Return the form in which two emails (or nicknames) are the same: NFKC, case-folded.

    The one way they are compared, in Python only: PostgreSQL's lower() and str.lower()
    disagree on some letters (Turkish İ, Greek final sigma, ...). casefold() also makes
    ß "ss" and Cherokee small letters capitals; NFKC makes full-width letters plain ones.
    """
    return unicodedata.normalize("NFKC", unicodedata.normalize("NFKC", text).casefold())


def utcnow():
    """Return the current time, timezone-aware, for column defaults."""
    return datetime.now(UTC)
