"""The life of an attachment: a signed upload, its confirmation, its deletion and the sweep.

The web process never carries a file's bytes. It signs a policy that lets the browser POST
one file to `attachment-uploads/<user id>/<token>`, then, when the browser comes back, checks what
arrived (size, limits, type against the first bytes) and has the store copy it to
`attachments/<user id>/<token>`, the attachment's key. Objects left under
`attachment-uploads/` are never confirmed ones, so a lifecycle rule on that prefix may
expire them (see docs/attachments.md); the sweep here does the same from Memo's side.
"""

import re
import secrets
from datetime import timedelta

from flask import current_app
from sqlalchemy import func, select

from app import jobs, storage
from app.attachments import naming
from app.extensions import db
from app.models import Attachment, User, utcnow

ATTACHMENT_PREFIX = "attachments/"
# Not the photos' `uploads/`: each feature sweeps only the prefix it owns.
UPLOAD_PREFIX = "attachment-uploads/"
# What new_upload() makes: anything else in a confirm is refused before it reaches a query.
UPLOAD_KEY = re.compile(rf"{UPLOAD_PREFIX}\d{{1,19}}/[\w-]{{1,64}}", re.ASCII)
FILENAME_FIELD = "x-amz-meta-filename"
MEGABYTE = 1024 * 1024


class UploadRefused(Exception):
    """An upload may not start, or what arrived is not accepted; the message tells the user."""

    def __init__(self, message, status=400, retry_after=None):
        super().__init__(message)
        self.status = status
        self.retry_after = retry_after


def setting(name):
    """Return one of the ATTACHMENT* settings of the current app."""
    return current_app.config[name]


def readable_size(size):
    """Return a size in bytes as a short text for people, such as `25 MB`."""
    if size >= 1024 * MEGABYTE:
        return f"{size / (1024 * MEGABYTE):g} GB"
    return f"{size / MEGABYTE:.3g} MB" if size >= MEGABYTE else f"{size:,} bytes"


def user_prefixes(user_id):
    """Return the two prefixes under which a user's attachments and uploads are kept."""
    return f"{ATTACHMENT_PREFIX}{user_id}/", f"{UPLOAD_PREFIX}{user_id}/"


def upload_key(key):
    """Return where the browser uploads the file that becomes attachment `key`."""
    return UPLOAD_PREFIX + key.removeprefix(ATTACHMENT_PREFIX)


def key_of_upload(uploaded):
    """Return the attachment key an upload key belongs to, or None for any other key."""
    if not UPLOAD_KEY.fullmatch(uploaded):
        return None
    return ATTACHMENT_PREFIX + uploaded.removeprefix(UPLOAD_PREFIX)


def lock_owner(user_id):
    """Lock the user's row: limit checks and the writes after them run one at a time."""
    db.session.execute(select(User.id).where(User.id == user_id).with_for_update())


def note_attachments(note_id):
    """Return a note's confirmed attachments, oldest first."""
    return db.session.scalars(
        select(Attachment)
        .where(Attachment.note_id == note_id, Attachment.state == "confirmed")
        .order_by(Attachment.created_at, Attachment.id)
    ).all()


def usage(user_id, note_id):
    """Return how many confirmed attachments the note has, and the bytes the user's take."""
    on_note, used = db.session.execute(
        select(
            func.count().filter(Attachment.note_id == note_id),
            func.coalesce(func.sum(Attachment.size), 0),
        ).where(Attachment.user_id == user_id, Attachment.state == "confirmed")
    ).one()
    return on_note, int(used)  # PostgreSQL sums bigints as numeric


def room_for_one_more(user_id, note_id):
    """Return the largest file the user may still attach to the note, or refuse.

    Counts only confirmed attachments: a pending upload holds no room until it arrives.
    """
    on_note, used = usage(user_id, note_id)
    per_note, quota = setting("ATTACHMENTS_PER_NOTE"), setting("ATTACHMENT_QUOTA_BYTES")
    if on_note >= per_note:
        raise UploadRefused(
            f"This note has reached its limit of {per_note} attachments. "
            "Delete one to attach another file."
        )
    if used >= quota:
        raise UploadRefused(
            f"Your attachments use all of your {readable_size(quota)}. "
            "Delete some to attach another file.",
            status=413,
        )
    return min(setting("ATTACHMENT_MAX_BYTES"), quota - used)


def check_size(size, room):
    """Refuse a file of `size` bytes that is empty or larger than `room`."""
    if size == 0:
        raise UploadRefused("The file is empty. Choose a file with something in it.")
    if size > room:
        largest = setting("ATTACHMENT_MAX_BYTES")
        if room < largest:
            raise UploadRefused(
                f"The file is {readable_size(size)}, but only {readable_size(room)} of your "
                "attachment space is left.",
                status=413,
            )
        raise UploadRefused(
            f"The file is {readable_size(size)}; a file may be at most {readable_size(largest)}.",
            status=413,
        )


def reusable_upload(note_id):
    """Return the note's pending upload with at least half its time left, or None."""
    lifetime = timedelta(minutes=setting("ATTACHMENT_UPLOAD_MINUTES"))
    return db.session.scalar(
        select(Attachment)
        .where(
            Attachment.note_id == note_id,
            Attachment.state == "pending",
            Attachment.expires_at > utcnow() + lifetime / 2,
        )
        .order_by(Attachment.expires_at.desc())
        .limit(1)
    )


def new_upload(user_id, note_id):
    """Add a pending upload for the note, unless the user has too many in flight."""
    lock_owner(user_id)  # uploads in flight are counted and added one at a time
    in_flight = db.session.scalar(
        select(func.count()).where(
            Attachment.user_id == user_id,
            Attachment.state == "pending",
            Attachment.expires_at > utcnow(),
        )
    )
    lifetime = timedelta(minutes=setting("ATTACHMENT_UPLOAD_MINUTES"))
    if in_flight >= setting("ATTACHMENT_PENDING_PER_USER"):
        minutes = setting("ATTACHMENT_UPLOAD_MINUTES")
        raise UploadRefused(
            f"You have started {in_flight} uploads in the last {minutes} minutes without "
            f"finishing them. Please try again in {minutes} minutes.",
            status=429,
            retry_after=int(lifetime.total_seconds()),
        )
    token = secrets.token_urlsafe(18)
    upload = Attachment(
        user_id=user_id,
        note_id=note_id,
        key=f"{ATTACHMENT_PREFIX}{user_id}/{token}",
        expires_at=utcnow() + lifetime,
    )
    db.session.add(upload)
    return upload


def start_upload(note, name=None, size=None):
    """Check the limits, then return a pending upload for the note and its size limit.

    `name` and `size` come from the script, which knows them before the upload; a plain
    form does not, so its file is checked on arrival only.
    """
    room = room_for_one_more(note.user_id, note.id)
    if size is not None:
        check_size(size, room)
    upload = reusable_upload(note.id) or new_upload(note.user_id, note.id)
    if name:
        upload.name = naming.clean_name(name) or None
    if db.session.new or db.session.dirty:
        db.session.commit()
    return upload, room


def upload_form(upload, room, after):
    """Sign the policy for a pending upload; return the form's URL and hidden fields."""
    expires_in = int((upload.expires_at - utcnow()).total_seconds())
    return storage.upload_form(upload_key(upload.key), room, expires_in, after, FILENAME_FIELD)


def discard(upload, message, status=400):
    """Forget an upload that is not accepted, delete what arrived, and refuse with `message`."""
    db.session.delete(upload)
    delete_objects([upload_key(upload.key)])
    db.session.commit()
    raise UploadRefused(message, status)


def find_upload(user_id, note_id, uploaded):
    """Return the user's upload for the note under the key the store reported, or refuse."""
    key = key_of_upload(uploaded or "")
    upload = key and db.session.scalar(
        select(Attachment).where(Attachment.key == key).with_for_update()
    )
    if not upload or upload.user_id != user_id:
        raise UploadRefused(
            "This upload was not started from your notes, or it was started too long ago. "
            "Please attach the file again.",
            status=404,
        )
    if upload.note_id != note_id:
        raise UploadRefused("This upload belongs to another note. Go back to that note.")
    return upload


def confirm_upload(note, uploaded):
    """Accept the file that arrived for an upload to the note, or delete it and refuse.

    Returns the attachment and whether this call confirmed it (False: it already was).
    """
    lock_owner(note.user_id)
    upload = find_upload(note.user_id, note.id, uploaded)
    if upload.state == "confirmed":
        return upload, False
    source = upload_key(upload.key)
    try:
        size, modified, metadata = storage.head(source)
    except storage.ObjectMissing:
        raise UploadRefused("No file arrived for this upload. Please attach it again.") from None
    check_arrival(upload, size, modified)
    name = upload.name or naming.clean_name(naming.name_from_metadata(metadata.get("filename")))
    try:
        content_type = naming.served_type(name, storage.first_bytes(source, naming.SNIFF_BYTES))
    except naming.TypeMismatch as error:
        discard(upload, f"{error} It was not attached.")
    storage.copy(source, upload.key)
    upload.name = name or naming.fallback_name(content_type)
    upload.content_type, upload.size = content_type, size
    upload.state, upload.confirmed_at = "confirmed", utcnow()
    delete_objects([source])
    db.session.commit()
    return upload, True


def check_arrival(upload, size, modified):
    """Discard an upload that came too late, or whose size the limits no longer allow."""
    transfer = timedelta(minutes=setting("ATTACHMENT_TRANSFER_MINUTES"))
    if modified > upload.expires_at + transfer:
        discard(
            upload,
            "The upload arrived after its permission had run out. Please attach the file again.",
        )
    try:
        check_size(size, room_for_one_more(upload.user_id, upload.note_id))
    except UploadRefused as refusal:
        discard(upload, f"{refusal} It was not attached.", refusal.status)


def delete_objects(keys=(), prefixes=()):
    """Have a job delete these objects once the session's transaction commits.

    The job is retried while the store is down; it is never queued if the transaction
    that forgets the rows rolls back.
    """
    jobs.defer(jobs.delete_objects, keys=list(keys), prefixes=list(prefixes))


def delete_user_attachments(user_id):
    """Have every attachment and upload of a user deleted once the account's deletion commits."""
    delete_objects(prefixes=user_prefixes(user_id))


def note_objects(note_id):
    """Return the keys of every object a note's attachments and uploads may have."""
    keys = db.session.scalars(select(Attachment.key).where(Attachment.note_id == note_id))
    return [object_key for key in keys for object_key in (key, upload_key(key))]


def delete_attachment(attachment):
    """Delete an attachment's row and, once that commits, its object."""
    db.session.delete(attachment)
    delete_objects([attachment.key])
    db.session.commit()


def sweep_cutoff():
    """Return the time before which an upload can no longer be arriving or confirmed."""
    lifetime = setting("ATTACHMENT_UPLOAD_MINUTES") + setting("ATTACHMENT_TRANSFER_MINUTES")
    return utcnow() - timedelta(minutes=lifetime)


def sweep_unconfirmed():
    """Forget uploads never confirmed in time and delete what they left; return the count.

    Also deletes objects under `attachment-uploads/` that no pending upload refers to any more (a
    refused file sent again, a copy whose clean-up failed), once they are old enough.
    """
    cutoff = sweep_cutoff()
    expired = db.session.scalars(
        select(Attachment)
        .where(Attachment.state == "pending", Attachment.expires_at < cutoff)
        .with_for_update(skip_locked=True)
    ).all()
    for upload in expired:
        storage.delete_key(upload_key(upload.key))
        db.session.delete(upload)
    db.session.commit()
    pending = set(db.session.scalars(select(Attachment.key).where(Attachment.state == "pending")))
    leftovers = [
        key
        for key, modified in storage.list_objects(UPLOAD_PREFIX)
        if modified < cutoff and key_of_upload(key) not in pending
    ]
    for key in leftovers:
        storage.delete_key(key)
    return len(expired) + len(leftovers)
