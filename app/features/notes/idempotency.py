"""The keys that make a write at most once: the API's Idempotency-Key, and the key the pages
send with each save, edit and tick, made before the first send and kept by every send again
(app/static/drafts.js, app/static/tasks.js): an answer lost on the way, a tab closed mid-send
or a page left at once is sent again with the same key.

Kept in PostgreSQL (IdempotencyKey, unique per account and key), so every web process
shares them, for 24 hours. A key remembers a digest of what it was sent with, so the same
key with another text is told apart from a send again: it makes a note of its own, and no
text is dropped. The pages' keys live under prefixes of their own, so that a form's key and
an API client's never answer each other's notes, and per account: another account's key is
none.
"""

import hashlib
import json
from dataclasses import dataclass
from datetime import timedelta

from sqlalchemy import delete, select
from sqlalchemy.dialects.postgresql import insert

from app.extensions import db
from app.features.notes import service
from app.models import IdempotencyKey, Note, utcnow

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


FORM_KEY_PREFIX = "form:"
EDIT_KEY_PREFIX = "edit:"
TICK_KEY_PREFIX = "tick:"


def create_once(user_id, title, content, key):
    """Return the note `key` already made of this text, else a new note (flushed).

    The same key with another text (the person changed it and pressed Save again) makes a
    note of its own: no text is dropped.
    """
    if not key:
        return service.create(user_id, title, content)
    key = FORM_KEY_PREFIX + key
    digest = digest_of({"title": title, "content": content})
    earlier = remembered(user_id, key)
    if earlier is not None:
        if earlier.request_digest == digest:
            return db.session.get(Note, earlier.note_id)
        return service.create(user_id, title, content)
    note = service.create(user_id, title, content)
    if not remember(user_id, key, digest, note):
        db.session.rollback()  # another send of the key came first: its note is the one
        return db.session.get(Note, remembered(user_id, key).note_id)
    return note


def made_by(user_id, key):
    """Return the note a form's `key` made within the key store's 24 hours, or None."""
    earlier = remembered(user_id, FORM_KEY_PREFIX + key)
    return None if earlier is None else db.session.get(Note, earlier.note_id)


@dataclass(frozen=True)
class Once:
    """One change of a note sent with a key, and the digest of what it sets."""

    user_id: int
    key: str
    digest: str

    def done(self):
        """Say whether a send of this key already made this very change."""
        earlier = remembered(self.user_id, self.key)
        return earlier is not None and earlier.request_digest == self.digest

    def left(self, note):
        """Say whether the note still holds what this key's last send saved (the person
        typed on and saved again: the new text goes on top of their own)."""
        earlier = remembered(self.user_id, self.key)
        now = digest_of({"title": note.title, "content": note.content})
        return earlier is not None and earlier.request_digest == now

    def remember(self, note):
        """Record the change as made (in the caller's transaction)."""
        remember_latest(self.user_id, self.key, self.digest, note)


def edit_once(user_id, note, key, title, content):
    """Return the Once of an edit of `note` to this text, or None without a key."""
    if not key:
        return None
    digest = digest_of({"title": title, "content": content})
    return Once(user_id, f"{EDIT_KEY_PREFIX}{note.id}:{key}", digest)


def tick_once(user_id, note, key, number, done):
    """Return the Once of a tick of `note`'s task item `number`, or None without a key."""
    if not key:
        return None
    return Once(user_id, f"{TICK_KEY_PREFIX}{note.id}:{key}", digest_of([number, done]))
