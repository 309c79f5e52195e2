"""Importing into an account: a worker reads a Memo export zip, or one .txt/.md file, into notes.

The upload waits privately in the store until its job runs. The job reads it whole and checks
it before writing anything: at most IMPORT_MAX_FILES entries, IMPORT_MAX_UNPACKED_BYTES
unpacked in all (counted as they are read, not as the archive claims), no entry unpacking to
more than IMPORT_MAX_RATIO times what it takes, every name inside the archive (no absolute
path, no `..`, no backslash), every text UTF-8, `account.json` a Memo export, and the notes
and files within the account's limits. Then the notes (their completion and times of writing
and editing) and their attachments (byte for byte, with their names and types) are added in
one transaction; anything that fails adds nothing. A note already in the account (same title,
content and time of writing) is skipped with its attachments, so the same archive imported
twice adds nothing the second time.
"""

import json
import logging
import posixpath
import secrets
import zipfile
from dataclasses import dataclass, field
from datetime import datetime
from io import BytesIO

from flask import current_app
from sqlalchemy import select

from app import objects, storage
from app.attachments import uploads
from app.extensions import db
from app.i18n.formats import file_size
from app.i18n.stored import stored_message
from app.models import (
    CONTENT_MAX_LENGTH,
    TITLE_MAX_LENGTH,
    AccountImport,
    Attachment,
    Note,
    lock_user,
)
from app.notes import quota

logger = logging.getLogger("memo.imports")
TEXT_SUFFIXES = (".txt", ".md")

NOT_READABLE = stored_message(
    "This file is neither a Memo export (.zip) nor a text file (.txt, .md); nothing was imported."
)
NOT_UTF8 = stored_message("%(name)s is not UTF-8 text; nothing was imported.")
UNSAFE_NAME = stored_message(
    "The archive holds a file named %(name)s, which points outside it; nothing was imported."
)
TOO_MANY = stored_message("The archive holds more than %(count)s files; nothing was imported.")
TOO_LARGE = stored_message("The archive unpacks to more than %(size)s; nothing was imported.")
BOMB = stored_message(
    "The archive's file %(name)s unpacks to far more than it takes; nothing was imported."
)
BAD_EXPORT = stored_message(
    "The archive's account.json is not a Memo export; nothing was imported."
)
NO_ROOM = stored_message(
    "The notes and files would take the account past its limits; nothing was imported."
)
STORE_DOWN = stored_message(
    "The object store did not answer, so nothing was imported. Please try again."
)


class Refused(Exception):
    """The upload cannot be imported; the message (stored English) says why."""


@dataclass
class Incoming:
    """One note to add, with its attachments' (name, type, bytes, confirmed at)."""

    title: str
    content: str
    completed: bool = False
    created_at: datetime | None = None
    updated_at: datetime | None = None
    files: list = field(default_factory=list)


def setting(name):
    return current_app.config[name]


def safe_name(name):
    """Refuse an entry name that is absolute, climbs out with `..`, or uses backslashes."""
    parts = name.split("/")
    if name.startswith("/") or "\\" in name or "\0" in name or ".." in parts:
        raise Refused(UNSAFE_NAME % {"name": name})
    return posixpath.normpath(name)


def read_entries(archive):
    """Return {name: bytes} of the archive's files, within the limits, counted as read."""
    infos = [info for info in archive.infolist() if not info.is_dir()]
    if len(infos) > setting("IMPORT_MAX_FILES"):
        raise Refused(TOO_MANY % {"count": setting("IMPORT_MAX_FILES")})
    budget = setting("IMPORT_MAX_UNPACKED_BYTES")
    entries = {}
    for info in infos:
        name = safe_name(info.filename)
        limit = max(info.compress_size, 1) * setting("IMPORT_MAX_RATIO") + 64 * 1024
        with archive.open(info) as member:
            data = member.read(min(budget, limit) + 1)
        if len(data) > budget:
            raise Refused(TOO_LARGE % {"size": file_size(setting("IMPORT_MAX_UNPACKED_BYTES"))})
        if len(data) > limit:
            raise Refused(BOMB % {"name": name})
        budget -= len(data)
        entries[name] = data
    return entries


def text_of(name, data):
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError:
        raise Refused(NOT_UTF8 % {"name": name}) from None


def note_from_text(name, text):
    """A .txt or .md file as a note: its first `# heading` (or its file name) is the title."""
    stem = posixpath.basename(name).rsplit(".", 1)[0] or name
    first, _, rest = text.partition("\n")
    if name.endswith(".md") and first.startswith("# "):
        title, content = first[2:].strip(), rest.lstrip("\n")
    else:
        title, content = stem, text
    return Incoming(title=(title or stem)[:TITLE_MAX_LENGTH], content=content[:CONTENT_MAX_LENGTH])


def moment(value):
    return datetime.fromisoformat(value)


def notes_from_export(entries):
    """A Memo export's notes, with their attachments' files from the archive."""
    try:
        document = json.loads(text_of("account.json", entries["account.json"]))
        files = {}
        for name in entries:
            head, _, rest = name.partition("/")
            number, dash, _ = rest.partition("-")
            if head == "attachments" and dash and number.isdigit():
                files[int(number)] = entries[name]
        by_note = {}
        for item in document.get("attachments", []):
            data = files.get(int(item["id"]))
            if data is None or len(data) != int(item["size"]):
                raise Refused(BAD_EXPORT)
            by_note.setdefault(int(item["note_id"]), []).append(
                (item["name"], item["content_type"], data, moment(item["created_at"]))
            )
        return [
            Incoming(
                title=str(note["title"])[:TITLE_MAX_LENGTH],
                content=str(note["content"])[:CONTENT_MAX_LENGTH],
                completed=bool(note.get("completed")),
                created_at=moment(note["created_at"]),
                updated_at=moment(note["updated_at"]),
                files=by_note.get(int(note["id"]), []),
            )
            for note in document["notes"]
            if str(note.get("title", "")).strip()
        ]
    except (KeyError, TypeError, ValueError, AttributeError):
        raise Refused(BAD_EXPORT) from None


def parse(name, data):
    """Return the notes an upload holds, or raise Refused."""
    if zipfile.is_zipfile(BytesIO(data)):
        try:
            with zipfile.ZipFile(BytesIO(data)) as archive:
                entries = read_entries(archive)
        except (zipfile.BadZipFile, NotImplementedError, OSError, EOFError):
            raise Refused(NOT_READABLE) from None
        if "account.json" in entries:
            return notes_from_export(entries)
        texts = [entry for entry in entries if entry.lower().endswith(TEXT_SUFFIXES)]
        return [note_from_text(entry, text_of(entry, entries[entry])) for entry in texts]
    if name.lower().endswith(TEXT_SUFFIXES):
        if len(data) > setting("IMPORT_MAX_UNPACKED_BYTES"):
            raise Refused(TOO_LARGE % {"size": file_size(setting("IMPORT_MAX_UNPACKED_BYTES"))})
        return [note_from_text(name, text_of(name, data))]
    raise Refused(NOT_READABLE)


def already_there(user_id, incoming):
    """Return whether the account has this note already (an archive imported again)."""
    query = select(Note.id).where(
        Note.user_id == user_id, Note.title == incoming.title, Note.content == incoming.content
    )
    if incoming.created_at is not None:
        query = query.where(Note.created_at == incoming.created_at)
    return db.session.scalar(query.limit(1)) is not None


def check_room(user_id, notes):
    """Refuse unless the new notes and files fit the account's limits, all of them."""
    count, used = quota.usage(user_id)
    text = sum(quota.text_bytes(note.title, note.content) for note in notes)
    files = sum(len(data) for note in notes for _, _, data, _ in note.files)
    _, attached = uploads.usage(user_id, None)
    per_note = setting("ATTACHMENTS_PER_NOTE")
    if (
        count + len(notes) > setting("NOTES_PER_USER")
        or used + text > setting("NOTE_BYTES_PER_USER")
        or attached + files > setting("ATTACHMENT_QUOTA_BYTES")
        or any(len(note.files) > per_note for note in notes)
    ):
        raise Refused(NO_ROOM)


def add(user_id, notes):
    """Add the notes and store their files; return (notes, files) added. Caller commits."""
    stored = []
    try:
        for incoming in notes:
            note = Note(
                user_id=user_id,
                title=incoming.title,
                content=incoming.content,
                completed=incoming.completed,
            )
            if incoming.created_at is not None:
                note.created_at, note.updated_at = incoming.created_at, incoming.updated_at
            db.session.add(note)
            db.session.flush()
            for name, content_type, data, confirmed_at in incoming.files:
                key = objects.attachment_key(user_id, secrets.token_urlsafe(18))
                storage.put_object(key, data, content_type)
                stored.append(key)
                db.session.add(
                    Attachment(
                        user_id=user_id,
                        note_id=note.id,
                        key=key,
                        state="confirmed",
                        name=name,
                        content_type=content_type,
                        size=len(data),
                        created_at=confirmed_at,
                        expires_at=confirmed_at,
                        confirmed_at=confirmed_at,
                    )
                )
        db.session.flush()
    except storage.StorageError:
        db.session.rollback()
        objects.delete_later(stored)  # the files stored before the store failed
        db.session.commit()
        raise Refused(STORE_DOWN) from None
    return len(notes), len(stored)


def run(import_id):
    """Import an upload into its account, or record why not; delete the upload."""
    started = db.session.get(AccountImport, import_id)
    if started is None or started.finished:
        return
    started.status = "running"
    db.session.commit()
    user_id, key, name = started.user_id, started.key, started.name
    try:
        notes = parse(name, storage.get_object(key))
        lock_user(user_id)  # one import or save at a time: the limits hold
        notes = [note for note in notes if not already_there(user_id, note)]
        check_room(user_id, notes)
        added = add(user_id, notes)
    except Refused as refused:
        db.session.rollback()
        db.session.get(AccountImport, import_id).fail(str(refused))
        logger.info("import id=%s refused: %s", import_id, refused)
    except storage.StorageError:
        db.session.rollback()
        db.session.get(AccountImport, import_id).fail(STORE_DOWN)
    else:
        db.session.get(AccountImport, import_id).finish(*added)
    objects.delete_later([key])
    db.session.commit()
