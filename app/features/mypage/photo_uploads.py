"""A profile photo goes from my page straight to the store, never through the web.

My page signs a POST policy for one key, `uploads/<user id>/<token>` (app/objects.py), of at
most PHOTO_MAX_BYTES; the key stays the same until a photo is confirmed
(app/features/mypage/signed_uploads.py), so an account holds at most one unconfirmed photo in the
store. The store sends the browser back to a page that writes nothing and holds one button
(pressed by a script at once, or by the person): a short POST that checks what arrived (its
size, its time) and queues it as the multipart route does (app/features/mypage/photos.py): the
worker decodes it under limits, makes the photo and swaps it in. `POST /mypage/photo` still takes a
photo through the web (scripts, and the front's upload slots guard it).
"""

from datetime import timedelta

from flask import url_for
from flask_babel import gettext
from flask_babel import lazy_gettext as _l

from app import objects, storage
from app.errors import STORE_DOWN, Refused
from app.extensions import db
from app.features import setting
from app.features.mypage import signed_uploads, tasks
from app.i18n.formats import file_size
from app.models import PhotoUpload, lock_user, utcnow

PURPOSE = "photo-upload"
NOT_SENT = _l(
    "This photo was not sent from your page, or it was sent too long ago. Please choose it again."
)


class PhotoRefused(Refused):
    """A confirm that queues no photo; the message tells the user why."""


def lifetime():
    """Return how long a signed policy stays valid at least: the upload must start by then."""
    return timedelta(minutes=setting("PHOTO_UPLOAD_MINUTES"))


def key_of(ticket):
    return objects.photo_form_key(ticket.user_id, ticket.token)


def form_ticket(user_id, latest_upload):
    """Return the ticket of my page's photo form: the same key until a photo is confirmed."""
    latest = latest_upload.id if latest_upload is not None else 0
    return signed_uploads.form_ticket(PURPOSE, user_id, latest, utcnow(), lifetime())


def page_form(user_id, latest_upload):
    """Return my page's photo form, signed for one upload to the store (writes nothing)."""
    ticket = form_ticket(user_id, latest_upload)
    signed = signed_uploads.sign(PURPOSE, ticket)
    back = url_for("mypage.photo_arrived", upload=signed, _external=True)
    expires_in = int((ticket.expires_at - utcnow()).total_seconds())
    sizes = (1, setting("PHOTO_MAX_BYTES"))
    try:
        return signed_uploads.PageForm(
            *storage.upload_form(
                key_of(ticket), sizes, expires_in, ("redirect", back), signed_uploads.FILENAME_FIELD
            )
        )
    except storage.StorageError:
        return signed_uploads.PageForm(refusal=str(STORE_DOWN))


def discard(key, message, status):
    """Delete what arrived under `key` and refuse with `message`."""
    objects.delete_later([key])
    db.session.commit()
    raise PhotoRefused(message, status)


def check_arrival(ticket):
    """Refuse (deleting it) a photo that did not arrive, is empty, too large or too late."""
    key = key_of(ticket)
    try:
        size, modified, _ = storage.head(key)
    except storage.ObjectMissing:
        raise PhotoRefused(
            gettext("No photo arrived. Please choose it again."), status=400
        ) from None
    largest = setting("PHOTO_MAX_BYTES")
    if size == 0:
        discard(key, gettext("The file is empty. Choose a photo to upload."), 400)
    if size > largest:
        message = gettext(
            "The photo is %(size)s; a photo may be at most %(largest)s. Choose a smaller one.",
            size=file_size(size),
            largest=file_size(largest),
        )
        discard(key, message, 413)
    if modified > ticket.expires_at + timedelta(minutes=setting("PHOTO_TRANSFER_MINUTES")):
        message = gettext(
            "The photo arrived after its permission had run out. Please choose it again."
        )
        discard(key, message, 400)


def confirm(user_id, signed):
    """Queue the photo that arrived for a signed upload; return True if this call queued it,
    False if it was queued already. Refuses with PhotoRefused or TooManyUnfinished."""
    ticket = signed_uploads.read_ticket(PURPOSE, signed, user_id)
    if ticket is None:
        raise PhotoRefused(NOT_SENT, 404)
    lock_user(user_id)  # two confirms of one key queue it once
    if PhotoUpload.of_key(user_id, key_of(ticket)) is not None:
        return False
    check_arrival(ticket)
    upload = PhotoUpload.queue(user_id, key_of(ticket), setting("PHOTOS_UNFINISHED_PER_USER"))
    tasks.queue_processing(upload)
    return True
