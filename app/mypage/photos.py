"""Profile photos made by a worker: the web stores the upload as sent, a job makes the photo.

The web process never decodes an upload (app/images.py checks its signature only). The job
decodes it in a child process under limits, stores the WebP, swaps the user's photo and
deletes the upload and the photo it replaced. Two uploads at once leave exactly one photo:
the swap takes the user's row lock, and an upload that finishes after a newer one became
the photo is discarded.
"""

from datetime import timedelta

from flask import current_app
from sqlalchemy import select

from app import jobs, storage
from app.extensions import db
from app.images import ImageError, profile_photo_limited
from app.models import UNFINISHED, PhotoUpload, User, lock_user, utcnow

STORE_DOWN = (
    "The photo store did not answer, so this photo could not be saved. "
    "Your photo is unchanged; please upload it again in a moment."
)


def accept_upload(user_id, data):
    """Queue the upload `data` for processing: stored privately, with its job, in one go.

    Raises TooManyUnfinished (nothing stored) or StorageError (nothing committed).
    """
    key = storage.new_upload_key(user_id)
    upload = PhotoUpload.queue(user_id, key, current_app.config["PHOTOS_UNFINISHED_PER_USER"])
    storage.put_private(key, data)
    jobs.defer(jobs.process_photo, upload_id=upload.id)
    db.session.commit()


def process_upload(upload_id):
    """Make the profile photo from an upload, or record why not; delete the upload."""
    upload = db.session.get(PhotoUpload, upload_id)
    if upload is None or upload.finished:
        return
    key, user_id, upload.status = upload.upload_key, upload.user_id, "running"
    db.session.commit()  # no transaction stays open while the child decodes
    try:
        photo = profile_photo_limited(storage.get_object(key))
        url = storage.put_image(user_id, *photo)
    except ImageError as error:
        finish(upload_id, "failed", str(error))
    except storage.StorageError:
        finish(upload_id, "failed", STORE_DOWN)
        raise  # logged with the job; the user may upload again
    else:
        swap_photo(upload_id, url)
    storage.delete_or_log(key, storage.delete_key, key)


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
        storage.delete_photo(url)
        return
    lock_user(upload.user_id)
    upload.status = "done"
    if upload.is_newest_done():
        user = db.session.get(User, upload.user_id)
        leftover, user.image_url = user.image_url, url
    else:
        leftover = url
    db.session.commit()
    storage.delete_photo(leftover)


def delete_user_objects(user_id):
    """Delete every photo and upload of a deleted account; StorageError lets the job retry."""
    for kind in (storage.PHOTO_PREFIX, storage.UPLOAD_PREFIX):
        storage.delete_prefix(storage.user_prefix(user_id, kind))


def referenced_keys():
    """Return the keys some user's photo, or some unfinished upload, refers to."""
    urls = db.session.scalars(select(User.image_url).where(User.image_url.is_not(None)))
    uploads = db.session.scalars(
        select(PhotoUpload.upload_key).where(PhotoUpload.status.in_(UNFINISHED))
    )
    return {storage.key_for_url(url) for url in urls} | set(uploads)


def orphaned_objects(min_age):
    """Return (objects listed, keys of those nothing refers to and older than `min_age`)."""
    cutoff = utcnow() - min_age
    referenced = referenced_keys()
    listed = [
        item
        for prefix in (storage.PHOTO_PREFIX, storage.UPLOAD_PREFIX)
        for item in storage.list_objects(prefix)
    ]
    orphans = [key for key, modified in listed if key not in referenced and modified < cutoff]
    return listed, orphans


def delete_orphaned_objects(min_age=timedelta(hours=1)):
    """Delete the objects nothing refers to; return how many."""
    _, orphans = orphaned_objects(min_age)
    for key in orphans:
        storage.delete_key(key)
    return len(orphans)
