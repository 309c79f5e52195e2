"""The rules of writing a note, shared by the notes pages and the JSON API (app/api/).

Every write is counted against the account's write rate (429 past it, app/auth/throttle.py)
and checked against its quota (QuotaFull) under the user's row lock; a text save applies only
on top of the version it started from, and the text it replaces joins the note's history.
Callers commit; none of these functions does.
"""

from sqlalchemy import update as update_rows

from app.auth.throttle import spend_note_write
from app.extensions import db
from app.markdown import set_task, summary
from app.models import Note, utcnow
from app.notes import history, trash
from app.notes.quota import check_room
from app.reminders import service as reminders
from app.tags import note_tags


def make_room(user_id, title, content, note=None):
    """Count a save against the write rate (429 past it); raise QuotaFull when the text
    (a new note's, or `note`'s new one) would not fit the account."""
    spend_note_write(user_id)
    check_room(user_id, title, content, note)


def create(user_id, title, content, completed=False, pinned=False):
    """Add a new note of the user's, within the write rate and quota; return it (flushed)."""
    make_room(user_id, title, content)
    note = Note(title=title, content=content, user_id=user_id, completed=completed, pinned=pinned)
    db.session.add(note)
    db.session.flush()
    return note


def save(note, title, content, base, always=False):
    """Make `title` and `content` the note's text if it is still at version `base`.

    The text it replaces joins the note's history. Returns False (nothing written) when
    another save came first: the caller shows both texts.
    """
    if (title, content) == (note.title, note.content):
        return note.version == base
    history.keep(note, always=always)
    facts = summary(content)
    applied = db.session.execute(
        update_rows(Note)
        .where(Note.id == note.id, Note.version == base)
        .values(
            title=title,
            content=content,
            version=Note.version + 1,
            updated_at=utcnow(),
            tags=note_tags(title, content),
            tagged_version=Note.version + 1,
            preview=facts.preview,
            tasks_done=facts.tasks_done,
            tasks_total=facts.tasks_total,
            open_tasks=facts.open_tasks,
            read_version=base + 1,  # the WHERE holds the version at `base`
        )
        .execution_options(synchronize_session=False)
    ).rowcount
    return applied == 1


def ticked(note, number, done):
    """Return the note's content with task item `number` (from 0) set done or not, or None
    when its text has no such item."""
    return set_task(note.content, number, done)


def set_completed(note, completed):
    """Tick the note off as done, or back to open."""
    note.completed = completed


def set_pinned(note, pinned):
    """Put the note first in the list, or back among the others."""
    note.pinned = pinned


def set_archived(note, archived):
    """Put the note away in the archive (keeping when it was first put there), or back."""
    note.archived_at = (note.archived_at or utcnow()) if archived else None


def move_to_trash(note):
    """Move the note to the trash, where it waits TRASH_DAYS, restorable; its reminder
    waits there too."""
    trash.move_to_trash(note)
    reminders.pause(note)


def restore(note):
    """Take the note out of the trash; return its reminder, running again (or None)."""
    trash.restore(note)
    return reminders.resume(note)
