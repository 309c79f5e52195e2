"""The API's bodies and queries as marshmallow schemas: they validate what comes in and are
what the OpenAPI document says. An unknown field is refused (422), so no column a client
was not meant to set can be reached (mass assignment)."""

import marshmallow as ma
from flask_babel import gettext
from marshmallow import fields, validate

from app.features.notes.changes import FEED_LIMIT_MAX
from app.features.notes.schedule import REPEATS
from app.models import (
    BIGINT_MAX,
    CONTENT_MAX_LENGTH,
    TITLE_MAX_LENGTH,
    WEBHOOK_EVENTS,
    WEBHOOK_URL_MAX_LENGTH,
)
from app.tags import TAG_MAX_LENGTH, TAGS_PER_FILTER
from app.validators import NOT_TEXT

LIMIT = {"validate": validate.Range(1, 100), "load_default": 20}
CURSOR_MAX_LENGTH = 500
# A cursor is itsdangerous' URL-safe output: base64url and dots.
CURSOR = [validate.Length(1, CURSOR_MAX_LENGTH), validate.Regexp(r"^[A-Za-z0-9_.\-]+$")]


def printable(value):
    """Refuse NUL and whatever else is never text, as the note form does."""
    if NOT_TEXT.search(value):
        raise ma.ValidationError(gettext("Remove control characters from this field."))


def title_field(**options):
    """A note's title: 1 to TITLE_MAX_LENGTH characters, not blank."""
    return fields.String(
        validate=[validate.Length(1, TITLE_MAX_LENGTH), printable, not_blank], **options
    )


def not_blank(value):
    """Refuse a title of spaces only."""
    if not value.strip():
        raise ma.ValidationError(gettext("Give the note a title."))


def content_field(**options):
    """A note's content: at most CONTENT_MAX_LENGTH characters."""
    return fields.String(validate=[validate.Length(max=CONTENT_MAX_LENGTH), printable], **options)


class Strict(ma.Schema):
    """A body or query with no field but those named (marshmallow refuses unknown ones)."""

    class Meta:
        unknown = ma.RAISE


class NoteCreate(Strict):
    title = title_field(required=True)
    content = content_field(load_default="")
    completed = fields.Boolean(load_default=False)
    pinned = fields.Boolean(load_default=False)


class ReminderIn(Strict):
    at = fields.DateTime(
        required=True,
        format="iso",
        metadata={
            "description": "RFC 3339 with an offset (that instant), or without one (the "
            "account's own clock); to the minute"
        },
    )
    repeat = fields.String(required=True, validate=validate.OneOf(REPEATS))
    private = fields.Boolean(
        load_default=False, metadata={"description": "the mail leaves the note's title out"}
    )


class NoteChange(Strict):
    title = title_field()
    content = content_field()
    completed = fields.Boolean()
    pinned = fields.Boolean()
    archived = fields.Boolean()
    reminder = fields.Nested(ReminderIn, allow_none=True)


class ReminderOut(ma.Schema):
    at = fields.DateTime(required=True, metadata={"description": "the start, on its zone's clock"})
    repeat = fields.String(required=True, validate=validate.OneOf(REPEATS))
    next_at = fields.DateTime(
        required=True, allow_none=True, metadata={"description": "null: it fires no more"}
    )
    private = fields.Boolean(required=True)


class TaskTick(Strict):
    done = fields.Boolean(required=True)


class Tasks(ma.Schema):
    done = fields.Integer(required=True)
    total = fields.Integer(required=True)


class NoteOut(ma.Schema):
    id = fields.Integer(required=True)
    title = fields.String(required=True)
    content = fields.String(required=True)
    completed = fields.Boolean(required=True)
    pinned = fields.Boolean(required=True)
    archived = fields.Boolean(required=True)
    archived_at = fields.DateTime(required=True, allow_none=True)
    trashed = fields.Boolean(required=True)
    tags = fields.List(fields.String(), required=True)
    links = fields.List(
        fields.Integer(),
        required=True,
        metadata={"description": "the ids of the account's notes its `[[…]]` links name now"},
    )
    tasks = fields.Nested(Tasks, required=True)
    created_at = fields.DateTime(required=True)
    updated_at = fields.DateTime(required=True)
    version = fields.Integer(required=True, metadata={"description": "the text's version"})
    revision = fields.Integer(
        required=True, metadata={"description": "moves on every change; the ETag"}
    )
    reminder = fields.Nested(ReminderOut, required=True, allow_none=True)


class NotesQuery(Strict):
    limit = fields.Integer(**LIMIT)
    cursor = fields.String(validate=CURSOR)
    tag = fields.List(
        fields.String(validate=[validate.Length(1, TAG_MAX_LENGTH + 1), printable]),
        validate=validate.Length(max=TAGS_PER_FILTER),
        metadata={"description": "notes with every tag named (`?tag=a&tag=b`)"},
    )
    pinned = fields.Boolean()
    archived = fields.Boolean(load_default=False)
    trashed = fields.Boolean(load_default=False)
    sort = fields.String(
        validate=validate.OneOf(["updated", "edited", "created"]),
        load_default="updated",
        metadata={"description": "`updated` and `edited` name one order: last edited first"},
    )


class NoteList(ma.Schema):
    items = fields.List(fields.Nested(NoteOut), required=True)
    next_cursor = fields.String(required=True, allow_none=True)


class SearchQuery(Strict):
    q = fields.String(required=True, validate=[validate.Length(1, 200), printable])
    limit = fields.Integer(**LIMIT)
    cursor = fields.String(validate=CURSOR)


class SearchHit(NoteOut):
    snippet = fields.String(required=True)


class SearchList(ma.Schema):
    items = fields.List(fields.Nested(SearchHit), required=True)
    next_cursor = fields.String(required=True, allow_none=True)


class Me(ma.Schema):
    id = fields.Integer(required=True)
    email = fields.String(required=True)
    nickname = fields.String(required=True)
    language = fields.String(required=True, allow_none=True)
    timezone = fields.String(required=True)
    image_url = fields.String(required=True)


class HistoryEntry(ma.Schema):
    id = fields.Integer(required=True)
    saved_at = fields.DateTime(required=True)
    title = fields.String(required=True)
    content = fields.String(required=True)
    kind = fields.String(required=True, validate=validate.OneOf(["save", "set_aside"]))


class History(ma.Schema):
    items = fields.List(fields.Nested(HistoryEntry), required=True)


class LinkingNote(ma.Schema):
    id = fields.Integer(required=True)
    title = fields.String(required=True)


class Backlinks(ma.Schema):
    items = fields.List(fields.Nested(LinkingNote), required=True)
    next_cursor = fields.String(required=True, allow_none=True)


class BacklinksQuery(Strict):
    cursor = fields.String(validate=CURSOR)


class TagRename(Strict):
    name = fields.String(
        required=True,
        validate=[validate.Length(1, TAG_MAX_LENGTH + 1), printable],
        metadata={"description": "the tag's new name; a tag the account has already: merged"},
    )


class TagRenamed(ma.Schema):
    name = fields.String(required=True)
    notes_changed = fields.Integer(
        required=True, allow_none=True, metadata={"description": "null while the worker renames"}
    )
    status_url = fields.String(metadata={"description": "where the worker's rename is followed"})


class RenameState(ma.Schema):
    id = fields.Integer(required=True)
    status = fields.String(
        required=True, validate=validate.OneOf(["queued", "running", "done", "failed"])
    )
    kind = fields.String(required=True, validate=validate.OneOf(["tag", "title"]))
    old = fields.String(required=True)
    new = fields.String(required=True)
    notes_changed = fields.Integer(required=True, allow_none=True)
    error = fields.String(required=True, allow_none=True)


class TagCount(ma.Schema):
    name = fields.String(required=True)
    count = fields.Integer(required=True)


class Tags(ma.Schema):
    items = fields.List(fields.Nested(TagCount), required=True)


class AttachmentStart(Strict):
    name = fields.String(required=True, validate=[validate.Length(1, 255), printable])
    size = fields.Integer(required=True, validate=validate.Range(0, 2**53))
    content_type = fields.String(validate=[validate.Length(max=255), printable], load_default="")


class AttachmentOut(ma.Schema):
    id = fields.Integer(required=True)
    note_id = fields.Integer(required=True)
    name = fields.String(required=True, allow_none=True)
    size = fields.Integer(required=True, allow_none=True)
    content_type = fields.String(required=True, allow_none=True)
    state = fields.String(required=True)
    created_at = fields.DateTime(required=True)
    download_url = fields.String(allow_none=True)


class AttachmentList(ma.Schema):
    items = fields.List(fields.Nested(AttachmentOut), required=True)


class Upload(ma.Schema):
    id = fields.Integer(required=True)
    url = fields.String(required=True)
    fields_ = fields.Dict(
        keys=fields.String(), values=fields.String(), required=True, data_key="fields"
    )
    expires_at = fields.DateTime(required=True)


class ExportState(ma.Schema):
    id = fields.Integer(required=True, allow_none=True)
    state = fields.String(required=True)
    created_at = fields.DateTime(required=True, allow_none=True)
    download_url = fields.String(required=True, allow_none=True)


class ChangesQuery(Strict):
    since = fields.Integer(
        validate=validate.Range(0, BIGINT_MAX),
        load_default=0,
        metadata={"description": "the `next_since` of the last page read; 0: from the start"},
    )
    limit = fields.Integer(validate=validate.Range(1, FEED_LIMIT_MAX), load_default=100)


class Deleted(ma.Schema):
    id = fields.Integer(required=True)
    deleted_at = fields.DateTime(required=True)


class Change(ma.Schema):
    seq = fields.Integer(required=True)
    note = fields.Nested(NoteOut, metadata={"description": "the note as it is now"})
    deleted = fields.Nested(Deleted, metadata={"description": "a note deleted for good"})


class Changes(ma.Schema):
    items = fields.List(fields.Nested(Change), required=True)
    next_since = fields.Integer(required=True)


class WebhookCreate(Strict):
    url = fields.String(
        required=True,
        validate=validate.Length(1, WEBHOOK_URL_MAX_LENGTH),
        metadata={"description": "https://... (a public address; http only in development)"},
    )
    events = fields.List(
        fields.String(validate=validate.OneOf(WEBHOOK_EVENTS)),
        required=True,
        validate=validate.Length(1, len(WEBHOOK_EVENTS)),
    )
    tag = fields.String(
        load_default=None,
        allow_none=True,
        validate=validate.Length(max=TAG_MAX_LENGTH + 1),
        metadata={"description": "only notes with this tag (deletions always)"},
    )


class WebhookOut(ma.Schema):
    id = fields.Integer(required=True)
    url = fields.String(required=True)
    events = fields.List(fields.String(), required=True)
    tag = fields.String(required=True, allow_none=True)
    state = fields.String(
        required=True,
        metadata={"description": "`on`, `paused` (by a recovery, until kept) or `off` (failing)"},
    )
    created_at = fields.DateTime(required=True)


class WebhookMade(WebhookOut):
    secret = fields.String(
        required=True, metadata={"description": "`whsec_` and base64: shown only this once"}
    )


class WebhookList(ma.Schema):
    items = fields.List(fields.Nested(WebhookOut), required=True)
