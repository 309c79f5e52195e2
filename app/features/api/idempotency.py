"""Idempotency-Key on note creation: the same key within 24 hours answers the same note.

The keys are kept by app/features/notes/idempotency.py. The API refuses a key that is not 1 to 255
printable ASCII characters, and a key sent again with another body (422): it is not
answered with a note made of something else.
"""

from flask_babel import gettext

from app.extensions import db
from app.features.api.problems import Problem
from app.features.notes.idempotency import remembered
from app.models import IDEMPOTENCY_KEY_MAX_LENGTH, Note


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


def remembered_note(user_id, key, digest):
    """Return the note the key made within 24 hours, or None; refuse the key with another body."""
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
