"""The keys that make a write at most once: the API's Idempotency-Key and the key the pages
send with each save, edit and tick (app/features/notes/once.py).

Kept in PostgreSQL (IdempotencyKey, unique per account and key), so every web process
shares them, for 24 hours. A key remembers a digest of what it was sent with, so the same
key with another text is told apart from a send again.
"""

import hashlib
import json
from datetime import timedelta

from sqlalchemy import delete, select
from sqlalchemy.dialects.postgresql import insert

from app.extensions import db
from app.models import IdempotencyKey, utcnow

KEPT = timedelta(hours=24)


def digest_of(body):
    """Return a digest of a request's validated body."""
    return hashlib.sha256(json.dumps(body, sort_keys=True).encode()).hexdigest()


def remembered(user_id, key):
    """Return the record of what the key made within KEPT, or None."""
    return db.session.scalar(
        select(IdempotencyKey).where(
            IdempotencyKey.user_id == user_id,
            IdempotencyKey.key == key,
            IdempotencyKey.created_at > utcnow() - KEPT,
        )
    )


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


def remember_latest(user_id, key, digest, note):
    """Record that the key's latest send saved `digest` on `note` (an edit typed on and sent
    again with its key), whatever the key recorded before."""
    fresh = {"request_digest": digest, "note_id": note.id, "created_at": utcnow()}
    statement = (
        insert(IdempotencyKey)
        .values(user_id=user_id, key=key, **fresh)
        .on_conflict_do_update(
            index_elements=[IdempotencyKey.user_id, IdempotencyKey.key], set_=fresh
        )
    )
    db.session.execute(statement)


def delete_old():
    """Delete the keys older than KEPT, which answer nothing any more; return how many."""
    cutoff = utcnow() - KEPT
    statement = delete(IdempotencyKey).where(IdempotencyKey.created_at <= cutoff)
    return db.session.execute(statement).rowcount
