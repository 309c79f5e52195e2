"""What lets a person in, or keeps them out: mailed links, addresses with standing, throttles."""

import secrets
from datetime import datetime, timedelta

from flask import current_app
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
    or_,
    select,
    update,
)
from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.orm import Mapped, mapped_column, relationship

from app.extensions import db
from app.models.accounts import User, hash_token
from app.models.base import EMAIL_MAX_LENGTH, comparison_key, utcnow


def account_stamp(user):
    """Return what a mailed link remembers of its account: void once the password or the
    address changes (a rehash of the same password, on new argon2 parameters, counts too)."""
    return hash_token(f"{user.password_hash}\n{comparison_key(user.email)}")


class AddressHold(db.Model):
    """An address an account holds or held, and since when: who may undo what.

    docs/mail.md, "Who may undo what": the current address has standing, and so does every
    address the account left less than UNDO_WINDOW ago (SECURE_LINK_LIFETIME, 7 days).
    Among them, the address held first ranks highest. An account with no rows holds its
    current address since it was made.
    """

    __tablename__ = "address_hold"
    __table_args__ = (
        CheckConstraint(f"char_length(email) <= {EMAIL_MAX_LENGTH}", name="email_length"),
        UniqueConstraint("user_id", "email_key", name="uq_address_hold_user_id_email_key"),
    )

    id: Mapped[int] = mapped_column(BigInteger, Identity(), primary_key=True)
    user_id: Mapped[int] = mapped_column(BigInteger, ForeignKey("user.id", ondelete="CASCADE"))
    email: Mapped[str] = mapped_column(Text)
    email_key: Mapped[str] = mapped_column(Text)
    first_held_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    left_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    # Whether the move that brought the address needed a second step (the account had one
    # when it completed); NULL: not recorded (before revision 0035, or not brought by a move).
    arrived_with_second_step: Mapped[bool | None] = mapped_column()

    @staticmethod
    def undo_window():
        """Return how long an address the account left keeps its standing."""
        return current_app.config["SECURE_LINK_LIFETIME"]

    @classmethod
    def standing(cls, user):
        """Return the addresses with standing, highest rank first, as (email, since, left_at).

        The current address is always among them. A row left NULL for an address that is not
        the current one was left by a move of the previous release: read as left just now.
        """
        now = utcnow()
        rows = db.session.scalars(select(cls).where(cls.user_id == user.id)).all()
        current_key = comparison_key(user.email)
        held = []
        for row in rows:
            if row.email_key == current_key:
                continue
            left_at = row.left_at or now
            if left_at > now - cls.undo_window():
                held.append((row.email, row.first_held_at, left_at))
        current = next((row for row in rows if row.email_key == current_key), None)
        since = current.first_held_at if current else (now if rows else user.created_at)
        held.append((user.email, since, None))
        return sorted(held, key=lambda address: address[1])

    @classmethod
    def ranks(cls, user):
        """Return {comparison key: rank} of the addresses with standing (0 is the highest)."""
        return {
            comparison_key(email): rank for rank, (email, _, _) in enumerate(cls.standing(user))
        }

    @classmethod
    def rank_of(cls, user, email):
        """Return the rank of `email` among the account's addresses, or None if it has no
        standing."""
        return cls.ranks(user).get(comparison_key(email))

    @classmethod
    def may_undo(cls, user, email):
        """Return whether a link mailed to `email` may undo a change of the account: the
        address has standing and ranks at least as high as the account's current one."""
        ranks = cls.ranks(user)
        rank = ranks.get(comparison_key(email))
        return rank is not None and rank <= ranks[comparison_key(user.email)]

    @classmethod
    def came_by_password_alone(cls, user, email):
        """Return whether the account's current address `email` came within the undo window
        by a move that needed no second step: whoever holds it may be an intruder who had
        the password alone, and it gets no power over the second steps turned on after it
        came (no undo link in their notices, none removed by its recovery)."""
        if comparison_key(email) != comparison_key(user.email):
            return False
        return (
            db.session.scalar(
                select(cls.id).where(
                    cls.user_id == user.id,
                    cls.email_key == comparison_key(email),
                    cls.arrived_with_second_step.is_(False),
                    cls.first_held_at > utcnow() - cls.undo_window(),
                )
            )
            is not None
        )

    @classmethod
    def leave(cls, user, old_email, old_verified, new_email, with_second_step=None):
        """Record a move from `old_email` to `new_email` (the account's address now), and
        whether the move needed a second step (`with_second_step`; None: an undo, which
        needs the address's standing instead).

        A verified address keeps its standing for the undo window; an unverified one never
        had any. The new address keeps the standing it had if it returns within the window
        (its rank with it); otherwise its standing begins now.
        """
        now = utcnow()
        had_rows = db.session.scalar(select(cls.id).where(cls.user_id == user.id).limit(1))
        old_since = now if had_rows else user.created_at
        old_key = comparison_key(old_email)
        if old_verified:
            cls.upsert(user.id, old_email, old_key, old_since, left_at=now)
        else:
            db.session.execute(delete(cls).where(cls.user_id == user.id, cls.email_key == old_key))
        new_key = comparison_key(new_email)
        returning = db.session.scalar(
            select(cls).where(
                cls.user_id == user.id,
                cls.email_key == new_key,
                cls.left_at > now - cls.undo_window(),
            )
        )
        since = returning.first_held_at if returning else now
        cls.upsert(user.id, new_email, new_key, since, left_at=None, keep_since=bool(returning))
        db.session.execute(
            update(cls)
            .where(cls.user_id == user.id, cls.email_key == new_key)
            .values(arrived_with_second_step=with_second_step)
            .execution_options(synchronize_session=False)
        )

    @classmethod
    def left_unrecorded(cls, user, old_email):
        """Record that the account left `old_email` just now, if nothing recorded it: a move
        made by the release before 0022, whose notice this release sends."""
        if cls.rank_of(user, old_email) is None:
            had_rows = db.session.scalar(select(cls.id).where(cls.user_id == user.id).limit(1))
            since = utcnow() if had_rows else user.created_at
            cls.upsert(user.id, old_email, comparison_key(old_email), since, left_at=utcnow())

    @classmethod
    def upsert(cls, user_id, email, key, since, left_at, keep_since=True):
        """Insert or update the row of (user_id, key); an existing row keeps its `since`
        unless `keep_since` is False."""
        values = {"email": email, "left_at": left_at}
        if not keep_since:
            values["first_held_at"] = since
        statement = insert(cls).values(
            user_id=user_id, email=email, email_key=key, first_held_at=since, left_at=left_at
        )
        db.session.execute(
            statement.on_conflict_do_update(
                constraint="uq_address_hold_user_id_email_key", set_=values
            )
        )


class MailToken(db.Model):
    """A link Memo mailed (docs/mail.md, "Who may undo what").

    Only the token's SHA-256 is kept. A token works once, until `expires_at`, for the account
    and the purpose it was made for. Links that verify an address, reset a password or move
    the account to a new address (BOUND_PURPOSES) also work only while the account has the
    password and the address it had when they were sent (`password_stamp`), so any change of
    either voids every other link. A notice's "this was not me" link (`secure`) and the link
    that removes an unconfirmed account (`remove`) are not voided so: they must outlive the
    very change they undo. Who may use an undo link, and which links an act deletes, follow
    the addresses' ranks (AddressHold, `delete_outranked`).
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
        """Return why this token no longer works ("used", "expired", "void", "changed"), or
        None."""
        if self.user is None:
            return "unknown"  # the account went (with its links) after the link was read
        if self.used_at is not None:
            return "used"
        if self.expires_at <= utcnow():
            return "expired"
        if self.purpose in self.BOUND_PURPOSES and self.password_stamp != account_stamp(self.user):
            # The password or the address changed since the link was sent (a link from
            # before revision 0018 has no stamp of both: void too).
            return "void"
        changed = self.user.proofs_changed_at
        if self.purpose in self.BOUND_PURPOSES and changed and self.created_at < changed:
            return "changed"  # its sign-in changed since: checked as the account is now
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
        if user.proofs_changed_at is not None:
            query = query.where(cls.created_at >= user.proofs_changed_at)
        return db.session.scalars(query.order_by(cls.id.desc())).all()

    @classmethod
    def delete_outranked(cls, user, actor, keep=None):
        """Delete what an act from address `actor` outranks: every other link sent to `actor`
        (the later act wins), and every link sent to an address ranked below it or with no
        standing (a pending move's, a lower address's); the addresses ranked below it lose
        their standing (an intruder's address gets no more notices). Links sent to an address
        that ranks above `actor` stay. `keep`: the link of the act itself. Return the addresses
        that lost their standing: they are told once more, without an undo link."""
        standing = AddressHold.standing(user)
        ranks = {comparison_key(email): rank for rank, (email, _, _) in enumerate(standing)}
        floor = ranks.get(comparison_key(actor), len(ranks))
        links = db.session.scalars(select(cls).where(cls.user_id == user.id)).all()
        for link in links:
            if link is not keep and ranks.get(comparison_key(link.email), floor + 1) >= floor:
                db.session.delete(link)
        below = [email for email, _, _ in standing[floor + 1 :]]
        if below:
            keys = [comparison_key(email) for email in below]
            db.session.execute(
                delete(AddressHold).where(
                    AddressHold.user_id == user.id, AddressHold.email_key.in_(keys)
                )
            )
        return below

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
    guesses cannot slip past the limit (see app/throttle.py).
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
