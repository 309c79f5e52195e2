"""A new note from the form sent with an idempotency key (the outbox of app/static/drafts.js
sends each waiting note with one): at most one note a key, whatever the number of sends.

The keys live beside the API's (app/features/notes/keys.py), under a prefix of their own so that
a form's key and an API client's never answer each other's notes.
"""

from app.extensions import db
from app.features.notes import service
from app.features.notes.keys import digest_of, remember, remembered
from app.models import Note

FORM_KEY_PREFIX = "form:"


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
