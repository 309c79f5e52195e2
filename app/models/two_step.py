"""The second step of signing in: an authenticator app's secret, recovery codes, and the
throttle of wrong codes (docs/security.md, "Two-step sign-in")."""

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
    delete,
    func,
    select,
    update,
)
from sqlalchemy.orm import Mapped, mapped_column

from app.extensions import db
from app.models.base import utcnow


class TotpCredential(db.Model):
    """An account's authenticator app (RFC 6238): its secret, encrypted with TWO_STEP_KEY,
    and the last time step a code was accepted for, so that each code works once."""

    __tablename__ = "totp_credential"

    user_id: Mapped[int] = mapped_column(
        BigInteger, ForeignKey("user.id", ondelete="CASCADE"), primary_key=True
    )
    secret: Mapped[str] = mapped_column(Text)  # a Fernet token (app/two_step/totp.py)
    last_time_step: Mapped[int] = mapped_column(BigInteger)
    enabled_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)

    @classmethod
    def of(cls, user_id):
        """Return the account's authenticator app, or None when it has none."""
        return db.session.get(cls, user_id)

    @classmethod
    def spend_time_step(cls, user_id, step):
        """Record that a code of time step `step` was accepted; False if one of that step or
        a later one was accepted already (a replay). One atomic update: two requests with
        one code at once, in any process, and exactly one gets True."""
        spent = db.session.execute(
            update(cls)
            .where(cls.user_id == user_id, cls.last_time_step < step)
            .values(last_time_step=step)
        )
        return spent.rowcount == 1

    @classmethod
    def turn_off_if_newer(cls, user_id, age):
        """Turn the app off if it was turned on less than `age` ago (an undo link's act)."""
        if db.session.scalar(
            select(cls.user_id).where(cls.user_id == user_id, cls.enabled_at > utcnow() - age)
        ):
            cls.turn_off(user_id)

    @classmethod
    def turn_off(cls, user_id):
        """Remove the account's authenticator app and its recovery codes."""
        db.session.execute(delete(cls).where(cls.user_id == user_id))
        db.session.execute(delete(RecoveryCode).where(RecoveryCode.user_id == user_id))


class RecoveryCode(db.Model):
    """A single-use code that stands in for the authenticator app; only its SHA-256 is kept
    (80 random bits: no slow hash needed)."""

    __tablename__ = "recovery_code"
    __table_args__ = (UniqueConstraint("user_id", "code_hash", name="uq_recovery_code_user_id"),)

    id: Mapped[int] = mapped_column(BigInteger, Identity(), primary_key=True)
    user_id: Mapped[int] = mapped_column(BigInteger, ForeignKey("user.id", ondelete="CASCADE"))
    code_hash: Mapped[str] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)
    used_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))

    @classmethod
    def replace(cls, user_id, hashes):
        """Make `hashes` the account's recovery codes: the earlier ones are void."""
        db.session.execute(delete(cls).where(cls.user_id == user_id))
        db.session.add_all(cls(user_id=user_id, code_hash=code_hash) for code_hash in hashes)

    @classmethod
    def spend(cls, user_id, code_hash):
        """Mark the unused code of `code_hash` used; False if there is none (wrong or used).
        One atomic update: the same code twice at once works once."""
        spent = db.session.execute(
            update(cls)
            .where(cls.user_id == user_id, cls.code_hash == code_hash, cls.used_at.is_(None))
            .values(used_at=func.now())
        )
        return spent.rowcount == 1

    @classmethod
    def left(cls, user_id):
        """Return how many of the account's recovery codes are unused."""
        return db.session.scalar(
            select(func.count()).where(cls.user_id == user_id, cls.used_at.is_(None))
        )


class TwoStepThrottle(db.Model):
    """Wrong codes per account within a window, counted by app/auth/throttle.py like the
    password checks of login_throttle (a table of its own, so that no revision widens
    login_throttle's CHECK on its scopes)."""

    __tablename__ = "two_step_throttle"
    __table_args__ = (
        CheckConstraint("scope IN ('two-step', 'two-step-day')", name="scope"),
        Index("ix_two_step_throttle_window_started_at", "window_started_at"),
    )

    scope: Mapped[str] = mapped_column(Text, primary_key=True)
    subject: Mapped[str] = mapped_column(Text, primary_key=True)
    failures: Mapped[int] = mapped_column(BigInteger)
    window_started_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
