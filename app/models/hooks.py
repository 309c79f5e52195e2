"""Ways out of an account to other tools: webhooks, their deliveries, and private Atom feeds
(docs/webhooks.md).

A webhook is an address Memo POSTs the account's note events to, signed with a secret that
was shown once; a delivery is one event for one webhook, with the stable id a receiver
deduplicates by. A feed is a secret URL that reads the account's notes (or one tag's) as
Atom. Both open the account's notes to whoever holds them, so both are ways in
(app/accounts/ways_in.py): a recovery pauses those its owner's proofs did not make.
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
    text,
)
from sqlalchemy.dialects.postgresql import ARRAY
from sqlalchemy.orm import Mapped, mapped_column

from app.extensions import db
from app.models.base import utcnow
from app.models.grants import MadeBy, Pausable

WEBHOOK_URL_MAX_LENGTH = 2048
WEBHOOK_EVENTS = (
    "note.created",
    "note.updated",
    "note.trashed",
    "note.restored",
    "note.deleted",
    "reminder.fired",
)
DELIVERY_STATES = ("pending", "delivered", "failed")


class Webhook(MadeBy, Pausable, db.Model):
    """An address the account's note events are POSTed to, signed with its secret.

    `secret`: the signing secret (`whsec_...`), encrypted at rest with TWO_STEP_KEY as an
    authenticator app's is; Memo needs it back to sign, so it cannot be a hash.
    `seq_through`: the account's change number up to which its events were made deliveries.
    `paused_at`: a recovery paused it until its owner keeps it; `disabled_at`: deliveries
    failed for about a day and it was turned off; `full_at`: collection stopped, the account's
    waiting deliveries being full (app/features/webhooks/outbox.py), until they drain.
    """

    __tablename__ = "webhook"
    __table_args__ = (
        Index("ix_webhook_user_id", "user_id"),
        CheckConstraint(f"char_length(url) <= {WEBHOOK_URL_MAX_LENGTH}", name="url_length"),
    )

    id: Mapped[int] = mapped_column(BigInteger, Identity(), primary_key=True)
    user_id: Mapped[int] = mapped_column(BigInteger, ForeignKey("user.id", ondelete="CASCADE"))
    url: Mapped[str] = mapped_column(Text)
    events: Mapped[list[str]] = mapped_column(ARRAY(Text))
    tag: Mapped[str | None] = mapped_column(Text)
    secret: Mapped[str] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)
    made_with_second_step: Mapped[bool] = mapped_column(server_default=text("false"))
    paused_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    disabled_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    seq_through: Mapped[int] = mapped_column(BigInteger, server_default=text("0"))
    full_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))

    @property
    def active(self):
        return self.paused_at is None and self.disabled_at is None


class WebhookDelivery(db.Model):
    """One event for one webhook, by reference (`event_id`, `note_id`), and how its attempts
    went: the body is built when it is sent, from the note as it is then.

    `message_id` is the `webhook-id` header, the same on every attempt. `state`: pending
    (waiting for `next_attempt_at`), delivered, or failed (given up). `size`: the bytes it
    would send, counted when collected. `body`: written by the release before 0038 only
    (its rows age out; the column goes in a later release).
    """

    __tablename__ = "webhook_delivery"
    __table_args__ = (
        Index("ix_webhook_delivery_webhook_id_state_id", "webhook_id", "state", "id"),
        Index("ix_webhook_delivery_created_at", "created_at"),
        CheckConstraint("state IN ('pending', 'delivered', 'failed')", name="state_known"),
    )

    id: Mapped[int] = mapped_column(BigInteger, Identity(), primary_key=True)
    message_id: Mapped[str] = mapped_column(Text, unique=True)
    webhook_id: Mapped[int] = mapped_column(
        BigInteger, ForeignKey("webhook.id", ondelete="CASCADE")
    )
    event_id: Mapped[int | None] = mapped_column(BigInteger)  # None: a test event
    note_id: Mapped[int | None] = mapped_column(BigInteger)
    type: Mapped[str] = mapped_column(Text)
    body: Mapped[str | None] = mapped_column(Text)
    size: Mapped[int] = mapped_column(BigInteger, server_default=text("0"))
    state: Mapped[str] = mapped_column(Text, server_default=text("'pending'"))
    attempts: Mapped[int] = mapped_column(BigInteger, server_default=text("0"))
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)
    next_attempt_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)
    last_attempt_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    last_status: Mapped[int | None] = mapped_column(BigInteger)
    last_error: Mapped[str | None] = mapped_column(Text)
    duration_ms: Mapped[int | None] = mapped_column(BigInteger)


class WebhookThrottle(db.Model):
    """Deliveries of one account within the current hour (app/throttle.py's shape)."""

    __tablename__ = "webhook_throttle"

    scope: Mapped[str] = mapped_column(Text, primary_key=True)
    subject: Mapped[str] = mapped_column(Text, primary_key=True)
    failures: Mapped[int] = mapped_column(BigInteger)  # attempts, as throttle.py names them
    window_started_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))


class AtomFeed(MadeBy, Pausable, db.Model):
    """A private Atom feed of the account's notes (or of one tag's): `/feeds/<token>`.

    Only the token's SHA-256 is kept; it reads until revoked, or while a recovery paused it.
    """

    __tablename__ = "atom_feed"
    __table_args__ = (Index("ix_atom_feed_user_id", "user_id"),)

    id: Mapped[int] = mapped_column(BigInteger, Identity(), primary_key=True)
    user_id: Mapped[int] = mapped_column(BigInteger, ForeignKey("user.id", ondelete="CASCADE"))
    token_hash: Mapped[str] = mapped_column(Text, unique=True)
    tag: Mapped[str | None] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)
    revoked_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    made_with_second_step: Mapped[bool] = mapped_column(server_default=text("false"))
    paused_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
