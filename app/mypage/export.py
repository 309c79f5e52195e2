"""Exporting an account: a worker writes one zip archive of everything a user owns to the store.

"Export my data" queues a job (one export in flight per user, by a unique index; see
app/mypage/tasks.py). The job
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

from flask import current_app
from sqlalchemy import select

from app import objects, storage
from app.attachments.naming import FALLBACK_NAME, clean_name
from app.extensions import db
from app.i18n.stored import stored_message
from app.models import AccountExport, Attachment, User, utcnow

logger = logging.getLogger("memo.export")
# The archive stays in memory up to this size, then in a temporary file.
SPOOL_IN_MEMORY = 4 * 1024 * 1024
ARCHIVE_TYPE = "application/zip"
DOWNLOAD_NAME = "memo-export.zip"
STORE_DOWN = stored_message(
    "The object store did not answer, so the archive could not be saved. Please try again."
)


def download_url(export):
    """Return a short-lived URL of a done export's archive."""
    return storage.download_url(
        export.key,
        f'attachment; filename="{DOWNLOAD_NAME}"',
        ARCHIVE_TYPE,
        current_app.config["EXPORT_DOWNLOAD_SECONDS"],
    )


def write_account_json(user, archive):
    """Write the account's JSON document into the archive, as the rows are read."""
    with archive.open("account.json", "w", force_zip64=True) as entry:
        for piece in user.export_json():
            entry.write(piece.encode())
    db.session.commit()  # ends the read transaction before the slow part: the files


def confirmed_attachments(user_id):
    """Return (id, name, key) of the user's confirmed attachments."""
    query = select(Attachment.id, Attachment.name, Attachment.key).where(
        Attachment.user_id == user_id, Attachment.state == "confirmed"
    )
    rows = db.session.execute(query.order_by(Attachment.id)).all()
    db.session.commit()
    return rows


def write_object(archive, name, key):
    """Copy the object under `key` into the archive as `name`, a chunk at a time."""
    with archive.open(name, "w", force_zip64=True) as entry:
        storage.copy_object_into(key, entry)


def write_archive(user, file):
    """Write the user's whole account into `file` as a zip archive.

    No transaction stays open while files are copied from the store (idle for so long, the
    database would end it: idle_in_transaction_session_timeout).
    """
    attachments = confirmed_attachments(user.id)
    photo_key = objects.key_for_url(user.image_url)
    with zipfile.ZipFile(file, "w", compression=zipfile.ZIP_DEFLATED) as archive:
        write_account_json(user, archive)
        for attachment_id, name, key in attachments:
            # The stored name, cleaned again (one path segment, no hidden characters): zip keeps
            # it in UTF-8, so "회의록.txt" stays "회의록.txt", not "txt".
            safe = clean_name(name) or FALLBACK_NAME
            write_object(archive, f"attachments/{attachment_id}-{safe}", key)
        if photo_key:
            write_object(archive, f"photo.{photo_key.rsplit('.', 1)[-1]}", photo_key)


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
