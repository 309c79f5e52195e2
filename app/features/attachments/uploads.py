"""The life of an attachment: a signed upload, its confirmation, its download and its deletion.

The web process never carries a file's bytes. It signs a policy that lets the browser POST
one file to `attachment-uploads/<user id>/<note id>/<token>`, then, when the browser comes
back, checks what arrived (size, limits, type against the first bytes) and has the store copy
it to `attachments/<user id>/<token>`, the attachment's key. Objects left under
`attachment-uploads/` are never confirmed ones, so a lifecycle rule on that prefix may
expire them (see docs/attachments.md); the sweep (app/objects.py) does the same from Memo's
side. The key layout is app/objects.py's.

Showing the form writes nothing: the upload it signs is a Ticket (user, note, token, expiry,
largest size) that travels signed in the URL the store sends the browser back to, and
confirm checks that signature. A row exists once a file is confirmed, or once the page's
script has asked, by a POST, to start an upload (those are counted, to bound them).
"""

import secrets
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from flask import current_app
from flask_babel import gettext
from flask_babel import lazy_gettext as _l
from itsdangerous import BadSignature, URLSafeSerializer
from sqlalchemy import func, select

from app import objects, storage
from app.errors import Refused
from app.extensions import db
from app.features import setting
from app.features.attachments import naming
from app.i18n.formats import file_size
from app.models import Attachment, lock_user, utcnow

FILENAME_FIELD = "x-amz-meta-filename"
TOKEN_LENGTH = 24  # 18 random or HMAC bytes in URL-safe base64
NOT_STARTED = _l(
    "This upload was not started from your notes, or it was started too long ago. "
    "Please attach the file again."
)


@dataclass(frozen=True)
class Ticket:
    """One upload Memo signed: whose, for which note, under which token, until when, how large."""

    user_id: int
    note_id: int
    token: str
    expires_at: datetime
    max_bytes: int

    @property
    def key(self):
        """Return the key the attachment gets once confirmed."""
        return objects.attachment_key(self.user_id, self.token)

    @property
    def upload_key(self):
        """Return the key the browser uploads the file to."""
        return objects.attachment_upload_key(self.user_id, self.note_id, self.token)


class UploadRefused(Refused):
    """An upload may not start, or what arrived is not accepted; the message tells the user."""

    problem = "upload-refused"


def serializer():
    """Return the signer of tickets: the app's secret key, with a salt of its own."""
    return URLSafeSerializer(current_app.secret_key, salt="attachment-upload")


def sign(ticket):
    """Return a ticket as a URL-safe signed string."""
    expires = int(ticket.expires_at.timestamp())
    fields = [ticket.user_id, ticket.note_id, ticket.token, expires, ticket.max_bytes]
    return serializer().dumps(fields)


def read_ticket(signed, note):
    """Return the ticket a confirm carries for the note, or refuse one Memo did not sign."""
    try:
        user_id, note_id, token, expires, max_bytes = serializer().loads(signed or "")
    except (BadSignature, TypeError, ValueError):
        raise UploadRefused(NOT_STARTED, 404) from None
    if user_id != note.user_id:
        raise UploadRefused(NOT_STARTED, 404)
    if note_id != note.id:
        raise UploadRefused(gettext("This upload belongs to another note. Go back to that note."))
    return Ticket(user_id, note_id, token, datetime.fromtimestamp(expires, UTC), max_bytes)


def note_attachments(note_id):
    """Return a note's confirmed attachments, oldest first."""
    return db.session.scalars(
        select(Attachment)
        .where(Attachment.note_id == note_id, Attachment.state == "confirmed")
        .order_by(Attachment.created_at, Attachment.id)
    ).all()


def download_url(attachment, seconds=None):
    """Return a link that downloads the attachment under its own name and type for `seconds`
    (by default ATTACHMENT_DOWNLOAD_SECONDS)."""
    return storage.download_url(
        attachment.key,
        naming.content_disposition(attachment.name),
        attachment.content_type,
        setting("ATTACHMENT_DOWNLOAD_SECONDS") if seconds is None else seconds,
    )


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
    return room_left(*usage(user_id, note_id))


def room_left(on_note, used):
    """Return the largest file that still fits beside the note's `on_note` and the user's `used`."""
    per_note, quota = setting("ATTACHMENTS_PER_NOTE"), setting("ATTACHMENT_QUOTA_BYTES")
    if on_note >= per_note:
        raise UploadRefused(
            gettext(
                "This note has reached its limit of %(count)s attachments. "
                "Delete one to attach another file.",
                count=per_note,
            )
        )
    if used >= quota:
        raise UploadRefused(
            gettext(
                "Your attachments use all of your %(quota)s. Delete some to attach another file.",
                quota=file_size(quota),
            ),
            status=413,
        )
    return min(setting("ATTACHMENT_MAX_BYTES"), quota - used)


def check_size(size, room):
    """Refuse a file of `size` bytes that is empty or larger than `room`."""
    if size == 0:
        raise UploadRefused(gettext("The file is empty. Choose a file with something in it."))
    if size > room:
        largest = setting("ATTACHMENT_MAX_BYTES")
        if room < largest:
            raise UploadRefused(
                gettext(
                    "The file is %(size)s, but only %(room)s of your attachment space is left.",
                    size=file_size(size),
                    room=file_size(room),
                ),
                status=413,
            )
        raise UploadRefused(
            gettext(
                "The file is %(size)s; a file may be at most %(largest)s.",
                size=file_size(size),
                largest=file_size(largest),
            ),
            status=413,
        )


def upload_lifetime():
    """Return how long a signed upload policy stays valid."""
    return timedelta(minutes=setting("ATTACHMENT_UPLOAD_MINUTES"))


def new_upload(user_id, note_id):
    """Add a pending upload for the note, unless the user has too many in flight."""
    lock_user(user_id)  # uploads in flight are counted and added one at a time
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
            gettext(
                "You have started %(count)s uploads in the last %(minutes)s minutes without "
                "finishing them. Please try again in %(minutes)s minutes.",
                count=in_flight,
                minutes=minutes,
            ),
            status=429,
            retry_after=int(lifetime.total_seconds()),
        )
    token = secrets.token_urlsafe(18)
    upload = Attachment(
        user_id=user_id,
        note_id=note_id,
        key=objects.attachment_key(user_id, token),
        expires_at=utcnow() + lifetime,
    )
    db.session.add(upload)
    return upload


def start_upload(note, name, size):
    """Check a file the script announces against the limits; record and return its ticket."""
    room = room_for_one_more(note.user_id, note.id)
    check_size(size, room)
    upload = new_upload(note.user_id, note.id)
    upload.name = naming.clean_name(name or "") or None
    db.session.commit()
    token = upload.key.rsplit("/", 1)[1]
    return Ticket(note.user_id, note.id, token, upload.expires_at, size)


def upload_form(ticket, after, exact=False):
    """Sign the store's policy for a ticket; return the form's URL and hidden fields.

    `exact`: the file must be of the ticket's size (the script announced it), not up to it.
    """
    expires_in = int((ticket.expires_at - utcnow()).total_seconds())
    sizes = (ticket.max_bytes if exact else 1, ticket.max_bytes)
    return storage.upload_form(ticket.upload_key, sizes, expires_in, after, FILENAME_FIELD)


def discard(upload, message, status=400):
    """Forget an upload that is not accepted, delete what arrived, and refuse with `message`.

    Deletes the copy under the attachment's key too, if confirm made one: nothing else can
    be there, since that key is confirmed only here, under the user's lock.
    """
    if upload.id is not None:  # a row the script's start made
        db.session.delete(upload)
    objects.delete_later([objects.upload_key_of(upload), upload.key])
    db.session.commit()
    raise UploadRefused(message, status)


def find_upload(ticket):
    """Return the row of a ticket's upload (locked), or a new, unsaved pending one."""
    upload = db.session.scalar(
        select(Attachment).where(Attachment.key == ticket.key).with_for_update()
    )
    if upload is not None:
        return upload
    return Attachment(
        user_id=ticket.user_id,
        note_id=ticket.note_id,
        key=ticket.key,
        state="pending",
        expires_at=ticket.expires_at,
    )


def confirm_upload(note, signed):
    """Accept the file that arrived for a signed upload to the note, or delete it and refuse.

    Returns the attachment and whether this call confirmed it (False: it already was). The
    store is asked before the account's row is locked, so a store that hangs holds no lock.
    """
    ticket = read_ticket(signed, note)
    arrived = None if already_confirmed(ticket) else copy_arrival(ticket)
    lock_user(note.user_id)
    upload = find_upload(ticket)
    if upload.state == "confirmed":
        # A policy stays valid for its 10 minutes: a file sent again with it is never kept.
        objects.delete_later([ticket.upload_key])
        db.session.commit()
        return upload, False
    if arrived is None:
        raise UploadRefused(gettext("No file arrived for this upload. Please attach it again."))
    modified, size, metadata, first_bytes = arrived
    check_arrival(upload, modified)
    check_size_kept(upload, ticket, size)
    name = upload.name or naming.clean_name(naming.name_from_metadata(metadata.get("filename")))
    try:
        content_type = naming.served_type(name, first_bytes)
    except naming.TypeMismatch as error:
        discard(upload, gettext("%(reason)s It was not attached.", reason=error))
    upload.name = name or naming.fallback_name(content_type)
    upload.content_type, upload.size = content_type, size
    upload.state, upload.confirmed_at = "confirmed", utcnow()
    db.session.add(upload)
    objects.delete_later([ticket.upload_key])
    db.session.commit()
    return upload, True


def already_confirmed(ticket):
    """Return whether the ticket's upload was confirmed (read without a lock)."""
    state = db.session.scalar(select(Attachment.state).where(Attachment.key == ticket.key))
    return state == "confirmed"


def copy_arrival(ticket):
    """Copy what arrived for the ticket to the attachment's key; return (its arrival time,
    the copy's size, its metadata, its first bytes), or None if nothing arrived.

    Copied first, then read: the size charged and the type found are those of the copy kept,
    whatever the upload key receives meanwhile. The copy's key takes no upload.
    """
    try:
        _, modified, metadata = storage.head(ticket.upload_key)
    except storage.ObjectMissing:
        return None
    storage.copy(ticket.upload_key, ticket.key)
    size = storage.head(ticket.key)[0]
    first_bytes = storage.first_bytes(ticket.key, naming.SNIFF_BYTES) if size else b""
    return modified, size, metadata, first_bytes


def check_arrival(upload, modified):
    """Discard an upload that came too late."""
    transfer = timedelta(minutes=setting("ATTACHMENT_TRANSFER_MINUTES"))
    if modified > upload.expires_at + transfer:
        discard(
            upload,
            gettext(
                "The upload arrived after its permission had run out. Please attach the file again."
            ),
        )


def check_size_kept(upload, ticket, size):
    """Discard a copy larger than its ticket allowed, or than the limits now allow."""
    try:
        check_size(size, room_for_one_more(upload.user_id, upload.note_id))
        if size > ticket.max_bytes:
            raise UploadRefused(
                gettext(
                    "The file is %(size)s, larger than the %(allowed)s its upload was started for.",
                    size=file_size(size),
                    allowed=file_size(ticket.max_bytes),
                ),
                status=413,
            )
    except UploadRefused as refusal:
        discard(upload, gettext("%(reason)s It was not attached.", reason=refusal), refusal.status)


def delete_note_attachments(note):
    """Have a note's attachments and the files sent for it deleted once its deletion commits."""
    keys = db.session.scalars(select(Attachment.key).where(Attachment.note_id == note.id))
    objects.delete_later(list(keys), [objects.note_upload_prefix(note.user_id, note.id)])


def delete_attachment(attachment):
    """Delete an attachment's row and, once that commits, its object."""
    db.session.delete(attachment)
    objects.delete_later([attachment.key])
    db.session.commit()
