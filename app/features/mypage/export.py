"""Exporting an account: a worker writes one zip archive of everything a user owns to the store.

"Export my data" queues a job (one export in flight per user, by a unique index; see
app/features/mypage/tasks.py). The job
writes `account.json` (the account, notes, word counts and attachments' metadata, read a
few rows at a time), every attachment's file and the profile photo into a zip in a spooled
temporary file, then sends it to the store in parts under a private key. Memory stays flat
however large the account is. An account keeps one archive: a new one replaces the last. My
page then links to the archive for a short time; the maintenance schedule deletes archives
after EXPORT_KEEP, the account's deletion with it, and the sweep any archive no row names.
"""

import logging
import zipfile
from tempfile import SpooledTemporaryFile
from zoneinfo import ZoneInfo

from flask import current_app
from sqlalchemy import select

from app import objects, storage
from app.extensions import db
from app.features.attachments.naming import FALLBACK_NAME, clean_name
from app.i18n.stored import stored_message
from app.models import EXPORT_BATCH, AccountExport, Attachment, Note, User, account_json, utcnow

logger = logging.getLogger("memo.export")
# The archive stays in memory up to this size, then in a temporary file.
SPOOL_IN_MEMORY = 4 * 1024 * 1024
ARCHIVE_TYPE = "application/zip"
# The archive as a browser saves it, with the day it was written: memo-export-2026-11-24.zip.
DOWNLOAD_NAME = "memo-export-{day}.zip"
# A zip entry's name is cut to this many characters before its ".md".
NOTE_NAME_MAX_LENGTH = 80
STORE_DOWN = stored_message(
    "The object store did not answer, so the archive could not be saved. Please try again."
)


def download_name(export, zone):
    """Return the archive's file name, dated the day it was written in the owner's zone."""
    return DOWNLOAD_NAME.format(day=export.finished_at.astimezone(ZoneInfo(zone)).date())


def download_url(export, zone):
    """Return a short-lived URL of a done export's archive."""
    return storage.download_url(
        export.key,
        f'attachment; filename="{download_name(export, zone)}"',
        ARCHIVE_TYPE,
        current_app.config["EXPORT_DOWNLOAD_SECONDS"],
    )


def entry(name, moment, zone):
    """Return a zip entry `name` dated `moment` in the owner's zone (zip keeps local time; left
    alone, every entry would say 1980-01-01)."""
    info = zipfile.ZipInfo(name, moment.astimezone(zone).timetuple()[:6])
    info.compress_type = zipfile.ZIP_DEFLATED  # a ZipInfo's own default is no compression
    return info


def write_account_json(user, archive, zone):
    """Write the account's JSON document into the archive, as the rows are read."""
    with archive.open(entry("account.json", utcnow(), zone), "w", force_zip64=True) as file:
        for piece in account_json(user):
            file.write(piece.encode())
    db.session.commit()  # ends the read transaction before the slow part: the files


class NoteFileNames:
    """Names notes' files from their titles ("회의록.md", "회의록 (2).md"), each unique.

    Each title remembers the last number it used, so the search for a free name goes on
    from there: 10,000 notes of one title cost 10,000 names, not 50 million tries (counting
    from 1 for each note took 11 s). Every name below a title's last number is taken, so the
    first free one from there is the first free one at all; and a try that finds its name
    taken never finds that name again, so the tries stay within twice the notes, whatever
    their titles.
    """

    def __init__(self):
        self.taken = set()
        self.last_number = {}

    def name(self, note):
        """Return the file name of `note`, unique among those named so far."""
        stem = clean_name(note.title)[:NOTE_NAME_MAX_LENGTH].rstrip(" .") or str(note.id)
        number = self.last_number.get(stem.casefold(), 1)  # 1: the title alone
        name = f"{stem}.md" if number == 1 else f"{stem} ({number}).md"
        while name.casefold() in self.taken:
            number += 1
            name = f"{stem} ({number}).md"
        self.last_number[stem.casefold()] = number
        self.taken.add(name.casefold())
        return name


def write_notes_as_markdown(user, archive, zone):
    """Write each note as notes/<title>.md, readable without any program but a text editor."""
    names = NoteFileNames()
    query = select(Note).where(Note.user_id == user.id).order_by(Note.created_at, Note.id)
    for note in db.session.scalars(query.execution_options(yield_per=EXPORT_BATCH)):
        name = f"notes/{names.name(note)}"
        archive.writestr(entry(name, note.updated_at, zone), note.markdown().encode())
    db.session.commit()


def confirmed_attachments(user_id):
    """Return (id, name, key, confirmed_at) of the user's confirmed attachments."""
    query = select(Attachment.id, Attachment.name, Attachment.key, Attachment.confirmed_at).where(
        Attachment.user_id == user_id, Attachment.state == "confirmed"
    )
    rows = db.session.execute(query.order_by(Attachment.id)).all()
    db.session.commit()
    return rows


def write_object(archive, name, key, moment, zone):
    """Copy the object under `key` into the archive as `name`, a chunk at a time."""
    with archive.open(entry(name, moment, zone), "w", force_zip64=True) as file:
        storage.copy_object_into(key, file)


def write_archive(user, file):
    """Write the user's whole account into `file` as a zip archive.

    No transaction stays open while files are copied from the store (idle for so long, the
    database would end it: idle_in_transaction_session_timeout).
    """
    attachments = confirmed_attachments(user.id)
    photo_key = objects.key_for_url(user.image_url)
    zone = ZoneInfo(user.time_zone)
    with zipfile.ZipFile(file, "w", compression=zipfile.ZIP_DEFLATED) as archive:
        write_account_json(user, archive, zone)
        write_notes_as_markdown(user, archive, zone)
        for attachment_id, name, key, confirmed_at in attachments:
            # The stored name, cleaned again (one path segment, no hidden characters): zip keeps
            # it in UTF-8, so "회의록.txt" stays "회의록.txt", not "txt".
            safe = clean_name(name) or FALLBACK_NAME
            write_object(archive, f"attachments/{attachment_id}-{safe}", key, confirmed_at, zone)
        if photo_key:
            photo_name = f"photo.{photo_key.rsplit('.', 1)[-1]}"
            write_object(archive, photo_name, photo_key, utcnow(), zone)


def write(export_id):
    """Write an export's archive to the store and record where; a store that fails fails it."""
    export = db.session.get(AccountExport, export_id)
    if export is None or export.finished:
        return  # the account was deleted, or this job already ran
    export.begin()
    db.session.commit()
    user = db.session.get(User, export.user_id)
    key = objects.export_key(user.id)
    try:
        with SpooledTemporaryFile(max_size=SPOOL_IN_MEMORY) as spool:
            write_archive(user, spool)
            size = spool.tell()
            spool.seek(0)
            storage.upload_file(key, spool, ARCHIVE_TYPE)
    except storage.StorageError as error:
        logger.warning("export id=%s failed: %s", export_id, error)
        db.session.rollback()
        export.fail(STORE_DOWN)
        db.session.commit()
        return
    db.session.rollback()  # read the export's row as it is now
    if db.session.get(AccountExport, export_id) is None:  # the account went meanwhile
        objects.delete_later([key])
        db.session.commit()
        return
    export.finish(key, size)
    replace_earlier(export)
    db.session.commit()


def replace_earlier(export):
    """Forget the account's earlier archives, and have their objects deleted: it keeps one."""
    earlier = AccountExport.earlier_than(export)
    for row in earlier:
        db.session.delete(row)
    objects.delete_later([row.key for row in earlier])


def delete_old():
    """Delete export archives (and their rows) older than EXPORT_KEEP."""
    cutoff = utcnow() - current_app.config["EXPORT_KEEP"]
    old = AccountExport.finished_before(cutoff)
    for export in old:
        db.session.delete(export)
    objects.delete_later([export.key for export in old])  # once the rows are gone
    db.session.commit()
    if old:
        logger.info("deleted %s old exports", len(old))
