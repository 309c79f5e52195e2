"""What a note write leaves behind, read from the database: the write rate spent, the
account's change counter, its events."""

from sqlalchemy import func, select

from app.extensions import db
from app.models import ChangeCounter, LoginThrottle, Note, NoteEvent


def writes_spent(app, user_id=1):
    """Return how many note writes the account spent in the current window: its pages' and
    its tokens' together (app/throttle.py counts them apart)."""
    with app.app_context():
        spent = db.session.scalar(
            select(func.sum(LoginThrottle.failures)).where(
                LoginThrottle.scope == "note-writes",
                LoginThrottle.subject.in_([str(user_id), f"tokens-{user_id}"]),
            )
        )
        db.session.remove()
    return spent or 0


def events_of(app, user_id=1):
    """Return the account's events as (note id, seq, kind), oldest first."""
    with app.app_context():
        rows = db.session.execute(
            select(NoteEvent.note_id, NoteEvent.seq, NoteEvent.kind)
            .where(NoteEvent.user_id == user_id)
            .order_by(NoteEvent.id)
        ).all()
        db.session.remove()
    return [tuple(row) for row in rows]


def last_seq(app, user_id=1):
    """Return the account's newest change number (0 before any)."""
    with app.app_context():
        seq = db.session.scalar(
            select(ChangeCounter.last_seq).where(ChangeCounter.user_id == user_id)
        )
        db.session.remove()
    return seq or 0


def stored_html(app, note_id):
    """Return a note's stored HTML and the version it renders."""
    with app.app_context():
        row = db.session.execute(
            select(Note.rendered, Note.rendered_version).where(Note.id == note_id)
        ).one()
        db.session.remove()
    return tuple(row)
