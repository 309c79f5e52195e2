"""Finding the signed-in user's note: the notes pages, attachments and word counts share it."""

from flask import abort
from flask_login import current_user
from sqlalchemy import bindparam, select

from app.extensions import db
from app.models import Note

# Built once with bound parameters: it keeps its cache key, so a request only binds values.
NOTE_OF_USER = select(Note).where(
    Note.id == bindparam("note_id"), Note.user_id == bindparam("user_id")
)


def get_note(note_id):
    """Return the signed-in user's note, or abort 404 (someone else's is as good as missing)."""
    note = db.session.scalar(NOTE_OF_USER, {"note_id": note_id, "user_id": current_user.id})
    if note is None:
        abort(404)
    return note
