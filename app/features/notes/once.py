"""Saves sent with an idempotency key: at most one note a key, and an edit or a tick sent
again answers as its first send did.

The pages make the key before a save's first send and keep it for every send again
(app/static/drafts.js, app/static/tasks.js): an answer lost on the way, a tab closed mid-send
or a page left at once is sent again with the same key. The keys live beside the API's
(app/features/notes/keys.py), under prefixes of their own so that a form's key and an API
client's never answer each other's notes, and per account: another account's key is none.
"""

from dataclasses import dataclass

from app.extensions import db
from app.features.notes import service
from app.features.notes.keys import digest_of, remember, remember_latest, remembered
from app.models import Note

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
