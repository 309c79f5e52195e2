"""A note's history: each save keeps the text it replaced, so no edit is lost.

Saves within HISTORY_QUIET_SECONDS of the last kept save add none (a burst of editing is
one step back), and the entry counts them (`dropped`) so that the history page can say that
texts in between were not kept. A text a conflict set aside is an entry of its own kind
(SET_ASIDE): never the note's text, it neither starts a quiet time nor stands as the text
that followed the entry before it. A note keeps its newest HISTORY_PER_NOTE versions, each
for HISTORY_DAYS (the worker's daily upkeep). Versions count toward the account's text
quota, and give way first: a save that would not fit drops the account's oldest versions
before it is refused.
"""

from datetime import timedelta

from flask import current_app
from sqlalchemy import delete, func, select, update

from app.extensions import db
from app.models import Note, NoteVersion, utcnow


def versions(note):
    """Return the note's kept versions, newest first."""
    return db.session.scalars(
        select(NoteVersion).where(NoteVersion.note_id == note.id).order_by(NoteVersion.id.desc())
    ).all()


def get_version(note, version_id):
    """Return one version of the note, or None."""
    return db.session.scalar(
        select(NoteVersion).where(NoteVersion.note_id == note.id, NoteVersion.id == version_id)
    )


def newer_text(note, version):
    """Return the text that followed `version`: the next newer saved version, or the note now
    (a text set aside in a conflict never followed anything)."""
    newer = db.session.scalar(
        select(NoteVersion)
        .where(
            NoteVersion.note_id == note.id,
            NoteVersion.id > version.id,
            NoteVersion.kind.is_(None),
        )
        .order_by(NoteVersion.id)
        .limit(1)
    )
    return newer or note


def followers(note, versions):
    """Return, for each of `versions` (newest first), the text that followed it."""
    after, found = note, []
    for version in versions:
        found.append(after)
        if not version.set_aside:
            after = version
    return found


def keep(note, title=None, content=None, saved_at=None, always=False, kind=None):
    """Keep the note's current text (or the given one) as a version before it is replaced.

    Unless `always`, nothing is kept when the newest saved version is younger than the quiet
    time: that version counts one more text dropped after it. `kind` is SET_ASIDE for a text
    a conflict set aside.
    """
    title = note.title if title is None else title
    content = note.content if content is None else content
    config = current_app.config
    if not always:
        newest = db.session.execute(
            select(NoteVersion.id, NoteVersion.created_at)
            .where(NoteVersion.note_id == note.id, NoteVersion.kind.is_(None))
            .order_by(NoteVersion.id.desc())
            .limit(1)
        ).first()
        quiet = timedelta(seconds=config["HISTORY_QUIET_SECONDS"])
        if newest is not None and utcnow() - newest.created_at < quiet:
            db.session.execute(
                update(NoteVersion)
                .where(NoteVersion.id == newest.id)
                .values(dropped=func.coalesce(NoteVersion.dropped, 0) + 1)
            )
            return
    db.session.add(
        NoteVersion(
            note_id=note.id,
            title=title,
            content=content,
            saved_at=note.updated_at if saved_at is None else saved_at,
            kind=kind,
        )
    )
    db.session.flush()
    kept = (
        select(NoteVersion.id)
        .where(NoteVersion.note_id == note.id)
        .order_by(NoteVersion.id.desc())
        .limit(config["HISTORY_PER_NOTE"])
    )
    db.session.execute(
        delete(NoteVersion).where(NoteVersion.note_id == note.id, NoteVersion.id.not_in(kept))
    )


def history_bytes(user_id):
    """Return the bytes of text the user's notes' versions take."""
    size = func.octet_length(NoteVersion.title) + func.octet_length(NoteVersion.content)
    return db.session.scalar(
        select(func.coalesce(func.sum(size), 0))
        .join(Note, Note.id == NoteVersion.note_id)
        .where(Note.user_id == user_id)
    )


def give_way(user_id, needed):
    """Delete the user's oldest versions until `needed` bytes are free (or none is left)."""
    size = func.octet_length(NoteVersion.title) + func.octet_length(NoteVersion.content)
    oldest = db.session.execute(
        select(NoteVersion.id, size)
        .join(Note, Note.id == NoteVersion.note_id)
        .where(Note.user_id == user_id)
        .order_by(NoteVersion.id)
    )
    dropped, freed = [], 0
    for version_id, version_bytes in oldest:
        if freed >= needed:
            break
        dropped.append(version_id)
        freed += version_bytes
    if dropped:
        db.session.execute(delete(NoteVersion).where(NoteVersion.id.in_(dropped)))
    return freed


def delete_old():
    """Delete versions kept longer than HISTORY_DAYS; return how many."""
    cutoff = utcnow() - timedelta(days=current_app.config["HISTORY_DAYS"])
    return db.session.execute(delete(NoteVersion).where(NoteVersion.created_at < cutoff)).rowcount
