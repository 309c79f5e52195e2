"""The browsers an account asked to be sent its reminders by Web Push (docs/reminders.md).

A subscription is what the browser's PushManager hands over: the push service's endpoint (a
URL the worker POSTs to) and the browser's keys for reading what is sent (RFC 8291): its
P-256 public key and a 16-byte auth secret. It opens nothing of the account; it is a way out
of it, to a device, so it ends with the session that made it (a sign-out, a password
change, a recovery) and with the account (app/accounts/ways_in.py).
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
    func,
    select,
)
from sqlalchemy.orm import Mapped, mapped_column

from app.extensions import db
from app.models.base import utcnow
from app.models.grants import MadeBy

ENDPOINT_MAX_LENGTH = 1024
P256DH_LENGTH = 87  # 65 bytes, base64url without padding
AUTH_LENGTH = 22  # 16 bytes, base64url without padding


class PushSubscription(MadeBy, db.Model):
    """One browser's push subscription for one account."""

    __tablename__ = "push_subscription"
    __table_args__ = (
        UniqueConstraint("user_id", "endpoint", name="uq_push_subscription_user_id"),
        Index("ix_push_subscription_login_session_id", "login_session_id"),
        CheckConstraint(
            f"char_length(endpoint) <= {ENDPOINT_MAX_LENGTH} AND endpoint LIKE 'https://%'",
            name="endpoint_https",
        ),
        CheckConstraint(f"char_length(p256dh_public_key) = {P256DH_LENGTH}", name="p256dh_length"),
        CheckConstraint(f"char_length(auth_secret) = {AUTH_LENGTH}", name="auth_length"),
    )

    id: Mapped[int] = mapped_column(BigInteger, Identity(), primary_key=True)
    user_id: Mapped[int] = mapped_column(BigInteger, ForeignKey("user.id", ondelete="CASCADE"))
    # The session that turned it on: its end (sign-out, password change, recovery) ends it;
    # an expiry only lets go of it (LoginSession.delete_expired).
    login_session_id: Mapped[int | None] = mapped_column(
        BigInteger, ForeignKey("login_session.id", ondelete="CASCADE")
    )
    endpoint: Mapped[str] = mapped_column(Text)
    p256dh_public_key: Mapped[str] = mapped_column(Text)
    auth_secret: Mapped[str] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)

    @classmethod
    def of(cls, user_id):
        """Return the account's subscriptions, oldest first."""
        return db.session.scalars(select(cls).where(cls.user_id == user_id).order_by(cls.id)).all()

    @classmethod
    def counted(cls, user_id):
        """Return how many browsers the account has subscribed, as a column for a statement
        to read beside others (the note's page). `user_id`: a value or a bound parameter."""
        count = select(func.count()).select_from(cls).where(cls.user_id == user_id)
        return count.scalar_subquery().label("browsers")

    @classmethod
    def count_of(cls, user_id):
        """Return how many browsers the account has subscribed."""
        return db.session.scalar(select(cls.counted(user_id)))
