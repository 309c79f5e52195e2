"""The trash: a deleted note waits there TRASH_DAYS, restorable, before it is gone for good.

A trashed note keeps its attachments (they still count toward the quota) and its history;
the list, search, word counts and its pages ignore it. Emptying the trash, or the worker's
daily purge, deletes the notes for good (app/features/notes/service.py: each leaves a tombstone for
the change feed), their attachments' objects by the one deletion job.
"""

from datetime import timedelta

from flask import current_app
from sqlalchemy import select

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


def expired_before():
    """Return the moment before which a trashed note is purged: TRASH_DAYS ago."""
    return utcnow() - timedelta(days=current_app.config["TRASH_DAYS"])
