"""`--with-files`: the notes' attachments, laid out as an export lays them out.

A sync leaves attachments out unless asked. Asked, a pull then downloads each attachment of the
folder's notes it has not got to `attachments/<attachment id>-<name>`, the path an export's
archive gives it (so an unzipped export and a synced folder stay one format). An attachment
changes no note's revision, so the change feed cannot say which notes have new ones: each note's
list is read (one request a note). Files are only fetched: nothing in attachments/ is ever sent,
and a file whose attachment was deleted on the server stays. An attachment whose id is no
positive whole number, or whose link is no http(s) one, is refused and said; the bytes count
against the run's budget.
"""

import os

from memo_sync.api import ApiError, BudgetSpent, Refused
from memo_sync.folder import EXPORT_ATTACHMENTS
from memo_sync.safety import inside, positive_id, safe_name

FALLBACK_NAME = "attachment"  # the export's, for a name with nothing left once cleaned
PROGRESS_EVERY = 50
CHUNK_BYTES = 64 * 1024


def attachment_path(attachment):
    """Return the path of an attachment's file in the folder (the export's, in its archive,
    with the name made safe on every system); Unsafe for an id that is no positive number."""
    attachment_id = positive_id(attachment.get("id"), "an attachment's id")
    name = safe_name(attachment.get("name")) or FALLBACK_NAME
    return f"{EXPORT_ATTACHMENTS}/{attachment_id}-{name}"


def fetch_files(folder, api, say):
    """Download the attachments of the folder's notes that are not in it; return how many."""
    fetched = 0
    for number, note_id in enumerate(sorted(int(key) for key in folder.notes), 1):
        for attachment in api.attachments(note_id):
            try:
                fetched += fetch_one(folder, api, attachment)
            except Refused as refused:
                say(f"memo: refused an attachment of note {note_id}: {refused}")
        if number % PROGRESS_EVERY == 0:
            say(f"memo: attachments of {number} notes read, {fetched} files fetched so far")
    return fetched


def fetch_one(folder, api, attachment):
    """Fetch one attachment unless it is here; return 1 when fetched."""
    if not isinstance(attachment, dict):
        raise Refused("an attachment that is no object")
    path = attachment_path(attachment)
    target = inside(folder.root, path)
    return 0 if target.exists() else int(save(folder, api, attachment["id"], target))


def save(folder, api, attachment_id, target):
    """Write an attachment's bytes to `target`, whole or not at all; False when it is gone."""
    source = api.download(attachment_id)
    if source is None:
        return False
    target.parent.mkdir(parents=True, exist_ok=True)
    temporary = target.with_name(f".{target.name}.{os.getpid()}.tmp")
    folder.budget.spend(files=1)
    try:
        with source, open(temporary, "wb") as file:
            while chunk := source.read(CHUNK_BYTES):
                folder.budget.spend(size=len(chunk))  # BudgetSpent: the file is not kept
                file.write(chunk)
    except OSError as error:
        temporary.unlink(missing_ok=True)
        raise ApiError(f"cannot download attachment {attachment_id}: {error}") from None
    except BudgetSpent:
        temporary.unlink(missing_ok=True)
        raise
    os.replace(temporary, target)
    return True
