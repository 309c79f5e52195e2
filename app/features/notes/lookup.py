"""Finding the signed-in user's note: the notes pages, attachments and word counts share it."""

from flask import abort, url_for
from flask_babel import gettext
from flask_login import current_user
from sqlalchemy import select
from sqlalchemy.orm import undefer
from werkzeug.exceptions import NotFound

from app.extensions import db
from app.models import Note


def get_note(note_id, in_trash=False, with_html=False):
    """Return the signed-in user's note, or abort 404 (someone else's is as good as missing).

    Only a note in the trash with `in_trash`, else only one out of it. `with_html`: load its
    stored HTML too (the note page; other pages never read it).
    """
    note = owned_note(current_user.id, note_id, in_trash, with_html)
    if note is None:
        not_found(note_id, in_trash)
    return note


def not_found(note_id, in_trash=False):
    """Raise the 404 of a note the signed-in user's page did not find (only one out of the
    trash unless `in_trash`): it says so if the note is in the trash."""
    if in_trash is False and owned_note(current_user.id, note_id, True):
        raise in_the_trash()
    abort(404)


def in_the_trash():
    """Return the 404 of a note of the user's that is in the trash: it says so, and offers
    the trash, where it can be restored."""
    error = NotFound(gettext("This note is in the trash. You can restore it from there."))
    error.way_out = (url_for("notes.trash_page"), gettext("Open the trash"))
    return error


def owned_note(user_id, note_id, in_trash=False, with_html=False):
    """Return the user's note, or None: only one in the trash with `in_trash`, only one out of
    it without, either with `in_trash=None`. The pages and the API (app/features/api/) find notes
    so.

    Built per request: a statement prebuilt at import saved 2.3 % of the note page's CPU in
    the in-process CPU benchmark of then, under the 3 % that would pay for bending the idiom
    (docs/performance.md).
    """
    return db.session.scalar(owned_notes(user_id, note_id, in_trash, with_html))


def owned_notes(user_id, note_id, in_trash=False, with_html=False):
    """Return the statement of owned_note(): values or bound parameters."""
    where = [Note.id == note_id, Note.user_id == user_id]
    if in_trash is not None:
        where.append(Note.deleted_at.is_not(None) if in_trash else Note.deleted_at.is_(None))
    statement = select(Note).where(*where)
    return statement.options(undefer(Note.rendered)) if with_html else statement
