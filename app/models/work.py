"""Work a worker finishes (queued, running, done or failed): word counts and photos."""

from datetime import datetime

from sqlalchemy import (
    BigInteger,
    CheckConstraint,
    DateTime,
    ForeignKey,
    Identity,
    Index,
    Text,
    func,
    select,
    text,
    update,
)
from sqlalchemy.dialects.postgresql import JSONB
from sqlalchemy.orm import Mapped, mapped_column, relationship

from app.extensions import db
from app.i18n.stored import stored_message
from app.models.accounts import User
from app.models.base import URL_MAX_LENGTH, utcnow

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
    words only (see app/features/wordcount/counting.py), so a row stays a few kilobytes. A worker
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
    def check_room(cls, user_id, limit):
        """Raise TooManyUnfinished if the user has `limit` unfinished uploads."""
        unfinished = db.session.scalar(
            select(func.count())
            .select_from(cls)
            .where(cls.user_id == user_id, cls.status.in_(UNFINISHED))
        )
        if unfinished >= limit:
            raise TooManyUnfinished

    @classmethod
    def queue(cls, user_id, upload_key, limit):
        """Add a queued upload of the user's; raise TooManyUnfinished past `limit` unfinished."""
        lock_user(user_id)  # counted and added one at a time
        cls.check_room(user_id, limit)
        upload = cls(user_id=user_id, upload_key=upload_key, status="queued")
        db.session.add(upload)
        db.session.flush()
        return upload

    @classmethod
    def of_key(cls, user_id, upload_key):
        """Return the user's upload of `upload_key`, or None."""
        return db.session.scalar(
            select(cls).where(cls.user_id == user_id, cls.upload_key == upload_key).limit(1)
        )

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


class NoteRename(db.Model):
    """A rename across an account's notes that runs in the worker (a tag renamed or merged,
    or the `[[Old title]]` links moved to a note's new title): `queued`, `running`, then
    `done` (`notes_changed` notes each a new version) or `failed` (`error` says why, and no
    note changed). One in flight per account (a partial unique index)."""

    __tablename__ = "note_rename"
    __table_args__ = (
        Index("ix_note_rename_user_id_id", "user_id", "id"),
        Index(
            "uq_note_rename_user_id_unfinished",
            "user_id",
            unique=True,
            postgresql_where=text("status IN ('queued', 'running')"),
        ),
        CheckConstraint(STATUS_CHECK, name="status"),
        CheckConstraint("kind IN ('tag', 'title')", name="kind"),
    )

    id: Mapped[int] = mapped_column(BigInteger, Identity(), primary_key=True)
    user_id: Mapped[int] = mapped_column(BigInteger, ForeignKey("user.id", ondelete="CASCADE"))
    kind: Mapped[str] = mapped_column(Text)
    from_name: Mapped[str] = mapped_column(Text)
    to_name: Mapped[str] = mapped_column(Text)
    status: Mapped[str] = mapped_column(Text, default="queued", server_default="queued")
    notes_changed: Mapped[int | None] = mapped_column(BigInteger)
    error: Mapped[str | None] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)
    finished_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))

    @classmethod
    def latest(cls, user_id):
        """Return the account's most recent rename that ran in the worker, or None."""
        return db.session.scalar(
            select(cls).where(cls.user_id == user_id).order_by(cls.id.desc()).limit(1)
        )
