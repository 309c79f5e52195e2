"""Idempotency-Key on note creation: the same key within 24 hours answers the same note.

Kept in PostgreSQL (IdempotencyKey, unique per account and key), so every web process
shares them. The key remembers a digest of the body: the same key with another body is
refused (422), not answered with a note made of something else.
"""

import hashlib
import json
from datetime import timedelta

from flask_babel import gettext
from sqlalchemy import select
from sqlalchemy.dialects.postgresql import insert

from app.api.problems import Problem
from app.extensions import db
from app.models import IDEMPOTENCY_KEY_MAX_LENGTH, IdempotencyKey, Note, utcnow

KEPT = timedelta(hours=24)


def digest_of(body):
    """Return a digest of a request's validated body."""
    return hashlib.sha256(json.dumps(body, sort_keys=True).encode()).hexdigest()


def checked_key(key):
    """Return the key, or refuse one that is empty, too long or not printable ASCII."""
    if not (0 < len(key) <= IDEMPOTENCY_KEY_MAX_LENGTH and key.isascii() and key.isprintable()):
        raise Problem(
            422,
            "invalid-fields",
            gettext("Idempotency-Key is 1 to 255 printable ASCII characters."),
            invalid_params=[{"name": "Idempotency-Key", "reason": "1 to 255 printable ASCII"}],
        )
    return key


def remembered(user_id, key):
    """Return the record of what the key made within KEPT, or None."""
    return db.session.scalar(
        select(IdempotencyKey).where(
            IdempotencyKey.user_id == user_id,
            IdempotencyKey.key == key,
            IdempotencyKey.created_at > utcnow() - KEPT,
        )
    )


def remembered_note(user_id, key, digest):
    """Return the note the key made within KEPT, or None; refuse the key with another body."""
    row = remembered(user_id, checked_key(key))
    if row is None:
        return None
    if row.request_digest != digest:
        raise Problem(
            422,
            "idempotency-key-reused",
            gettext(
                "This Idempotency-Key was sent with another body; use a new key for a new note."
            ),
        )
    return db.session.get(Note, row.note_id)


def remember(user_id, key, digest, note):
    """Record that the key made `note` (a record older than KEPT is replaced); return False
    when another request recorded the key meanwhile."""
    fresh = {"request_digest": digest, "note_id": note.id, "created_at": utcnow()}
    statement = (
        insert(IdempotencyKey)
        .values(user_id=user_id, key=key, **fresh)
        .on_conflict_do_update(
            index_elements=[IdempotencyKey.user_id, IdempotencyKey.key],
            set_=fresh,
            where=IdempotencyKey.created_at <= utcnow() - KEPT,
        )
        .returning(IdempotencyKey.id)
    )
    return db.session.execute(statement).scalar() is not None
