"""Profile photos made by a worker: the web stores the upload as sent, a job makes the photo.

The web process never decodes an upload (app/images.py checks its signature only). The job
decodes it in a child process under limits, stores the WebP, swaps the user's photo and
deletes the upload and the photo it replaced. Two uploads at once leave exactly one photo:
the swap takes the user's row lock, and an upload that finishes after a newer one became
the photo is discarded. What is left over goes by app/objects.py's deletion job.
"""

import threading

from flask import current_app

from app import objects, storage
from app.extensions import db
from app.i18n.stored import stored_message
from app.images import REFUSALS, ImageError, profile_photo_limited
from app.models import PhotoUpload, TooManyUnfinished, User, lock_user

STORE_DOWN = stored_message(
    "The photo store did not answer, so this photo could not be saved. "
    "Your photo is unchanged; please upload it again in a moment."
)
for refusal in REFUSALS:  # images.py imports nothing of Memo's: its messages are marked here
    stored_message(refusal)
# A photo sent straight to the store was measured at its confirm; one sent again over it
# afterwards (the same form, still valid) is measured here, before anything decodes it.
TOO_LARGE = stored_message("This photo is too large to use. Please choose a smaller one.")

# One photo decodes at a time in a worker process: a decoding child holds the whole picture
# (a 40-megapixel RGBA PNG is 160 MB of pixels), and four job threads decoding at once took
# a worker with its children past what a 512 MB dyno can give. Another photo job waits this
# long for its turn, then goes back to the queue to try again (DecoderBusy) and frees its
# thread for other jobs.
DECODES = threading.BoundedSemaphore(1)
DECODE_TURN_SECONDS = 2


class DecoderBusy(Exception):
    """This worker is decoding another photo; the job runs again a little later."""


def store_upload(user_id, data):
    """Store the upload `data` privately, then record it as queued; return its row, uncommitted.

    The store is written before the account's row is locked (PhotoUpload.queue), so a store
    that hangs holds no lock. Raises TooManyUnfinished (what was stored is deleted) or
    StorageError.
    """
    limit = current_app.config["PHOTOS_UNFINISHED_PER_USER"]
    PhotoUpload.check_room(user_id, limit)  # most refusals cost the store nothing
    key = objects.photo_upload_key(user_id)
    storage.put_object(key, data)
    try:
        return PhotoUpload.queue(user_id, key, limit)
    except TooManyUnfinished:  # another upload took the room meanwhile
        db.session.rollback()
        objects.delete_later([key])
        db.session.commit()
        raise


def process_upload(upload_id):
    """Make the profile photo from an upload, or record why not; delete the upload."""
    upload = db.session.get(PhotoUpload, upload_id)
    if upload is None or upload.finished:
        return
    key, user_id, upload.status = upload.upload_key, upload.user_id, "running"
    db.session.commit()  # no transaction stays open while the child decodes
    try:
        data = storage.get_object(key)
        if len(data) > current_app.config["PHOTO_MAX_BYTES"]:
            raise ImageError(TOO_LARGE)
        photo = decode_alone(upload_id, data)
        url = objects.put_photo(user_id, *photo)
    except ImageError as error:
        finish(upload_id, "failed", str(error))
    except storage.StorageError:
        finish(upload_id, "failed", STORE_DOWN)
        raise  # logged with the job; the user may upload again
    else:
        swap_photo(upload_id, url)
    objects.delete_later([key])
    db.session.commit()


def decode_alone(upload_id, data):
    """Return profile_photo_limited(data), decoded while no other photo of this worker is;
    raise DecoderBusy when none ends within DECODE_TURN_SECONDS."""
    if not DECODES.acquire(timeout=DECODE_TURN_SECONDS):
        raise DecoderBusy(f"upload {upload_id} waits for this worker's other photo")
    try:
        return profile_photo_limited(data)
    finally:
        DECODES.release()


def finish(upload_id, status, error=None):
    """Record an upload's outcome, if its account still exists."""
    upload = db.session.get(PhotoUpload, upload_id)
    if upload is not None:
        upload.status, upload.error = status, error
        db.session.commit()


def swap_photo(upload_id, url):
    """Make `url` the user's photo unless a newer upload already is; delete what is left over."""
    upload = db.session.get(PhotoUpload, upload_id)
    if upload is None:  # the account is gone
        objects.delete_photo_later(url)
        db.session.commit()
        return
    lock_user(upload.user_id)
    upload.status = "done"
    if upload.is_newest_done():
        user = db.session.get(User, upload.user_id)
        leftover, user.image_url = user.image_url, url
    else:
        leftover = url
    objects.delete_photo_later(leftover)
    db.session.commit()
