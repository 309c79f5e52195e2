"""`--with-files`: the notes' attachments, laid out as an export lays them out.

A sync leaves attachments out unless asked. Asked, a pull then downloads each attachment of the
folder's notes it has not got to `attachments/<attachment id>-<name>`, the path an export's
archive gives it (so an unzipped export and a synced folder stay one format). An attachment
changes no note's revision, so the change feed cannot say which notes have new ones: each note's
list is read (one request a note). Files are only fetched: nothing in attachments/ is ever sent,
and a file whose attachment was deleted on the server stays.
"""

import os
import shutil

from memo_sync.api import ApiError
from memo_sync.folder import EXPORT_ATTACHMENTS
from memo_sync.notefile import clean_name

FALLBACK_NAME = "attachment"  # the export's, for a name with nothing left once cleaned
PROGRESS_EVERY = 50


def attachment_path(attachment):
    """Return the path of an attachment's file in the folder (the export's, in its archive)."""
    name = clean_name(attachment["name"]) or FALLBACK_NAME
    return f"{EXPORT_ATTACHMENTS}/{attachment['id']}-{name}"


def fetch_files(folder, api, say):
    """Download the attachments of the folder's notes that are not in it; return how many."""
    fetched = 0
    for number, note_id in enumerate(sorted(int(key) for key in folder.notes), 1):
        for attachment in api.attachments(note_id):
            target = folder.root / attachment_path(attachment)
            if not target.exists() and save(api, attachment["id"], target):
                fetched += 1
        if number % PROGRESS_EVERY == 0:
            say(f"memo: attachments of {number} notes read, {fetched} files fetched so far")
    return fetched


def save(api, attachment_id, target):
    """Write an attachment's bytes to `target`, whole or not at all; False when it is gone."""
    source = api.download(attachment_id)
    if source is None:
        return False
    target.parent.mkdir(parents=True, exist_ok=True)
    temporary = target.with_name(f".{target.name}.{os.getpid()}.tmp")
    try:
        with source, open(temporary, "wb") as file:
            shutil.copyfileobj(source, file)
    except OSError as error:
        temporary.unlink(missing_ok=True)
        raise ApiError(f"cannot download attachment {attachment_id}: {error}") from None
    os.replace(temporary, target)
    return True
