"""The data model: users, their notes and word counts, and the login throttle."""

import hashlib
import secrets
import unicodedata
from contextlib import suppress
from datetime import UTC, datetime
from functools import cache

from argon2 import PasswordHasher
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
    false,
    func,
    or_,
    select,
)
from sqlalchemy.dialects.postgresql import JSONB
from sqlalchemy.orm import Mapped, joinedload, mapped_column, relationship, validates

from app.extensions import db

# Limits on what users write, shared by the forms and the CHECK constraints. Revisions keep
# their own literal copies: a revision is frozen at the schema it made.
EMAIL_MAX_LENGTH = 254
NICKNAME_MIN_LENGTH, NICKNAME_MAX_LENGTH = 2, 30
TITLE_MAX_LENGTH = 200
CONTENT_MAX_LENGTH = 20_000
# The longest web address a word count takes and stores (what servers commonly accept).
URL_MAX_LENGTH = 2048

# argon2id at OWASP's minimum (19 MiB, 2 passes, 1 lane): about 25 ms a hash here.
password_hasher = PasswordHasher(time_cost=2, memory_cost=19456, parallelism=1)


def comparison_key(text):
    """Return the form in which two emails (or nicknames) are the same: NFKC, case-folded.

    The one way they are compared, in Python only: PostgreSQL's lower() and str.lower()
    disagree on some letters (Turkish İ, Greek final sigma, ...). casefold() also makes
    ß "ss" and Cherokee small letters capitals; NFKC makes full-width letters plain ones.
    """
    return unicodedata.normalize("NFKC", unicodedata.normalize("NFKC", text).casefold())


def utcnow():
    """Return the current time, timezone-aware, for column defaults."""
    return datetime.now(UTC)


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

    notes: Mapped[list["Note"]] = relationship(
        back_populates="owner", cascade="all, delete-orphan", passive_deletes=True
    )
    login_sessions: Mapped[list["LoginSession"]] = relationship(
        back_populates="user", cascade="all, delete-orphan", passive_deletes=True
    )
    word_counts: Mapped[list["WordCount"]] = relationship(
        back_populates="owner", cascade="all, delete-orphan", passive_deletes=True
    )

    # The token of the login session this object was loaded through (not a column).
    session_token = None

    def get_id(self):
        """Identify the login session, not the user, so it can be revoked on its own."""
        return self.session_token

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
        """Revoke every login session of this user but the current one."""
        db.session.execute(
            delete(LoginSession).where(
                LoginSession.user_id == self.id,
                LoginSession.token_hash != hash_token(self.session_token or ""),
            )
        )

    def set_password(self, password):
        """Store an argon2id hash of `password`."""
        self.password_hash = password_hasher.hash(password)

    def check_password(self, password):
        """Return whether `password` matches, rehashing if the parameters changed."""
        try:
            password_hasher.verify(self.password_hash, password)
        except (VerificationError, InvalidHashError):
            return False
        if password_hasher.check_needs_rehash(self.password_hash):
            self.set_password(password)
        return True

    def export(self):
        """Return everything this user owns as JSON-ready data.

        Each kind of data a user owns adds its own list here, exported by its model.
        """
        notes = db.session.scalars(
            select(Note).where(Note.user_id == self.id).order_by(Note.created_at, Note.id)
        )
        word_counts = db.session.scalars(
            select(WordCount)
            .where(WordCount.user_id == self.id)
            .order_by(WordCount.created_at, WordCount.id)
        )
        return {
            "exported_at": utcnow().isoformat(),
            "profile": {
                "email": self.email,
                "nickname": self.nickname,
                "image_url": self.image_url,
                "created_at": self.created_at.isoformat(),
            },
            "notes": [note.export() for note in notes],
            "results": [word_count.export() for word_count in word_counts],
        }

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
def dummy_hash():
    """Return a hash to verify against when no account matches (made once, on first use)."""
    return password_hasher.hash("memo-no-such-user")


def burn_password_check(password):
    """Spend the time of a real check, so unknown emails can't be told apart by timing."""
    with suppress(VerificationError):
        password_hasher.verify(dummy_hash(), password)


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
    def load_user(cls, token, max_age):
        """Return the user of a live session for `token`, or None."""
        login_session = db.session.scalar(
            live_session_query(), {"token_hash": hash_token(token), "since": utcnow() - max_age}
        )
        if login_session is None:
            return None
        login_session.user.session_token = token
        return login_session.user


@cache
def live_session_query():
    """Return the query for a live login session and its user, built once per process.

    Every signed-in request runs it. Built once with bound parameters, it keeps its
    cache key, so SQLAlchemy does not build and key a new statement each time
    (about 0.15 ms of CPU a request, measured with bench/web.py's profile).
    """
    return (
        select(LoginSession)
        .options(joinedload(LoginSession.user))
        .where(
            LoginSession.token_hash == bindparam("token_hash"),
            LoginSession.created_at > bindparam("since"),
        )
    )


class Note(db.Model):
    """A note with a title and content, owned by one user."""

    __tablename__ = "note"
    __table_args__ = (
        Index("ix_note_user_id_created_at", "user_id", "created_at", "id"),
        CheckConstraint(
            f"char_length(title) BETWEEN 1 AND {TITLE_MAX_LENGTH}", name="title_length"
        ),
        CheckConstraint(f"char_length(content) <= {CONTENT_MAX_LENGTH}", name="content_length"),
    )

    id: Mapped[int] = mapped_column(BigInteger, Identity(), primary_key=True)
    title: Mapped[str] = mapped_column(Text)
    content: Mapped[str] = mapped_column(Text, default="")
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(
        DateTime(timezone=True), default=utcnow, onupdate=utcnow
    )
    user_id: Mapped[int] = mapped_column(BigInteger, ForeignKey("user.id", ondelete="CASCADE"))
    completed: Mapped[bool] = mapped_column(default=False, server_default=false())

    owner: Mapped[User] = relationship(back_populates="notes")

    def export(self):
        """Return the note as JSON-ready data."""
        return {
            "id": self.id,
            "title": self.title,
            "content": self.content,
            "created_at": self.created_at.isoformat(),
            "updated_at": self.updated_at.isoformat(),
            "completed": self.completed,
        }


class WordCount(db.Model):
    """A word count of a web page (the `results` table of flask-by-example), owned by one user.

    The columns keep flask-by-example's names, and so does the export. Each count is
    `{"total": words, "distinct": different words, "top": [[word, n], ...]}`, keeping the top
    words only (see app/wordcount/counting.py), so a row stays a few kilobytes.
    """

    __tablename__ = "results"
    __table_args__ = (
        Index("ix_results_user_id_created_at", "user_id", "created_at"),
        # text with a CHECK, not varchar(n): the cap can change without a table rewrite.
        CheckConstraint(f"char_length(url) <= {URL_MAX_LENGTH}", name="url_length"),
    )

    id: Mapped[int] = mapped_column(BigInteger, Identity(), primary_key=True)
    url: Mapped[str] = mapped_column(Text)
    all_words: Mapped[dict] = mapped_column("result_all", JSONB)
    without_stop_words: Mapped[dict] = mapped_column("result_no_stop_words", JSONB)
    user_id: Mapped[int] = mapped_column(BigInteger, ForeignKey("user.id", ondelete="CASCADE"))
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)

    owner: Mapped[User] = relationship(back_populates="word_counts")

    def export(self):
        """Return the word count as JSON-ready data."""
        return {
            "id": self.id,
            "url": self.url,
            "created_at": self.created_at.isoformat(),
            "result_all": self.all_words,
            "result_no_stop_words": self.without_stop_words,
        }


class LoginThrottle(db.Model):
    """Attempts within the current throttle window: password checks of one email or from
    one client, and signups from one client or in total (scope `signup-client`, `signup`).

    An attempt counts as failed from the moment it starts until it succeeds, so parallel
    guesses cannot slip past the limit (see app/auth/throttle.py).
    """

    __tablename__ = "login_throttle"
    __table_args__ = (
        CheckConstraint(
            "scope IN ('email', 'client', 'signup-client', 'signup')", name="scope_with_signups"
        ),
        # Pruning looks for windows that ended.
        Index("ix_login_throttle_window_started_at", "window_started_at"),
    )

    scope: Mapped[str] = mapped_column(Text, primary_key=True)
    subject: Mapped[str] = mapped_column(Text, primary_key=True)
    failures: Mapped[int] = mapped_column(BigInteger)
    window_started_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
