"""The trash: a deleted note waits there TRASH_DAYS, restorable, before it is gone for good.

A trashed note keeps its attachments (they still count toward the quota) and its history;
the list, search, word counts and its pages ignore it. Emptying the trash, or the worker's
daily purge, deletes the notes for good, their attachments' objects by the one deletion job.
"""

from datetime import timedelta

from flask import current_app
from sqlalchemy import select

from app.attachments.uploads import delete_note_attachments
from app.extensions import db
from app.models import Note, utcnow

TRASH_SHOWN = 200  # a trash page lists the newest deletions, this many at most


def trashed(user_id):
    """Return the user's trashed notes, the newest deletion first (at most TRASH_SHOWN)."""
    return db.session.scalars(
        select(Note)
        .where(Note.user_id == user_id, Note.deleted_at.is_not(None))
        .order_by(Note.deleted_at.desc(), Note.id.desc())
        .limit(TRASH_SHOWN)
    ).all()


def move_to_trash(note):
    note.deleted_at = utcnow()


def restore(note):
    note.deleted_at = None


def delete_for_good(notes):
    """Delete these notes, their attachments' objects once the deletion commits."""
    for note in notes:
        delete_note_attachments(note)
        db.session.delete(note)


def empty(user_id):
    """Delete every note in the user's trash for good; return how many."""
    notes = db.session.scalars(
        select(Note).where(Note.user_id == user_id, Note.deleted_at.is_not(None))
    ).all()
    delete_for_good(notes)
    return len(notes)


def purge(batch=500):
    """Delete notes trashed more than TRASH_DAYS ago (a batch of them); return how many."""
    cutoff = utcnow() - timedelta(days=current_app.config["TRASH_DAYS"])
    notes = db.session.scalars(
        select(Note).where(Note.deleted_at < cutoff).order_by(Note.deleted_at).limit(batch)
    ).all()
    delete_for_good(notes)
    return len(notes)
