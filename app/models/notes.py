"""Notes, their earlier versions and their attachments."""

from datetime import datetime, timedelta

from sqlalchemy import (
    BigInteger,
    CheckConstraint,
    DateTime,
    ForeignKey,
    Identity,
    Index,
    Text,
    false,
    text,
)
from sqlalchemy.dialects.postgresql import ARRAY, JSONB, TSVECTOR
from sqlalchemy.orm import Mapped, mapped_column, relationship

from app import frontmatter
from app.extensions import db
from app.markdown import summary
from app.models.accounts import User
from app.models.base import (
    ATTACHMENT_KEY_MAX_LENGTH,
    ATTACHMENT_NAME_MAX_LENGTH,
    CONTENT_MAX_LENGTH,
    CONTENT_TYPE_MAX_LENGTH,
    TITLE_MAX_LENGTH,
    utcnow,
)
from app.models.grants import MadeBy, Pausable
from app.tags import note_tags

SET_ASIDE = "set_aside"  # a history entry's kind: the text a conflict set aside

# Notes of earlier releases were stamped twice as they were written, microseconds apart.
EDITED_AFTER = timedelta(milliseconds=1)


def new_note_tags(context):
    """Return a new note's tags, from the title and content it is inserted with."""
    values = context.get_current_parameters()
    return note_tags(values.get("title"), values.get("content"))


def new_note_summary(field):
    """Return a default that reads `field` of the Summary of the content a note is inserted
    with (app/markdown.py; the summary is read once for all of them)."""

    def default(context):
        return getattr(summary(context.get_current_parameters().get("content") or ""), field)

    return default


def written_at(context):
    """Return a new note's created_at: it has not been edited since it was written."""
    return context.get_current_parameters().get("created_at") or utcnow()


class Note(db.Model):
    """A note with a title and content, owned by one user."""

    __tablename__ = "note"
    __table_args__ = (
        Index("ix_note_user_id_created_at", "user_id", "created_at", "id"),
        # The list's order, pinned notes first (migration 0021).
        Index("ix_note_user_id_pinned_created_at", "user_id", "pinned", "created_at", "id"),
        # The list's default order, by last edit (migration 0023).
        Index("ix_note_user_id_pinned_updated_at", "user_id", "pinned", "updated_at", "id"),
        # The notes without a summary (the previous release's writes): the retag job's.
        Index("ix_note_unsummarised", "id", postgresql_where=text("preview IS NULL")),
        # The notes this release's rules have not read (migration 0024): the retag job's.
        Index(
            "ix_note_unread", "id", postgresql_where=text("read_version IS DISTINCT FROM version")
        ),
        # The notes whose tags are older than their text (the previous release's saves).
        Index(
            "ix_note_untagged",
            "id",
            postgresql_where=text("tagged_version IS DISTINCT FROM version"),
        ),
        # The change feed's order (migration 0030).
        Index("ix_note_user_id_seq", "user_id", "seq"),
        # The previous release's inserts, which the retag job stamps (migration 0030).
        Index("ix_note_unstamped", "id", postgresql_where=text("seq IS NULL")),
        # The notes whose stored HTML is older than their text: the retag job renders them.
        Index(
            "ix_note_unrendered",
            "id",
            postgresql_where=text("rendered_version IS DISTINCT FROM version"),
        ),
        # A `[[Title]]` link resolves by it, the most recently edited first (migration 0039).
        Index("ix_note_user_id_title_key", "user_id", "title_key", "updated_at"),
        # The notes whose title key and links were never read (written before 0039).
        Index("ix_note_unkeyed", "id", postgresql_where=text("title_key IS NULL")),
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
    # Moved by a save of the title or content only (pins, the archive and ticks leave it).
    updated_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=written_at)
    user_id: Mapped[int] = mapped_column(BigInteger, ForeignKey("user.id", ondelete="CASCADE"))
    completed: Mapped[bool] = mapped_column(default=False, server_default=false())
    # Written by a trigger from title and content (migration 0011), read only by search
    # (app/features/search/query.py): never loaded with a note.
    search_vector: Mapped[str | None] = mapped_column(TSVECTOR, deferred=True)
    # In the trash since then (out of the list, search and word counts); purged 30 days on.
    deleted_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    # Moved by each save of the title or content: a save based on an older one is refused.
    version: Mapped[int] = mapped_column(BigInteger, default=1, server_default=text("1"))
    # First in the list while pinned; out of the list and search while archived.
    pinned: Mapped[bool] = mapped_column(default=False, server_default=false())
    archived_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    # The `#word`s of the title and content (app/tags.py), read from `tagged_version`'s text:
    # every save of this release writes both; the worker retags the notes where they differ.
    tags: Mapped[list[str]] = mapped_column(
        ARRAY(Text), default=new_note_tags, server_default=text("'{}'")
    )
    tagged_version: Mapped[int | None] = mapped_column(BigInteger, default=1)
    # What the list shows of the content (app/markdown.py, summary()), written with it;
    # NULL for the previous release's writes, until the retag job reads them.
    preview: Mapped[str | None] = mapped_column(Text, default=new_note_summary("preview"))
    tasks_done: Mapped[int | None] = mapped_column(
        BigInteger, default=new_note_summary("tasks_done")
    )
    tasks_total: Mapped[int | None] = mapped_column(
        BigInteger, default=new_note_summary("tasks_total")
    )
    # The first open task items as [number, text] pairs, for the list to tick, read from
    # `read_version`'s text by this release's rules (tags too); the list trusts them only
    # while it is the note's version, and the retag job reads the notes where it is not.
    open_tasks: Mapped[list | None] = mapped_column(JSONB, default=new_note_summary("open_tasks"))
    read_version: Mapped[int | None] = mapped_column(BigInteger, default=1)

    # Moved by every change a reader could see (text, title, flags, the trash, tasks): the
    # API's ETag. `seq`: the account's change sequence at its last change (the feed's order).
    revision: Mapped[int] = mapped_column(BigInteger, default=1, server_default=text("1"))
    seq: Mapped[int | None] = mapped_column(BigInteger)
    # The content's sanitised HTML (app/markdown.py, render_stored()) as of `rendered_version`;
    # a page shows it while that is the note's version, and renders in memory otherwise.
    rendered: Mapped[str | None] = mapped_column(Text, deferred=True)
    rendered_version: Mapped[int | None] = mapped_column(BigInteger)
    # The title folded as `[[Title]]` links compare it (app/wikilinks.py), written with the
    # links (NoteLink) by the writer; NULL for notes written before 0039 until the retag job.
    title_key: Mapped[str | None] = mapped_column(Text)

    owner: Mapped[User] = relationship(back_populates="notes")

    @property
    def edited(self):
        """Return whether the text was saved again after the note was written."""
        return self.updated_at - self.created_at >= EDITED_AFTER

    def markdown(self):
        """Return the note as a Markdown file's text: its front matter (app/frontmatter.py),
        its title as a heading, then its content."""
        fields = {
            "id": self.id,
            "revision": self.revision,
            "title": self.title,
            "tags": list(self.tags or []),
            "pinned": self.pinned,
            "completed": self.completed,
            "archived": self.archived_at and self.archived_at.isoformat(),
            "trashed": self.deleted_at and self.deleted_at.isoformat(),
            "created": self.created_at.isoformat(),
            "updated": self.updated_at.isoformat(),
        }
        return f"{frontmatter.write(fields)}# {self.title}\n\n{self.content}\n"

    def export(self):
        """Return the note as JSON-ready data."""
        return {
            "id": self.id,
            "title": self.title,
            "content": self.content,
            "created_at": self.created_at.isoformat(),
            "updated_at": self.updated_at.isoformat(),
            "completed": self.completed,
            "pinned": self.pinned,
            "archived_at": self.archived_at and self.archived_at.isoformat(),
            "deleted_at": self.deleted_at and self.deleted_at.isoformat(),
        }


class NoteLink(db.Model):
    """A `[[…]]` link of a note, as its writer last read its text: to a note's id
    (`target_id`) or to the title `title_key` names, which the page resolves when it is read
    (app/features/notes/links.py); `position` its place among the note's links."""

    __tablename__ = "note_link"
    __table_args__ = (
        Index(
            "ix_note_link_user_id_title_key",
            "user_id",
            "title_key",
            postgresql_where=text("title_key IS NOT NULL"),
        ),
        Index(
            "ix_note_link_target_id", "target_id", postgresql_where=text("target_id IS NOT NULL")
        ),
        CheckConstraint("(target_id IS NULL) <> (title_key IS NULL)", name="one_target"),
    )

    from_note_id: Mapped[int] = mapped_column(
        BigInteger, ForeignKey("note.id", ondelete="CASCADE"), primary_key=True
    )
    position: Mapped[int] = mapped_column(BigInteger, primary_key=True)
    user_id: Mapped[int] = mapped_column(BigInteger, ForeignKey("user.id", ondelete="CASCADE"))
    target_id: Mapped[int | None] = mapped_column(BigInteger)
    title_key: Mapped[str | None] = mapped_column(Text)


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
    # None: the text a save replaced; SET_ASIDE: the text a conflict set aside, never the
    # note's (migration 0024).
    kind: Mapped[str | None] = mapped_column(Text)
    # Saves within the quiet time after this entry whose texts were not kept (None: none).
    dropped: Mapped[int | None] = mapped_column(BigInteger)

    @property
    def set_aside(self):
        """Return whether this is a text a conflict set aside rather than a saved one."""
        return self.kind == SET_ASIDE


class NoteShare(MadeBy, Pausable, db.Model):
    """A link that shows one note, read-only, to whoever has it: `/s/<token>`.

    Only the token's SHA-256 is kept (as for mailed links); the link works until it expires
    or is revoked, and while its note is neither in the trash nor archived. Each view counts
    toward the link's rate limit (`views_in_window` since `window_started_at`).
    """

    __tablename__ = "note_share"
    __table_args__ = (
        Index("ix_note_share_user_id", "user_id"),
        Index("ix_note_share_note_id", "note_id"),
    )

    id: Mapped[int] = mapped_column(BigInteger, Identity(), primary_key=True)
    note_id: Mapped[int] = mapped_column(BigInteger, ForeignKey("note.id", ondelete="CASCADE"))
    user_id: Mapped[int] = mapped_column(BigInteger, ForeignKey("user.id", ondelete="CASCADE"))
    token_hash: Mapped[str] = mapped_column(Text, unique=True)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)
    expires_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    revoked_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    window_started_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    views_in_window: Mapped[int] = mapped_column(BigInteger, default=0, server_default=text("0"))
    # Whether the session that made it had passed a second step (NULL: made before 0032, read
    # as the password alone); when a recovery paused it, until its owner keeps or revokes it.
    made_with_second_step: Mapped[bool | None] = mapped_column()
    paused_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))

    note: Mapped[Note] = relationship()


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
