"""Reminders on notes and the occurrences they fired (docs/reminders.md).

A reminder keeps its wall-clock start and IANA zone with the RRULE (app/features/notes/schedule.py)
and `due_at`, the next moment it fires in UTC: the sooner of the rule's next occurrence
(`next_at`) and a snooze (`snoozed_until`). Each firing is one ReminderOccurrence, unique per
reminder and moment: that row, written in the transaction that queues its delivery, is what
makes each occurrence go out once.
"""

from datetime import datetime

from sqlalchemy import (
    BigInteger,
    CheckConstraint,
    DateTime,
    ForeignKey,
    Identity,
    Index,
    Text,
    UniqueConstraint,
    false,
    text,
)
from sqlalchemy.dialects.postgresql import ARRAY
from sqlalchemy.orm import Mapped, mapped_column, relationship

from app.extensions import db
from app.models.base import utcnow
from app.models.notes import Note

REPEAT_NAMES = ("none", "daily", "weekdays", "weekly", "monthly", "yearly")
ZONE_MAX_LENGTH = 64
RULE_MAX_LENGTH = 200
# What became of an occurrence: queued for mail, mailed, kept from mail by the hourly budget
# (shown in the due view only), or void (its reminder changed, or its note was trashed,
# before the mail went).
OUTCOMES = ("queued", "sent", "held", "void")


class Reminder(db.Model):
    """A note's reminder: one a note (the per-note budget is the unique note_id)."""

    __tablename__ = "reminder"
    __table_args__ = (
        Index("ix_reminder_user_id", "user_id"),
        Index("ix_reminder_due_at", "due_at", postgresql_where=text("due_at IS NOT NULL")),
        CheckConstraint(
            "repeat IN ('none', 'daily', 'weekdays', 'weekly', 'monthly', 'yearly')",
            name="repeat_known",
        ),
        CheckConstraint(f"char_length(time_zone) <= {ZONE_MAX_LENGTH}", name="zone_length"),
        CheckConstraint(f"char_length(rule) <= {RULE_MAX_LENGTH}", name="rule_length"),
    )

    id: Mapped[int] = mapped_column(BigInteger, Identity(), primary_key=True)
    note_id: Mapped[int] = mapped_column(
        BigInteger, ForeignKey("note.id", ondelete="CASCADE"), unique=True
    )
    user_id: Mapped[int] = mapped_column(BigInteger, ForeignKey("user.id", ondelete="CASCADE"))
    starts_at: Mapped[datetime] = mapped_column(DateTime(timezone=False))  # wall clock
    time_zone: Mapped[str] = mapped_column(Text)
    repeat: Mapped[str] = mapped_column(Text)
    rule: Mapped[str | None] = mapped_column(Text)  # RFC 5545 RRULE; None: once
    next_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    snoozed_until: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    due_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    # The mail says "a note of yours" instead of the note's title.
    private: Mapped[bool] = mapped_column(default=False, server_default=false())
    # Moves on every change: an occurrence queued under an older one sends nothing.
    generation: Mapped[int] = mapped_column(BigInteger, default=1, server_default=text("1"))
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)

    note: Mapped[Note] = relationship()


class ReminderOccurrence(db.Model):
    """One firing of a reminder: at most one row (and one mail) per reminder and moment."""

    __tablename__ = "reminder_occurrence"
    __table_args__ = (
        UniqueConstraint("reminder_id", "due_at", name="uq_reminder_occurrence_reminder_id"),
        Index("ix_reminder_occurrence_user_id_fired_at", "user_id", "fired_at"),
        Index("ix_reminder_occurrence_note_id", "note_id"),
        CheckConstraint("outcome IN ('queued', 'sent', 'held', 'void')", name="outcome_known"),
        CheckConstraint(
            "push_outcome IN ('queued', 'sent', 'held', 'void')", name="push_outcome_known"
        ),
    )

    id: Mapped[int] = mapped_column(BigInteger, Identity(), primary_key=True)
    reminder_id: Mapped[int] = mapped_column(
        BigInteger, ForeignKey("reminder.id", ondelete="CASCADE")
    )
    note_id: Mapped[int] = mapped_column(BigInteger, ForeignKey("note.id", ondelete="CASCADE"))
    user_id: Mapped[int] = mapped_column(BigInteger, ForeignKey("user.id", ondelete="CASCADE"))
    due_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    generation: Mapped[int] = mapped_column(BigInteger)
    fired_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)
    outcome: Mapped[str] = mapped_column(Text, default="queued", server_default="queued")
    sent_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    done_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    snoozed_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    # Its push (app/features/reminders/pushing.py): None when the account had no browser subscribed,
    # else as `outcome`; when the first browser took it (the hourly budget counts these), and
    # the subscriptions that took it (a retry skips them).
    push_outcome: Mapped[str | None] = mapped_column(Text)
    pushed_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    pushed_to: Mapped[list[int]] = mapped_column(
        ARRAY(BigInteger), default=list, server_default=text("'{}'")
    )

    note: Mapped[Note] = relationship()
    reminder: Mapped[Reminder] = relationship()
