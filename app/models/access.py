"""What lets a person in, or keeps them out: mailed links and throttles."""

import secrets
from datetime import datetime, timedelta

from sqlalchemy import (
    BigInteger,
    CheckConstraint,
    DateTime,
    ForeignKey,
    Identity,
    Index,
    Text,
    delete,
    or_,
    select,
)
from sqlalchemy.orm import Mapped, mapped_column, relationship

from app.extensions import db
from app.models.accounts import User, hash_token
from app.models.base import EMAIL_MAX_LENGTH, comparison_key, utcnow


def account_stamp(user):
    """Return what a mailed link remembers of its account: void once the password or the
    address changes (a rehash of the same password, on new argon2 parameters, counts too)."""
    return hash_token(f"{user.password_hash}\n{comparison_key(user.email)}")


class MailToken(db.Model):
    """A link Memo mailed (docs/mail.md, "One identity model for mailed links").

    Only the token's SHA-256 is kept. A token works once, until `expires_at`, for the account
    and the purpose it was made for. Links that verify an address, reset a password or move
    the account to a new address (BOUND_PURPOSES) also work only while the account has the
    password and the address it had when they were sent (`password_stamp`), so any change of
    either voids every other link. A notice's "this was not me" link (`secure`) and the link
    that removes an unconfirmed account (`remove`) are not voided so: they must outlive the
    very change they undo; using one deletes every other link of the account.
    """

    __tablename__ = "mail_token"
    __table_args__ = (
        CheckConstraint(
            "purpose IN ('verify', 'reset', 'email', 'secure', 'remove')",
            name="purpose_with_notices",
        ),
        CheckConstraint(f"char_length(email) <= {EMAIL_MAX_LENGTH}", name="email_length"),
        Index("ix_mail_token_expires_at", "expires_at"),
    )

    BOUND_PURPOSES = ("verify", "reset", "email")

    id: Mapped[int] = mapped_column(BigInteger, Identity(), primary_key=True)
    token_hash: Mapped[str] = mapped_column(Text, unique=True)
    user_id: Mapped[int] = mapped_column(
        BigInteger, ForeignKey("user.id", ondelete="CASCADE"), index=True
    )
    purpose: Mapped[str] = mapped_column(Text)
    email: Mapped[str] = mapped_column(Text)  # the address the link was sent to
    # account_stamp() when the link was sent (BOUND_PURPOSES only).
    password_stamp: Mapped[str | None] = mapped_column(Text)
    # Written by releases before 0018 only (a sign-up's password, set on opening): ignored.
    new_password_hash: Mapped[str | None] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)
    expires_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    used_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))

    user: Mapped[User] = relationship()

    @classmethod
    def issue(cls, user, purpose, email, lifetime):
        """Add a token for `user` and return it (128+ random bits): the row keeps its hash."""
        token = secrets.token_urlsafe(32)
        stamp = account_stamp(user) if purpose in cls.BOUND_PURPOSES else None
        db.session.add(
            cls(
                token_hash=hash_token(token),
                user_id=user.id,
                purpose=purpose,
                email=email,
                password_stamp=stamp,
                expires_at=utcnow() + lifetime,
            )
        )
        return token

    @classmethod
    def look_up(cls, token, purposes, lock=False):
        """Return (the token's row, None) if it still works, else (row or None, the reason).

        Only a token for one of `purposes` is found. With `lock`, the row stays locked until
        the transaction ends: of two requests redeeming one token at once, the second waits
        and then finds it used.
        """
        query = select(cls).where(cls.token_hash == hash_token(token), cls.purpose.in_(purposes))
        row = db.session.scalar(query.with_for_update() if lock else query)
        return row, row.problem() if row else "unknown"

    def problem(self):
        """Return why this token no longer works ("used", "expired", "void"), or None."""
        if self.used_at is not None:
            return "used"
        if self.expires_at <= utcnow():
            return "expired"
        if self.purpose in self.BOUND_PURPOSES and self.password_stamp != account_stamp(self.user):
            # The password or the address changed since the link was sent (a link from
            # before revision 0018 has no stamp of both: void too).
            return "void"
        if self.purpose == "remove" and (self.user.email_verified or self.email != self.user.email):
            return "void"  # confirmed since, or no longer this address's
        return None

    @classmethod
    def pending_moves(cls, user):
        """Return the account's links to move to a new address that still work, newest first."""
        query = select(cls).where(
            cls.user_id == user.id,
            cls.purpose == "email",
            cls.used_at.is_(None),
            cls.expires_at > utcnow(),
            cls.password_stamp == account_stamp(user),
        )
        return db.session.scalars(query.order_by(cls.id.desc())).all()

    @classmethod
    def delete_others(cls, row):
        """Delete every other link of `row`'s account: one of them was just used to secure it."""
        db.session.execute(delete(cls).where(cls.user_id == row.user_id, cls.id != row.id))

    def spend(self):
        """Mark the token used: it works once."""
        self.used_at = utcnow()

    @classmethod
    def delete_spent(cls, keep_used_for=timedelta(days=1)):
        """Delete the tokens that expired, and those used more than `keep_used_for` ago."""
        now = utcnow()
        spent = or_(cls.expires_at <= now, cls.used_at <= now - keep_used_for)
        return db.session.execute(delete(cls).where(spent)).rowcount


class LoginThrottle(db.Model):
    """Attempts within the current throttle window: password checks of one email or from
    one client, signups from one client or in total (scope `signup-client`, `signup`),
    password resets asked for an email or from a client (`reset-email`, `reset-client`),
    mail asked for by one account (`mail-account`), mail sent to one address on others'
    behalf (`mail-recipient`), failed password checks in total
    (`login`), and one user's note writes (`note-writes`).

    An attempt counts as failed from the moment it starts until it succeeds, so parallel
    guesses cannot slip past the limit (see app/auth/throttle.py).
    """

    __tablename__ = "login_throttle"
    __table_args__ = (
        CheckConstraint(
            "scope IN ('email', 'client', 'signup-client', 'signup',"
            " 'reset-email', 'reset-client', 'mail-account', 'note-writes', 'login',"
            " 'mail-recipient')",
            name="scope_with_recipients",
        ),
        # Pruning looks for windows that ended.
        Index("ix_login_throttle_window_started_at", "window_started_at"),
    )

    scope: Mapped[str] = mapped_column(Text, primary_key=True)
    subject: Mapped[str] = mapped_column(Text, primary_key=True)
    failures: Mapped[int] = mapped_column(BigInteger)
    window_started_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
