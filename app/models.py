"""The data model: users, their notes, attachments and word counts, mailed links, throttles."""

import hashlib
import json
import secrets
import unicodedata
from contextlib import suppress
from datetime import UTC, datetime, timedelta
from functools import cache

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError
from flask import current_app
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
    delete,
    false,
    func,
    or_,
    select,
    text,
    update,
)
from sqlalchemy.dialects.postgresql import JSONB, TSVECTOR
from sqlalchemy.orm import Mapped, mapped_column, relationship, validates

from app.extensions import db
from app.i18n.stored import stored_message

# Limits on what users write, shared by the forms and the CHECK constraints. Revisions keep
# their own literal copies: a revision is frozen at the schema it made.
EMAIL_MAX_LENGTH = 254
NICKNAME_MIN_LENGTH, NICKNAME_MAX_LENGTH = 2, 30
TITLE_MAX_LENGTH = 200
CONTENT_MAX_LENGTH = 20_000
# The longest web address a word count takes and stores (what servers commonly accept).
URL_MAX_LENGTH = 2048
# An attachment's name as shown (longer ones are cut, keeping the extension), its key
# (Memo's own: a prefix, the user id and a random token) and its type.
ATTACHMENT_NAME_MAX_LENGTH = 255
ATTACHMENT_KEY_MAX_LENGTH = 200
CONTENT_TYPE_MAX_LENGTH = 255
# Rows an export reads at a time (a note is at most some 20 KB).
EXPORT_BATCH = 200
# The largest value of PostgreSQL's bigint: every id, and a byte count, fit under it.
BIGINT_MAX = 2**63 - 1


@cache
def hasher_for(time_cost, memory_cost, parallelism):
    """Return the argon2id hasher of these parameters (one per set, made once)."""
    return PasswordHasher(time_cost=time_cost, memory_cost=memory_cost, parallelism=parallelism)


def password_hasher():
    """Return the app's password hasher (config PASSWORD_HASHING)."""
    return hasher_for(**current_app.config["PASSWORD_HASHING"])


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
    # The language the user chose ("ko", "en"); None follows the browser's Accept-Language.
    language: Mapped[str | None] = mapped_column(Text)
    # An IANA time zone name; times are stored in UTC and shown in this zone (0015).
    time_zone: Mapped[str] = mapped_column(Text, default="UTC", server_default="UTC")
    # When a mailed link showed the address to be the person's; None until then. Every
    # insert names it (NULL), so the column's default, with which 0014 verified the accounts
    # made before mail existed, serves only the previous release while it still runs.
    email_verified_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))

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

    def export_json(self):
        """Yield everything this user owns as one JSON document, a few rows at a time.

        Rows are read from a server-side cursor in batches and written out as they come,
        so the memory it takes does not grow with the amount of data. Each kind of data a
        user owns adds its own list here, exported by its model.
        """
        header = {
            "exported_at": utcnow().isoformat(),
            "profile": {
                "email": self.email,
                "nickname": self.nickname,
                "image_url": self.image_url,
                "created_at": self.created_at.isoformat(),
                "language": self.language,
                "time_zone": self.time_zone,
            },
        }
        # Written as UTF-8 text (ensure_ascii=False): 회의록, not \ud68c\uc758\ub85d.
        yield json.dumps(header, ensure_ascii=False)[:-1]  # open for the lists
        lists = {
            "notes": select(Note).where(Note.user_id == self.id).order_by(Note.created_at, Note.id),
            "results": select(WordCount)
            .where(WordCount.user_id == self.id)
            .order_by(WordCount.created_at, WordCount.id),
            "attachments": select(Attachment)
            .where(Attachment.user_id == self.id, Attachment.state == "confirmed")
            .order_by(Attachment.created_at, Attachment.id),
        }
        for name, query in lists.items():
            yield f', "{name}": ['
            rows = db.session.scalars(query.execution_options(yield_per=EXPORT_BATCH))
            for number, row in enumerate(rows):
                yield ("," if number else "") + json.dumps(row.export(), ensure_ascii=False)
            yield "]"
        yield "}"

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
        """Delete the sessions older than `max_age`, which sign nobody in any more."""
        return db.session.execute(delete(cls).where(cls.created_at <= utcnow() - max_age)).rowcount

    @classmethod
    def load_user(cls, token, max_age):
        """Return the user of a live session for `token`, or None."""
        user = db.session.scalar(
            select(User)
            .join(LoginSession, LoginSession.user_id == User.id)
            .where(
                LoginSession.token_hash == hash_token(token),
                LoginSession.created_at > utcnow() - max_age,
            )
        )
        if user is not None:
            user.session_token = token
        return user


class Note(db.Model):
    """A note with a title and content, owned by one user."""

    __tablename__ = "note"
    __table_args__ = (
        Index("ix_note_user_id_created_at", "user_id", "created_at", "id"),
        # Search's index: each lexeme with the owner's id in front (migration 0011).
        Index(
            "ix_note_search_keys",
            text("note_search_keys(user_id, search_vector)"),
            postgresql_using="gin",
            postgresql_with={"fastupdate": "off"},
        ),
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
    # Written by a trigger from title and content (migration 0011), read only by search
    # (app/search/query.py): never loaded with a note.
    search_vector: Mapped[str | None] = mapped_column(TSVECTOR, deferred=True)
    # In the trash since then (out of the list, search and word counts); purged 30 days on.
    deleted_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    # Moved by each save of the title or content: a save based on an older one is refused.
    version: Mapped[int] = mapped_column(BigInteger, default=1, server_default=text("1"))

    owner: Mapped[User] = relationship(back_populates="notes")

    def markdown(self):
        """Return the note as a Markdown file's text: its title as a heading, then its content."""
        done = "\n\n(done)" if self.completed else ""
        return f"# {self.title}\n\n{self.content}{done}\n"

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


class NoteVersion(db.Model):
    """The title and content a save replaced: one entry of a note's history."""

    __tablename__ = "note_version"
    __table_args__ = (
        Index("ix_note_version_note_id_id", "note_id", "id"),
        Index("ix_note_version_created_at", "created_at"),
    )

    id: Mapped[int] = mapped_column(BigInteger, Identity(), primary_key=True)
    note_id: Mapped[int] = mapped_column(BigInteger, ForeignKey("note.id", ondelete="CASCADE"))
    title: Mapped[str] = mapped_column(Text)
    content: Mapped[str] = mapped_column(Text)
    saved_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))  # when it was current
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)


class Attachment(db.Model):
    """A file attached to a note: its bytes live in the object store under `key`.

    `pending` from the moment the page's script starts an upload (a POST) until it is
    confirmed (the plain form's uploads have no row until then); only a confirmed attachment
    has a name, a type and a size, and is listed.
    """

    __tablename__ = "attachment"
    __table_args__ = (
        Index("ix_attachment_note_id_created_at", "note_id", "created_at"),
        Index("ix_attachment_user_id_state", "user_id", "state"),
        # The sweep looks for pending uploads whose time ran out.
        Index(
            "ix_attachment_pending_expires_at",
            "expires_at",
            postgresql_where=text("state = 'pending'"),
        ),
        CheckConstraint("state IN ('pending', 'confirmed')", name="state"),
        CheckConstraint(f"char_length(key) <= {ATTACHMENT_KEY_MAX_LENGTH}", name="key_length"),
        CheckConstraint(f"char_length(name) <= {ATTACHMENT_NAME_MAX_LENGTH}", name="name_length"),
        CheckConstraint(
            f"char_length(content_type) <= {CONTENT_TYPE_MAX_LENGTH}", name="content_type_length"
        ),
        CheckConstraint("size >= 0", name="size_not_negative"),
        CheckConstraint(
            "state = 'pending' OR (name IS NOT NULL AND content_type IS NOT NULL"
            " AND size IS NOT NULL AND confirmed_at IS NOT NULL)",
            name="confirmed_complete",
        ),
    )

    id: Mapped[int] = mapped_column(BigInteger, Identity(), primary_key=True)
    user_id: Mapped[int] = mapped_column(BigInteger, ForeignKey("user.id", ondelete="CASCADE"))
    note_id: Mapped[int] = mapped_column(BigInteger, ForeignKey("note.id", ondelete="CASCADE"))
    key: Mapped[str] = mapped_column(Text, unique=True)
    state: Mapped[str] = mapped_column(Text, default="pending", server_default="pending")
    name: Mapped[str | None] = mapped_column(Text)
    content_type: Mapped[str | None] = mapped_column(Text)
    size: Mapped[int | None] = mapped_column(BigInteger)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)
    expires_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    confirmed_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))

    def export(self):
        """Return the attachment's metadata as JSON-ready data (the file stays in the store)."""
        return {
            "id": self.id,
            "note_id": self.note_id,
            "name": self.name,
            "content_type": self.content_type,
            "size": self.size,
            "created_at": self.confirmed_at.isoformat(),
        }


# Work done by a worker (app/jobs.py) is first queued, then running, then done or failed.
UNFINISHED = ("queued", "running")
STATUS_CHECK = "status IN ('queued', 'running', 'done', 'failed')"
ABANDONED = stored_message("Memo could not finish this in time. Please try again.")


class TooManyUnfinished(Exception):
    """A user already has as much unfinished work of one kind as is allowed."""


class WorkerOutcome:
    """A row that a worker finishes: its `status` says how far, its `error` why it failed."""

    @property
    def finished(self):
        """Return whether the worker is done with this row, one way or the other."""
        return self.status not in UNFINISHED

    @classmethod
    def fail_abandoned(cls, older_than):
        """Fail the rows unfinished for longer than `older_than` (their job was lost)."""
        return db.session.execute(
            update(cls)
            .where(cls.status.in_(UNFINISHED), cls.created_at < utcnow() - older_than)
            .values(status="failed", error=ABANDONED)
        ).rowcount


def lock_user(user_id):
    """Take the user's row lock until the transaction ends: their submissions queue up."""
    db.session.execute(select(User.id).where(User.id == user_id).with_for_update())


def no_words():
    """Return the counts of a page with no words, what an unfinished count holds."""
    return {"total": 0, "distinct": 0, "top": []}


class WordCount(WorkerOutcome, db.Model):
    """A word count of a web page (the `results` table of flask-by-example), owned by one user.

    The columns keep flask-by-example's names, and so does the export. Each count is
    `{"total": words, "distinct": different words, "top": [[word, n], ...]}`, keeping the top
    words only (see app/wordcount/counting.py), so a row stays a few kilobytes. A worker
    fetches and counts the page: the count is `queued`, `running`, then `done` or `failed`
    (with the reason in `error`).
    """

    __tablename__ = "results"
    __table_args__ = (
        Index("ix_results_user_id_created_at", "user_id", "created_at"),
        # text with a CHECK, not varchar(n): the cap can change without a table rewrite.
        CheckConstraint(f"char_length(url) <= {URL_MAX_LENGTH}", name="url_length"),
        CheckConstraint(STATUS_CHECK, name="status"),
        # One unfinished count per user and address: a second submission finds the first.
        Index(
            "uq_results_user_id_url_unfinished",
            "user_id",
            "url",
            unique=True,
            postgresql_where=text("status IN ('queued', 'running')"),
        ),
    )

    id: Mapped[int] = mapped_column(BigInteger, Identity(), primary_key=True)
    url: Mapped[str] = mapped_column(Text)
    # An unfinished or failed count holds empty counts, never NULL: the previous release,
    # which knows no status, shows such a row as a count of nothing instead of failing.
    all_words: Mapped[dict] = mapped_column("result_all", JSONB, default=no_words)
    without_stop_words: Mapped[dict] = mapped_column(
        "result_no_stop_words", JSONB, default=no_words
    )
    user_id: Mapped[int] = mapped_column(BigInteger, ForeignKey("user.id", ondelete="CASCADE"))
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)
    # A count made with its counts is done (so were the previous release's); queue() makes
    # the ones a worker is to fetch.
    status: Mapped[str] = mapped_column(Text, default="done", server_default="done")
    error: Mapped[str | None] = mapped_column(Text)

    owner: Mapped[User] = relationship(back_populates="word_counts")

    @classmethod
    def queue(cls, user_id, url, limit):
        """Return (count, True) for a new queued count of `url`, or (the unfinished one, False).

        Raises TooManyUnfinished when the user already has `limit` unfinished counts.
        """
        lock_user(user_id)
        unfinished = db.session.scalars(
            select(cls).where(cls.user_id == user_id, cls.status.in_(UNFINISHED))
        ).all()
        for word_count in unfinished:
            if word_count.url == url:
                return word_count, False
        if len(unfinished) >= limit:
            raise TooManyUnfinished
        word_count = cls(url=url, user_id=user_id, status="queued")
        db.session.add(word_count)
        db.session.flush()
        return word_count, True

    def finish(self, all_words, without_stop_words):
        """Record the counts: done."""
        self.status, self.error = "done", None
        self.all_words, self.without_stop_words = all_words, without_stop_words

    def fail(self, reason):
        """Record why the page could not be counted: failed."""
        self.status, self.error = "failed", reason

    def export(self):
        """Return the word count as JSON-ready data."""
        return {
            "id": self.id,
            "url": self.url,
            "status": self.status,
            "error": self.error,
            "created_at": self.created_at.isoformat(),
            "result_all": self.all_words if self.status == "done" else None,
            "result_no_stop_words": self.without_stop_words if self.status == "done" else None,
        }


class PhotoUpload(WorkerOutcome, db.Model):
    """An uploaded profile photo, kept as sent under a private key until a worker processes it.

    The worker decodes it under limits, stores the WebP and swaps the user's photo (`done`),
    or refuses it with the reason (`failed`); either way the upload itself is deleted.
    """

    __tablename__ = "photo_upload"
    __table_args__ = (CheckConstraint(STATUS_CHECK, name="status"),)

    id: Mapped[int] = mapped_column(BigInteger, Identity(), primary_key=True)
    user_id: Mapped[int] = mapped_column(
        BigInteger, ForeignKey("user.id", ondelete="CASCADE"), index=True
    )
    upload_key: Mapped[str] = mapped_column(Text)
    status: Mapped[str] = mapped_column(Text, default="queued")
    error: Mapped[str | None] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)

    owner: Mapped[User] = relationship(back_populates="photo_uploads")

    @classmethod
    def queue(cls, user_id, upload_key, limit):
        """Add a queued upload of the user's; raise TooManyUnfinished past `limit` unfinished."""
        lock_user(user_id)
        unfinished = db.session.scalar(
            select(func.count())
            .select_from(cls)
            .where(cls.user_id == user_id, cls.status.in_(UNFINISHED))
        )
        if unfinished >= limit:
            raise TooManyUnfinished
        upload = cls(user_id=user_id, upload_key=upload_key, status="queued")
        db.session.add(upload)
        db.session.flush()
        return upload

    @classmethod
    def latest(cls, user_id):
        """Return the user's most recent upload, or None."""
        return db.session.scalar(
            select(cls).where(cls.user_id == user_id).order_by(cls.id.desc()).limit(1)
        )

    def is_newest_done(self):
        """Return whether no later upload of this user's has already become the photo."""
        newer = select(PhotoUpload.id).where(
            PhotoUpload.user_id == self.user_id,
            PhotoUpload.id > self.id,
            PhotoUpload.status == "done",
        )
        return db.session.scalar(newer.limit(1)) is None


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


class AccountImport(WorkerOutcome, db.Model):
    """An import into an account: a worker reads an uploaded archive (or text file) into notes.

    `queued`, `running`, then `done` (`notes_added`, `attachments_added`) or `failed` (`error`
    says why, and nothing was added). The upload waits under `key` until the job is done. A
    partial unique index keeps one import in flight per user.
    """

    __tablename__ = "account_import"
    __table_args__ = (
        Index("ix_account_import_user_id_id", "user_id", "id"),
        Index(
            "uq_account_import_user_id_unfinished",
            "user_id",
            unique=True,
            postgresql_where=text("status IN ('queued', 'running')"),
        ),
        CheckConstraint(STATUS_CHECK, name="status"),
        CheckConstraint("char_length(key) <= 200", name="key_length"),
        CheckConstraint("char_length(name) <= 255", name="name_length"),
    )

    id: Mapped[int] = mapped_column(BigInteger, Identity(), primary_key=True)
    user_id: Mapped[int] = mapped_column(BigInteger, ForeignKey("user.id", ondelete="CASCADE"))
    status: Mapped[str] = mapped_column(Text, default="queued", server_default="queued")
    key: Mapped[str] = mapped_column(Text)
    name: Mapped[str] = mapped_column(Text)
    notes_added: Mapped[int | None] = mapped_column(BigInteger)
    attachments_added: Mapped[int | None] = mapped_column(BigInteger)
    error: Mapped[str | None] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)
    finished_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))

    @classmethod
    def start(cls, user_id, key, name):
        """Return a new queued import, or None when one is in flight already."""
        lock_user(user_id)
        unfinished = db.session.scalar(
            select(cls.id).where(cls.user_id == user_id, cls.status.in_(UNFINISHED))
        )
        if unfinished is not None:
            return None
        started = cls(user_id=user_id, key=key, name=name, status="queued")
        db.session.add(started)
        db.session.flush()
        return started

    @classmethod
    def latest(cls, user_id):
        """Return the user's most recent import, or None."""
        query = select(cls).where(cls.user_id == user_id).order_by(cls.id.desc()).limit(1)
        return db.session.scalar(query)

    def finish(self, notes, attachments):
        self.status, self.finished_at = "done", utcnow()
        self.notes_added, self.attachments_added = notes, attachments

    def fail(self, error):
        self.status, self.finished_at, self.error = "failed", utcnow(), error


class AccountExport(WorkerOutcome, db.Model):
    """A request to export an account: a worker writes one archive of it to the object store.

    `queued`, `running`, then `done` (the archive is under `key`, `size` bytes) or `failed`
    (`error` says why). A partial unique index keeps one export in flight per user.
    """

    __tablename__ = "account_export"
    __table_args__ = (
        Index("ix_account_export_user_id_id", "user_id", "id"),
        Index(
            "uq_account_export_user_id_unfinished",
            "user_id",
            unique=True,
            postgresql_where=text("status IN ('queued', 'running')"),
        ),
        Index("ix_account_export_finished_at", "finished_at"),
        CheckConstraint(STATUS_CHECK, name="status"),
        CheckConstraint("char_length(key) <= 200", name="key_length"),
        CheckConstraint(
            "status <> 'done' OR (key IS NOT NULL AND size IS NOT NULL)", name="done_complete"
        ),
    )

    id: Mapped[int] = mapped_column(BigInteger, Identity(), primary_key=True)
    user_id: Mapped[int] = mapped_column(BigInteger, ForeignKey("user.id", ondelete="CASCADE"))
    status: Mapped[str] = mapped_column(Text, default="queued", server_default="queued")
    key: Mapped[str | None] = mapped_column(Text)
    size: Mapped[int | None] = mapped_column(BigInteger)
    error: Mapped[str | None] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)
    finished_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))

    @classmethod
    def start(cls, user_id):
        """Return (a new queued export, True), or (the export already in flight, False)."""
        lock_user(user_id)  # two requests at once: the second waits, then finds the first
        unfinished = db.session.scalar(
            select(cls).where(cls.user_id == user_id, cls.status.in_(UNFINISHED))
        )
        if unfinished is not None:
            return unfinished, False
        export = cls(user_id=user_id, status="queued")
        db.session.add(export)
        db.session.flush()
        return export, True

    @classmethod
    def latest(cls, user_id, status=None):
        """Return the user's most recent export (with this status, if given), or None."""
        query = select(cls).where(cls.user_id == user_id)
        if status is not None:
            query = query.where(cls.status == status)
        return db.session.scalar(query.order_by(cls.id.desc()).limit(1))

    @classmethod
    def earlier_than(cls, export):
        """Return the user's finished exports older than `export`."""
        query = select(cls).where(
            cls.user_id == export.user_id, cls.id < export.id, cls.status.in_(("done", "failed"))
        )
        return db.session.scalars(query).all()

    @classmethod
    def finished_before(cls, cutoff):
        """Return the finished exports older than `cutoff`, whose archives may go."""
        return db.session.scalars(
            select(cls)
            .where(
                cls.status.not_in(UNFINISHED),
                func.coalesce(cls.finished_at, cls.created_at) < cutoff,
            )
            .order_by(cls.id)
            .limit(1000)
        ).all()

    def begin(self):
        """Mark the export as being written."""
        self.status = "running"

    def finish(self, key, size):
        """Record the archive written under `key`: done."""
        self.status, self.key, self.size, self.error = "done", key, size, None
        self.finished_at = utcnow()

    def fail(self, reason):
        """Record why no archive could be written: failed."""
        self.status, self.error, self.finished_at = "failed", reason, utcnow()


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
