"""What one account may store: so many notes, so many bytes of note text (config.py settings).

Checked under the user's row lock, so two saves at once cannot both squeeze under a limit;
the bytes are counted with octet_length(), which reads a long value's stored size without
unpacking it. How fast notes may be written is app/throttle.py's spend_note_write().
"""

from flask import current_app
from flask_babel import format_number, gettext
from sqlalchemy import func, select

from app.extensions import db
from app.features.notes import history
from app.i18n.formats import file_size
from app.models import Note, lock_user


class QuotaFull(Exception):
    """Saving would take the account past a limit; the message says which and what to do."""


def text_bytes(title, content):
    """Return the bytes a note's text takes (UTF-8, as PostgreSQL stores it)."""
    return len(title.encode()) + len(content.encode())


def usage(user_id):
    """Return how many notes the user has (in the trash too) and the bytes of their text,
    their history's included."""
    size = func.octet_length(Note.title) + func.octet_length(Note.content)
    count, used = db.session.execute(
        select(func.count(), func.coalesce(func.sum(size), 0)).where(Note.user_id == user_id)
    ).one()
    return count, used + history.history_bytes(user_id)


def check_room(user_id, title, content, note=None):
    """Raise QuotaFull unless the user may save this text (a new note, or `note` changed)."""
    config = current_app.config
    lock_user(user_id)
    count, used = usage(user_id)
    if note is None and count >= config["NOTES_PER_USER"]:
        raise QuotaFull(
            gettext(
                "You have %(count)s notes, the most one account may keep. "
                "Delete some and empty the trash to write new ones.",
                count=format_number(count),
            )
        )
    replaced = text_bytes(note.title, note.content) if note is not None else 0
    check_bytes(user_id, used - replaced + text_bytes(title, content))


def check_kept(user_id, title, content):
    """Raise QuotaFull unless a text set aside in the note's history fits the account."""
    lock_user(user_id)
    _, used = usage(user_id)
    check_bytes(user_id, used + text_bytes(title, content))


def check_bytes(user_id, needed):
    """Raise QuotaFull unless `needed` bytes of text fit, the oldest history giving way."""
    config = current_app.config
    over = needed - config["NOTE_BYTES_PER_USER"]
    if over > 0:  # the history gives way before the person's writing is refused
        over -= history.give_way(user_id, over)
    if over > 0:
        raise QuotaFull(
            gettext(
                "Your notes would hold more than %(size)s of text, the most one account may "
                "keep. Shorten or delete some notes, and empty the trash, first.",
                size=file_size(config["NOTE_BYTES_PER_USER"]),
            )
        )


def check_many(user_id, count, texts):
    """Raise QuotaFull unless `count` new notes with these (title, content) texts all fit."""
    config = current_app.config
    lock_user(user_id)
    notes, used = usage(user_id)
    if notes + count > config["NOTES_PER_USER"]:
        raise QuotaFull(
            gettext(
                "You have %(count)s notes, the most one account may keep. "
                "Delete some and empty the trash to write new ones.",
                count=format_number(notes),
            )
        )
    check_bytes(user_id, used + sum(text_bytes(title, content) for title, content in texts))
