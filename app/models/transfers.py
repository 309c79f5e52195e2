"""An account's data going out (exports) and coming in (imports)."""

import json
from datetime import datetime, timedelta

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
)
from sqlalchemy.orm import Mapped, mapped_column

from app.extensions import db
from app.models.base import EXPORT_BATCH, utcnow
from app.models.notes import Attachment, Note
from app.models.work import STATUS_CHECK, UNFINISHED, WordCount, WorkerOutcome, lock_user

IMPORT_NEWS = timedelta(hours=1)  # an import this recent is news at the top of my page


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

    @property
    def news(self):
        """Return whether my page says how it goes at its top, where the import's own
        message is: while under way, and for an hour after."""
        if self.status in UNFINISHED:
            return True
        return self.finished_at is not None and utcnow() - self.finished_at < IMPORT_NEWS

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


def account_json(user):
    """Yield everything `user` owns as one JSON document, a few rows at a time.

    Rows are read from a server-side cursor in batches and written out as they come,
    so the memory it takes does not grow with the amount of data. Each kind of data a
    user owns adds its own list here, exported by its model.
    """
    header = {
        "exported_at": utcnow().isoformat(),
        "profile": {
            "email": user.email,
            "nickname": user.nickname,
            "image_url": user.image_url,
            "created_at": user.created_at.isoformat(),
            "language": user.language,
            "time_zone": user.time_zone,
        },
    }
    # Written as UTF-8 text (ensure_ascii=False): 회의록, not \ud68c\uc758\ub85d.
    yield json.dumps(header, ensure_ascii=False)[:-1]  # open for the lists
    lists = {
        "notes": select(Note).where(Note.user_id == user.id).order_by(Note.created_at, Note.id),
        "results": select(WordCount)
        .where(WordCount.user_id == user.id)
        .order_by(WordCount.created_at, WordCount.id),
        "attachments": select(Attachment)
        .where(Attachment.user_id == user.id, Attachment.state == "confirmed")
        .order_by(Attachment.created_at, Attachment.id),
    }
    for name, query in lists.items():
        yield f', "{name}": ['
        rows = db.session.scalars(query.execution_options(yield_per=EXPORT_BATCH))
        for number, row in enumerate(rows):
            yield ("," if number else "") + json.dumps(row.export(), ensure_ascii=False)
        yield "]"
    yield "}"
