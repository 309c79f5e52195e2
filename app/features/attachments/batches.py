"""Several files for one note at once (a share from another app): checked together against
the limits before anything is written, then one signed upload each.

Each file is named with its size and its first bytes, so that what can be refused is refused
before the note exists: too many for a note, too large, past the account's room, uploads in
flight, or bytes that contradict the name. The confirm of each upload checks all of it again
on the file that arrived (app/features/attachments/uploads.py).
"""

from dataclasses import dataclass

from flask import url_for
from flask_babel import gettext

from app.features import setting
from app.features.attachments import naming
from app.features.attachments.uploads import (
    Ticket,
    UploadRefused,
    check_size,
    new_upload,
    sign,
    upload_form,
    usage,
)


@dataclass(frozen=True)
class Announced:
    """A file a page is about to send: its name, its size in bytes, its first bytes."""

    name: str
    size: int
    head: bytes


def check_files(note, files):
    """Refuse the files together, naming the first that does not fit, or return their names
    cleaned, in order. Writes nothing."""
    on_note, used = usage(note.user_id, note.id)
    per_note, quota = setting("ATTACHMENTS_PER_NOTE"), setting("ATTACHMENT_QUOTA_BYTES")
    if on_note + len(files) > per_note:
        raise UploadRefused(
            gettext(
                "A note holds at most %(count)s attachments: leave some files out.",
                count=per_note,
            )
        )
    names = []
    for file in files:
        name = naming.clean_name(file.name) or None
        try:
            check_size(file.size, max(min(setting("ATTACHMENT_MAX_BYTES"), quota - used), 0))
            naming.served_type(name, file.head)
        except UploadRefused as refusal:
            raise UploadRefused(named(name, refusal), refusal.status) from None
        except naming.TypeMismatch as mismatch:
            raise UploadRefused(str(mismatch)) from None
        used += file.size
        names.append(name)
    return names


def named(name, refusal):
    """Return a refusal's message with the file's name before it."""
    if not name:
        return str(refusal)
    return gettext("%(name)s: %(reason)s", name=name, reason=refusal)


def start_uploads(note, files):
    """Check the files together (UploadRefused, nothing written), then start one upload each:
    return what the page's script needs for each, as for one file (url, fields, confirm)."""
    starts = []
    for file, name in zip(files, check_files(note, files), strict=True):
        upload = new_upload(note.user_id, note.id)  # 429 past the uploads in flight
        upload.name = name
        token = upload.key.rsplit("/", 1)[1]
        ticket = Ticket(note.user_id, note.id, token, upload.expires_at, file.size)
        url, fields = upload_form(ticket, ("status", "201"), exact=True)
        confirm = url_for("attachments.confirm", note_id=note.id, upload=sign(ticket))
        starts.append({"url": url, "fields": fields, "confirm": confirm})
    return starts
