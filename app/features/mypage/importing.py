"""Importing into an account: a worker reads a Memo export zip, or one .txt/.md file, into notes.

The upload waits privately in the store (the browser sent it there, see
app/features/mypage/import_uploads.py) until its job runs, in its owner's lane of the queue. The job
copies it, at most IMPORT_MAX_BYTES, to a temporary file on disk and reads it within a
budget (app/features/mypage/import_reader.py): at most IMPORT_MAX_FILES entries, text files
unpacking to IMPORT_MAX_UNPACKED_BYTES together, no entry unpacking to more than IMPORT_MAX_RATIO
times what it takes, every name inside the archive, `account.json` read as a stream and
counted against the account's limits as it goes, texts in UTF-8 or a common encoding found
by charset detection. Then the notes (their completion, pin, archive and trash states and
their times, kept within 1970..tomorrow) and their attachments (one at a time from the
archive to the store, named and typed by the rules of uploads) are added in one transaction;
anything that fails adds nothing, and any error fails the import with a message. A note
already in the account (same title, content and time of writing) is skipped with its
attachments, so the same archive imported twice adds nothing the second time.

Each note's Markdown is read and rendered by the one writer, bounded as a save's is (table
cells, nesting: app/markdown.py); making the notes gets IMPORT_RENDER_SECONDS of the job's
CPU in all, past which the import fails whole with a message (about 0.33 s of CPU, 0.7 s of
a slot, a note of the largest tables: an account's text quota of them held a worker slot
half an hour). That rendering and the files' copying hold no lock and no transaction: only
writing the rows takes the account's lock (a save meanwhile waited behind a whole import,
then answered 503).
"""

import logging
import secrets
import time
import zipfile
from contextlib import nullcontext
from tempfile import TemporaryFile

from sqlalchemy import select

from app import jobs, objects, storage
from app.extensions import db
from app.features import setting
from app.features.attachments import uploads
from app.features.attachments.naming import (
    OCTET_STREAM,
    SNIFF_BYTES,
    TypeMismatch,
    clean_name,
    fallback_name,
    served_type,
)
from app.features.mypage.import_reader import (
    BAD_EXPORT,
    BOMB,
    DAMAGED,
    NO_ROOM,
    NOT_READABLE,
    TEXT_SUFFIXES,
    ImportFileRefused,
    LimitedReader,
    Limits,
    checked_entries,
    checked_size,
    moment,
    note_from_text,
    open_entry,
    read_export,
    string,
    text_of,
    whole_number,
)
from app.features.notes import service
from app.features.notes.quota import QuotaFull
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

logger = logging.getLogger("memo.imports")

ZIP_START = b"PK\x03\x04"  # the first bytes of a zip file's first entry
STORE_DOWN = stored_message(
    "The object store did not answer, so nothing was imported. Please try again."
)
ARCHIVE_TOO_LARGE = stored_message(
    "The file is larger than %(size)s, the most an import can take; nothing was imported."
)
FAILED = stored_message(
    "Memo could not read this file, so nothing was imported. Please check that it is a Memo "
    "export or a text file."
)
TOO_MUCH_WORK = stored_message(
    "Preparing these notes took longer than one import may, so nothing was imported. Notes "
    "with many large tables take the longest: import them in smaller parts."
)


def limits():
    """What one import may read: the archive's bounds, and the most an account may hold."""
    return Limits(
        files=setting("IMPORT_MAX_FILES"),
        unpacked_bytes=setting("IMPORT_MAX_UNPACKED_BYTES"),
        json_bytes=2 * setting("NOTE_BYTES_PER_USER") + setting("IMPORT_OVERHEAD_BYTES"),
        ratio=setting("IMPORT_MAX_RATIO"),
        notes=setting("NOTES_PER_USER"),
        text_bytes=setting("NOTE_BYTES_PER_USER"),
    )


def attachment_entries(entries):
    """Return {attachment id: ZipInfo} of the archive's `attachments/<id>-<name>` files."""
    files = {}
    for name, info in entries.items():
        head, _, rest = name.partition("/")
        number, dash, _ = rest.partition("-")
        if head == "attachments" and dash and number.isdigit():
            files[int(number)] = info
    return files


def attach(notes, attachments, files):
    """Give each note its attachments' (name, ZipInfo, confirmed at) from the archive."""
    by_id = {note.source_id: note for note in notes}
    for item in attachments:
        info = files.get(whole_number(item, "id"))
        if info is None or info.file_size != whole_number(item, "size"):
            raise ImportFileRefused(BAD_EXPORT)
        note = by_id.get(whole_number(item, "note_id"))
        if note is not None:  # else its note had no title: Memo never wrote one
            note.files.append((string(item, "name"), info, moment(item.get("created_at"))))


def read_text_entry(archive, name, info, budget):
    with open_entry(archive, info, budget) as stream:
        return text_of(name, stream.read())


def parse(name, upload, budget):
    """Return (notes, the open archive or None) of an upload, or raise ImportFileRefused."""
    if zipfile.is_zipfile(upload):
        try:
            archive = zipfile.ZipFile(upload)
            entries = checked_entries(archive, budget)
            if "account.json" in entries:
                checked_size([entries["account.json"]], budget.json_bytes, budget)
                with open_entry(archive, entries["account.json"], budget) as stream:
                    notes, attachments = read_export(
                        stream, budget, TITLE_MAX_LENGTH, CONTENT_MAX_LENGTH
                    )
                attach(notes, attachments, attachment_entries(entries))
                return notes, archive
            texts = [entry for entry in entries if entry.lower().endswith(TEXT_SUFFIXES)]
            checked_size([entries[entry] for entry in texts], budget.unpacked_bytes, budget)
            text_notes = [
                note_from_text(
                    entry,
                    read_text_entry(archive, entry, entries[entry], budget),
                    TITLE_MAX_LENGTH,
                    CONTENT_MAX_LENGTH,
                )
                for entry in texts
            ]
            return text_notes, archive
        except (zipfile.BadZipFile, NotImplementedError, OSError, EOFError):
            raise ImportFileRefused(DAMAGED % {"name": name}) from None
    upload.seek(0)
    if name.lower().endswith(".zip") or upload.read(4) == ZIP_START:
        # Its end, where a zip's index is, is missing.
        raise ImportFileRefused(DAMAGED % {"name": name})
    if name.lower().endswith(TEXT_SUFFIXES):
        upload.seek(0)
        data = LimitedReader(upload, budget.unpacked_bytes, budget.too_large()).read()
        text = text_of(name, data)
        return [note_from_text(name, text, TITLE_MAX_LENGTH, CONTENT_MAX_LENGTH)], None
    raise ImportFileRefused(NOT_READABLE)


def already_there(user_id, incoming):
    """Return whether the account has this note already (an archive imported again)."""
    query = select(Note.id).where(
        Note.user_id == user_id, Note.title == incoming.title, Note.content == incoming.content
    )
    if incoming.created_at is not None:
        query = query.where(Note.created_at == incoming.created_at)
    return db.session.scalar(query.limit(1)) is not None


def check_room(user_id, sizes):
    """Refuse unless new files of these sizes fit the account's limits (the notes' own count
    and text are the writer's to check: app/features/notes/service.py)."""
    _, attached = uploads.usage(user_id, None)
    if attached + sum(sizes) > setting("ATTACHMENT_QUOTA_BYTES") or any(
        size > setting("ATTACHMENT_MAX_BYTES") for size in sizes
    ):
        raise ImportFileRefused(NO_ROOM)


def check_many_files(notes):
    """Refuse a note with more files than one may have."""
    if any(len(note.files) > setting("ATTACHMENTS_PER_NOTE") for note in notes):
        raise ImportFileRefused(NO_ROOM)


def store_file(archive, info, key, name):
    """Copy one attachment from the archive to the store; return its served type."""
    with archive.open(info) as member:
        head = member.read(SNIFF_BYTES)
    try:
        content_type = served_type(name, head)
    except TypeMismatch:  # named as a picture, say, and not one: downloaded, never shown
        content_type = OCTET_STREAM
    with archive.open(info) as member:
        refusal = ImportFileRefused(BOMB % {"name": info.filename})
        storage.upload_file(key, LimitedReader(member, info.file_size, refusal), content_type)
    return content_type


def draft(incoming):
    """Return the columns of the note an imported one becomes."""
    columns = {
        "title": incoming.title,
        "content": incoming.content,
        "completed": incoming.completed,
        "pinned": incoming.pinned,
        "archived_at": incoming.archived_at,
        "deleted_at": incoming.deleted_at,
    }
    if incoming.created_at is not None:
        columns["created_at"] = incoming.created_at
        columns["updated_at"] = incoming.updated_at or incoming.created_at
    return columns


def render_budget():
    """Return a check that raises ImportFileRefused once this thread has spent
    IMPORT_RENDER_SECONDS of CPU since it was made (the notes' reading and rendering, called
    after each note)."""
    ends = time.thread_time() + setting("IMPORT_RENDER_SECONDS")

    def spent():
        if time.thread_time() > ends:
            raise ImportFileRefused(TOO_MUCH_WORK)

    return spent


def store_files(user_id, notes, archive, stored):
    """Copy the notes' attachments from the archive to the store; return each note's files
    as (key, name, type, size, confirmed at). `stored` collects the keys as they are made."""
    files = []
    for incoming in notes:
        theirs = []
        for raw_name, info, confirmed_at in incoming.files:
            key = objects.attachment_key(user_id, secrets.token_urlsafe(18))
            name = clean_name(raw_name) or fallback_name(OCTET_STREAM)
            stored.append(key)
            content_type = store_file(archive, info, key, name)
            theirs.append((key, name, content_type, info.file_size, confirmed_at))
        files.append(theirs)
    return files


def add(user_id, drafts, files):
    """Add the notes, read already, and their stored files' rows, under the account's lock
    (the limits hold); return (notes, files) added. Caller commits."""
    try:
        made = service.create_many(user_id, drafts)
    except QuotaFull:
        raise ImportFileRefused(NO_ROOM) from None
    check_room(user_id, [entry[3] for theirs in files for entry in theirs])
    for note, theirs in zip(made, files, strict=True):
        for key, name, content_type, size, confirmed_at in theirs:
            moment = confirmed_at or note.created_at
            db.session.add(
                Attachment(
                    user_id=user_id,
                    note_id=note.id,
                    key=key,
                    state="confirmed",
                    name=name,
                    content_type=content_type,
                    size=size,
                    created_at=moment,
                    expires_at=moment,
                    confirmed_at=moment,
                )
            )
    db.session.flush()
    return len(made), sum(len(theirs) for theirs in files)


def import_upload(user_id, name, upload):
    """Read the upload and add what it holds to the account; return (notes, files) added.

    The slow parts (rendering the notes, copying their files to the store) run holding no
    lock and no transaction, so the owner's saves never wait on an import; only the writing
    of the rows, checked again against the limits, holds the account's lock."""
    notes, archive = parse(name, upload, limits())
    stored = []
    with archive or nullcontext():
        try:
            notes = [note for note in notes if not already_there(user_id, note)]
            check_room(user_id, [info.file_size for note in notes for _, info, _ in note.files])
            check_many_files(notes)
            db.session.rollback()  # nothing written yet: no snapshot held while it works
            drafts = service.read_texts([draft(note) for note in notes], render_budget())
            files = store_files(user_id, notes, archive, stored)
            lock_user(user_id)  # one import or save at a time: the limits hold
            return add(user_id, drafts, files)
        except (storage.StorageError, ImportFileRefused) as error:
            db.session.rollback()
            objects.delete_later(stored)  # the files stored before the failure
            db.session.commit()
            if isinstance(error, ImportFileRefused):
                raise
            raise ImportFileRefused(STORE_DOWN) from None


def fail(import_id, message):
    db.session.rollback()
    db.session.get(AccountImport, import_id).fail(message)


def run(import_id):
    """Import an upload into its account, or record why not; delete the upload."""
    started = db.session.get(AccountImport, import_id)
    if started is None or started.finished:
        return
    started.status = "running"
    db.session.commit()
    user_id, key, name = started.user_id, started.key, started.name
    try:
        with TemporaryFile() as upload:
            storage.copy_object_into(key, upload, most=setting("IMPORT_MAX_BYTES"))
            added = import_upload(user_id, name, upload)
    except storage.ObjectTooLarge:
        fail(import_id, ARCHIVE_TOO_LARGE % {"size": file_size(setting("IMPORT_MAX_BYTES"))})
    except ImportFileRefused as refused:
        fail(import_id, str(refused))
        logger.info("import id=%s refused: %s", import_id, refused)
    except storage.StorageError:
        fail(import_id, STORE_DOWN)
    except jobs.TRANSIENT_ERRORS:
        raise  # the database did not answer: the job runs again
    except Exception:  # a file no rule above foresaw: the import fails, never stays "running"
        logger.exception("import id=%s failed", import_id)
        fail(import_id, FAILED)
    else:
        db.session.get(AccountImport, import_id).finish(*added)
    objects.delete_later([key])
    db.session.commit()
