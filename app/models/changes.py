"""What the change feed reads besides the notes: each account's change counter, the
tombstones of notes deleted for good, and the event each change leaves
(app/features/notes/events.py)."""

from datetime import datetime

from sqlalchemy import BigInteger, DateTime, ForeignKey, Identity, Index, Text, text
from sqlalchemy.orm import Mapped, mapped_column

from app.extensions import db


class ChangeCounter(db.Model):
    """An account's change sequence: the number its newest note change was given.

    Bumped in the transaction that changes a note (app/features/notes/changes.py), so its row lock
    orders the account's changes as they commit: a reader never sees a higher number before
    a lower one. `forgotten_through`: the newest sequence of a tombstone pruned, below which
    the feed cannot tell every deletion (410).
    """

    __tablename__ = "note_change_counter"

    user_id: Mapped[int] = mapped_column(
        BigInteger, ForeignKey("user.id", ondelete="CASCADE"), primary_key=True
    )
    last_seq: Mapped[int] = mapped_column(BigInteger, server_default=text("0"))
    forgotten_through: Mapped[int] = mapped_column(BigInteger, server_default=text("0"))


class NoteTombstone(db.Model):
    """A note deleted for good (the trash emptied or expired): what a device that was away
    needs to learn it is gone. Kept TOMBSTONE_DAYS."""

    __tablename__ = "note_tombstone"
    __table_args__ = (
        Index("ix_note_tombstone_user_id_seq", "user_id", "seq"),
        Index("ix_note_tombstone_deleted_at", "deleted_at"),
    )

    note_id: Mapped[int] = mapped_column(BigInteger, primary_key=True, autoincrement=False)
    user_id: Mapped[int] = mapped_column(BigInteger, ForeignKey("user.id", ondelete="CASCADE"))
    seq: Mapped[int] = mapped_column(BigInteger)
    deleted_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))


class NoteEvent(db.Model):
    """One change of a note, written in the transaction that made it: the point later
    features (webhooks, reminders, sync) read from. Kept EVENT_DAYS."""

    __tablename__ = "note_event"
    __table_args__ = (
        Index("ix_note_event_created_at", "created_at"),
        # A webhook's events after its number (app/features/webhooks/outbox.py).
        Index("ix_note_event_user_id_seq", "user_id", "seq"),
    )

    id: Mapped[int] = mapped_column(BigInteger, Identity(), primary_key=True)
    user_id: Mapped[int] = mapped_column(BigInteger, ForeignKey("user.id", ondelete="CASCADE"))
    note_id: Mapped[int] = mapped_column(BigInteger)
    seq: Mapped[int] = mapped_column(BigInteger)
    kind: Mapped[str] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
