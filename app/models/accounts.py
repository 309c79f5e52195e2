"""Accounts: users (passwords, unique addresses and nicknames) and their signed-in sessions."""

import hashlib
import secrets
from contextlib import suppress
from datetime import datetime
from functools import cache
from typing import TYPE_CHECKING

from argon2.exceptions import InvalidHashError, VerificationError
from flask_login import UserMixin
from sqlalchemy import (
    BigInteger,
    CheckConstraint,
    DateTime,
    ForeignKey,
    Identity,
    Index,
    Text,
    and_,
    bindparam,
    delete,
    func,
    or_,
    select,
    update,
)
from sqlalchemy.orm import Mapped, mapped_column, relationship, validates

from app.extensions import db
from app.models.base import (
    EMAIL_MAX_LENGTH,
    NICKNAME_MAX_LENGTH,
    NICKNAME_MIN_LENGTH,
    comparison_key,
    password_hasher,
    utcnow,
)
from app.models.changes import ChangeCounter
from app.models.push import PushSubscription

if TYPE_CHECKING:  # the relationships' types; those modules import this one
    from app.models.notes import Note
    from app.models.work import PhotoUpload, WordCount


class User(UserMixin, db.Model):
    """An account: signs in with email and password, owns notes."""

    __tablename__ = "user"
    __table_args__ = (
        CheckConstraint(f"char_length(email) <= {EMAIL_MAX_LENGTH}", name="email_length"),
        CheckConstraint(
            f"char_length(nickname) BETWEEN {NICKNAME_MIN_LENGTH} AND {NICKNAME_MAX_LENGTH}",
            name="nickname_length",
        ),
    )

    id: Mapped[int] = mapped_column(BigInteger, Identity(), primary_key=True)
    email: Mapped[str] = mapped_column(Text)
    nickname: Mapped[str] = mapped_column(Text)
    password_hash: Mapped[str] = mapped_column(Text)
    # comparison_key() of each, unique (0008). Empty only on rows the release before 0008
    # wrote while it still served: lookups fall back to lower() for those, and fill them in.
    email_key: Mapped[str | None] = mapped_column(Text)
    nickname_key: Mapped[str | None] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)
    # The profile photo's public URL in object storage; each object belongs to one user.
    image_url: Mapped[str | None] = mapped_column(Text, unique=True)
    # The language the user chose ("ko", "en"); None follows the browser's Accept-Language.
    language: Mapped[str | None] = mapped_column(Text)
    # An IANA time zone name; times are stored in UTC and shown in this zone (0015).
    time_zone: Mapped[str] = mapped_column(Text, default="UTC", server_default="UTC")
    # When a mailed link showed the address to be the person's; None until then. Every
    # insert names it (NULL), so the column's default, with which 0014 verified the accounts
    # made before mail existed, serves only the previous release while it still runs.
    email_verified_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    # When the account's sign-in last changed: a second step on or off, a passkey added or
    # removed, a recovery (0032). A pending link sent before it is void (docs/mail.md, "The
    # one rule": a pending link is checked against the account as it is when pressed).
    proofs_changed_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))

    notes: Mapped[list["Note"]] = relationship(
        back_populates="owner", cascade="all, delete-orphan", passive_deletes=True
    )
    login_sessions: Mapped[list["LoginSession"]] = relationship(
        back_populates="user", cascade="all, delete-orphan", passive_deletes=True
    )
    word_counts: Mapped[list["WordCount"]] = relationship(
        back_populates="owner", cascade="all, delete-orphan", passive_deletes=True
    )
    photo_uploads: Mapped[list["PhotoUpload"]] = relationship(
        back_populates="owner", cascade="all, delete-orphan", passive_deletes=True
    )

    # The token of the login session this object was loaded through (not a column).
    session_token = None
    # The account's change number (app/features/notes/changes.py) read with it at sign-in's load.
    change_seq = None

    def get_id(self):
        """Identify the login session, not the user, so it can be revoked on its own."""
        return self.session_token

    @property
    def draft_key(self):
        """Name this login session for the drafts the browser keeps (app/static/drafts.js):
        a digest, not the token; a new sign-in has another, so drafts of an ended one go."""
        return hash_token(f"drafts\n{self.session_token or ''}")[:16]

    def start_session(self):
        """Open a server-side login session and return this user ready for login_user()."""
        self.session_token = secrets.token_urlsafe(32)
        db.session.add(LoginSession(token_hash=hash_token(self.session_token), user=self))
        return self

    def end_session(self):
        """Revoke the login session this request came with."""
        if self.session_token:
            db.session.execute(
                delete(LoginSession).where(
                    LoginSession.token_hash == hash_token(self.session_token)
                )
            )

    def end_other_sessions(self):
        """Revoke every login session of this user but the current one; return their ids."""
        return db.session.scalars(
            delete(LoginSession)
            .where(
                LoginSession.user_id == self.id,
                LoginSession.token_hash != hash_token(self.session_token or ""),
            )
            .returning(LoginSession.id)
            .execution_options(synchronize_session=False)
        ).all()

    def proofs_changed(self):
        """Record that the account's sign-in changed just now: pending links sent before
        are void."""
        self.proofs_changed_at = utcnow()

    @property
    def email_verified(self):
        """Return whether the account's address is known to be its owner's."""
        return self.email_verified_at is not None

    def end_every_session(self):
        """Revoke every login session of this user, the current one too."""
        db.session.execute(delete(LoginSession).where(LoginSession.user_id == self.id))

    def set_password(self, password):
        """Store an argon2id hash of `password`."""
        self.password_hash = password_hasher().hash(password)

    def check_password(self, password):
        """Return whether `password` matches, rehashing if the parameters changed."""
        try:
            password_hasher().verify(self.password_hash, password)
        except (VerificationError, InvalidHashError):
            return False
        if password_hasher().check_needs_rehash(self.password_hash):
            self.set_password(password)
        return True

    @validates("email", "nickname")
    def keep_key(self, column, value):
        """Keep the comparison key of the email or nickname being set."""
        setattr(self, f"{column}_key", comparison_key(value))
        return value

    @classmethod
    def matching(cls, column, value):
        """Return the condition: `column` (email or nickname) is `value` in any case or form."""
        key_column, plain = getattr(cls, f"{column}_key"), getattr(cls, column)
        return or_(
            key_column == comparison_key(value),
            and_(key_column.is_(None), func.lower(plain) == func.lower(value)),
        )

    @classmethod
    def find_by_email(cls, email):
        """Return the user with this email in any letter case or form, or None."""
        user = db.session.scalar(select(cls).where(cls.matching("email", email)).limit(1))
        if user is not None and user.email_key is None:
            user.email, user.nickname = user.email, user.nickname  # fills in both keys
        return user

    @classmethod
    def email_taken(cls, email):
        """Return whether another account uses this email in any letter case or form."""
        return db.session.scalar(select(cls.id).where(cls.matching("email", email))) is not None

    @classmethod
    def nickname_taken(cls, nickname, exclude_id=None):
        """Return whether another account uses this nickname in any letter case or form."""
        query = select(cls.id).where(cls.matching("nickname", nickname))
        if exclude_id is not None:
            query = query.where(cls.id != exclude_id)
        return db.session.scalar(query.limit(1)) is not None


# Unique in any letter case or form: "Ann@x.org" and "ＡＮＮ@x.org" are one account. The
# lower() indexes stay while the release before 0008 may still write without the keys.
Index("uq_user_email_key", User.email_key, unique=True)
Index("uq_user_nickname_key", User.nickname_key, unique=True)
Index("uq_user_email_lower", func.lower(User.email), unique=True)
Index("uq_user_nickname_lower", func.lower(User.nickname), unique=True)


@cache
def dummy_hash(hasher):
    """Return a hash to verify against when no account matches (made once per hasher)."""
    return hasher.hash("memo-no-such-user")


def burn_password_check(password):
    """Spend the time of a real check, so unknown emails can't be told apart by timing."""
    with suppress(VerificationError):
        hasher = password_hasher()
        hasher.verify(dummy_hash(hasher), password)


def hash_token(token):
    """Return the SHA-256 of a session token; the database never holds the token itself."""
    return hashlib.sha256(token.encode()).hexdigest()


class LoginSession(db.Model):
    """A signed-in browser. Deleting the row signs it out, even if it replays its cookie."""

    __tablename__ = "login_session"

    id: Mapped[int] = mapped_column(BigInteger, Identity(), primary_key=True)
    token_hash: Mapped[str] = mapped_column(Text, unique=True)
    user_id: Mapped[int] = mapped_column(
        BigInteger, ForeignKey("user.id", ondelete="CASCADE"), index=True
    )
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)

    user: Mapped[User] = relationship(back_populates="login_sessions")

    @classmethod
    def delete_expired(cls, max_age):
        """Delete the sessions older than `max_age`, which sign nobody in any more.

        The browsers they subscribed to reminders are let go of first, not ended: an expiry
        says nothing of who holds the browser (a sign-out or a recovery ends them).
        """
        cutoff = utcnow() - max_age
        db.session.execute(
            update(PushSubscription)
            .where(
                PushSubscription.login_session_id.in_(
                    select(cls.id).where(cls.created_at <= cutoff)
                )
            )
            .values(login_session_id=None)
            .execution_options(synchronize_session=False)
        )
        return db.session.execute(delete(cls).where(cls.created_at <= cutoff)).rowcount

    @classmethod
    def id_of(cls, token):
        """Return the id of the login session of `token`, or None."""
        return db.session.scalar(select(cls.id).where(cls.token_hash == hash_token(token or "")))

    @classmethod
    def load_user(cls, token, max_age):
        """Return the user of a live session for `token`, or None; with the account's change
        number as it was then (`change_seq`: what its notes pages were made from)."""
        values = {"token_hash": hash_token(token), "since": utcnow() - max_age}
        found = db.session.execute(signed_in_user(), values).first()
        if found is None:
            return None
        user, change_seq = found
        user.session_token, user.change_seq = token, change_seq or 0
        return user


@cache
def signed_in_user():
    """Return the statement that loads the user of a live login session, with the account's
    change number (a column of it: an outer join added 2.5 times as much CPU). Built once:
    every signed-in request runs it, and building it each time cost more than the number."""
    change_seq = (
        select(ChangeCounter.last_seq).where(ChangeCounter.user_id == User.id).scalar_subquery()
    )
    return (
        select(User, change_seq)
        .join(LoginSession, LoginSession.user_id == User.id)
        .where(
            LoginSession.token_hash == bindparam("token_hash"),
            LoginSession.created_at > bindparam("since"),
        )
    )
