"""The bucket's key layout: every kind of object Memo stores, who deletes it, and the sweep.

One bucket holds six kinds of object, each under a prefix of its own:

    avatars/<user id>/<random>.<ext>                   profile photos, the only public ones
    uploads/<user id>/<random or token>                a photo as sent, until a worker made it
    attachments/<user id>/<token>                      attachments (presigned downloads only)
    attachment-uploads/<user id>/<note id>/<token>     an attachment as sent, until confirmed

    exports/<user id>/<random>.zip                     account export archives (presigned only)
    imports/<user id>/<token>                          an archive to import, until its job ran

Export archives go by the maintenance schedule (app/features/mypage/export.py); an account keeps one
(a new one replaces it), and the sweep deletes any no export row names, and aborts an
archive's upload that a killed worker left unfinished. The database
keeps each photo's public URL; `key_for_url` and `photo_url` are the one mapping between
that URL and its key. Objects are deleted by one retried job, `delete_objects`, deferred in
the transaction that forgets the rows naming them; one sweep deletes what no row names.
"""

import logging
import secrets
from datetime import timedelta
from typing import NamedTuple
from urllib.parse import urlsplit

from flask import current_app
from sqlalchemy import select, update

from app import jobs, storage
from app.extensions import db
from app.models import (
    UNFINISHED,
    AccountExport,
    AccountImport,
    Attachment,
    PhotoUpload,
    User,
    utcnow,
)

logger = logging.getLogger("memo.objects")
blueprint = jobs.Blueprint()
PHOTO_PREFIX = "avatars/"
PHOTO_UPLOAD_PREFIX = "uploads/"
ATTACHMENT_PREFIX = "attachments/"
ATTACHMENT_UPLOAD_PREFIX = "attachment-uploads/"
EXPORT_PREFIX = "exports/"
IMPORT_PREFIX = "imports/"
PREFIXES = (
    PHOTO_PREFIX,
    PHOTO_UPLOAD_PREFIX,
    ATTACHMENT_PREFIX,
    ATTACHMENT_UPLOAD_PREFIX,
    EXPORT_PREFIX,
    IMPORT_PREFIX,
)
# A photo's key never gets new content (a new photo gets a new key): caches may keep it.
PHOTO_CACHE_CONTROL = "public, max-age=31536000, immutable"
# A store that is down is tried again for about 2 hours (2, 4, 8 ... s apart, at most 15 minutes).
STORE_ATTEMPTS = 16
STORE_ERRORS = (*jobs.TRANSIENT_ERRORS, storage.StorageError)


# --- Photos -----------------------------------------------------------------------------


def photo_key(user_id, extension):
    """Return a new public key for one of the user's photos."""
    return f"{PHOTO_PREFIX}{user_id}/{secrets.token_urlsafe(16)}.{extension}"


def photo_upload_key(user_id):
    """Return a new private key for a photo as the user sent it."""
    return f"{PHOTO_UPLOAD_PREFIX}{user_id}/{secrets.token_urlsafe(16)}"


def photo_form_key(user_id, token):
    """Return the key my page's photo form sends a photo to, straight to the store."""
    return f"{PHOTO_UPLOAD_PREFIX}{user_id}/{token}"


def photo_url(key):
    """Return the public URL a photo's key is served at (S3_PUBLIC_URL, a CDN or the bucket)."""
    return f"{current_app.config['S3_PUBLIC_URL']}/{key}"


def key_for_url(url):
    """Return the key of a photo URL, on whatever base it was stored, or None for any other URL."""
    parts = urlsplit(url or "").path.rsplit("/", 3)
    if len(parts) == 4 and f"{parts[1]}/" == PHOTO_PREFIX:
        return "/".join(parts[1:])
    return None


def put_photo(user_id, data, content_type, extension):
    """Store a photo under a new key of the user's and return its public URL."""
    key = photo_key(user_id, extension)
    storage.put_object(key, data, content_type, PHOTO_CACHE_CONTROL)
    return photo_url(key)


# --- Attachments ------------------------------------------------------------------------


def attachment_key(user_id, token):
    """Return the key of an attachment once confirmed."""
    return f"{ATTACHMENT_PREFIX}{user_id}/{token}"


def attachment_upload_key(user_id, note_id, token):
    """Return the key a browser uploads an attachment's file to."""
    return f"{ATTACHMENT_UPLOAD_PREFIX}{user_id}/{note_id}/{token}"


def upload_key_of(attachment):
    """Return the upload key of an attachment row."""
    token = attachment.key.rsplit("/", 1)[1]
    return attachment_upload_key(attachment.user_id, attachment.note_id, token)


def attachment_of_upload(key):
    """Return the attachment key an upload key belongs to, or None for any other key."""
    parts = key.removeprefix(ATTACHMENT_UPLOAD_PREFIX).split("/")
    if not key.startswith(ATTACHMENT_UPLOAD_PREFIX) or len(parts) != 3:
        return None
    return attachment_key(parts[0], parts[2])


def note_upload_prefix(user_id, note_id):
    """Return the prefix under which the files sent for a note's uploads arrive."""
    return f"{ATTACHMENT_UPLOAD_PREFIX}{user_id}/{note_id}/"


def user_prefixes(user_id):
    """Return every prefix under which a user's objects of any kind are kept."""
    return [f"{prefix}{user_id}/" for prefix in PREFIXES]


# --- Export archives ------------------------------------------------------------------


def export_key(user_id):
    """Return a new private key for one of the user's export archives."""
    return f"{EXPORT_PREFIX}{user_id}/{secrets.token_urlsafe(16)}.zip"


# --- Archives to import ---------------------------------------------------------------
def import_key(user_id):
    """Return a new private key for an archive a user sent to import through the web."""
    return f"{IMPORT_PREFIX}{user_id}/{secrets.token_urlsafe(16)}"


def import_upload_key(user_id, token):
    """Return the key a browser sends an archive to import to, straight to the store."""
    return f"{IMPORT_PREFIX}{user_id}/{token}"


def import_window():
    """Return how long an archive to import may still be arriving or waiting for its confirm."""
    config = current_app.config
    return timedelta(minutes=config["IMPORT_UPLOAD_MINUTES"] + config["IMPORT_TRANSFER_MINUTES"])


# --- Deletion: one retried job ----------------------------------------------------------


def delete_later(keys=(), prefixes=()):
    """Have these objects (and all under `prefixes`) deleted once the transaction commits.

    The job is retried while the store is down; it is never queued if the transaction that
    forgets the rows rolls back.
    """
    keys = [key for key in keys if key]
    if keys or prefixes:
        jobs.defer(delete_objects, keys=keys, prefixes=list(prefixes))


def delete_photo_later(url):
    """Have the object behind a photo URL deleted once the transaction commits."""
    delete_later([key_for_url(url)])


@blueprint.task(name="delete_objects", retry=jobs.retrying(STORE_ATTEMPTS, errors=STORE_ERRORS))
def delete_objects(keys=(), prefixes=()):
    """Delete objects, and every object under `prefixes` (a missing key is already done)."""
    for key in keys:
        storage.delete_key(key)
    for prefix in prefixes:
        storage.delete_prefix(prefix)


# --- The sweep --------------------------------------------------------------------------


class Sweep(NamedTuple):
    """What a sweep listed, and the keys it found that nothing refers to."""

    listed: int
    orphans: list


def upload_window():
    """Return how long an attachment upload may still be arriving or being confirmed."""
    config = current_app.config
    return timedelta(
        minutes=config["ATTACHMENT_UPLOAD_MINUTES"] + config["ATTACHMENT_TRANSFER_MINUTES"]
    )


def forget_expired_uploads():
    """Delete attachment uploads started by the script and never confirmed in time."""
    expired = db.session.scalars(
        select(Attachment)
        .where(Attachment.state == "pending", Attachment.expires_at < utcnow() - upload_window())
        .with_for_update(skip_locked=True)
    ).all()
    for upload in expired:
        db.session.delete(upload)
    delete_later([upload_key_of(upload) for upload in expired])
    db.session.commit()
    return len(expired)


def photo_orphans(listed, cutoff):
    """Return photos and photo uploads older than `cutoff` that no row refers to."""
    urls = db.session.scalars(select(User.image_url).where(User.image_url.is_not(None)))
    uploads = db.session.scalars(
        select(PhotoUpload.upload_key).where(PhotoUpload.status.in_(UNFINISHED))
    )
    referenced = {key_for_url(url) for url in urls} | set(uploads)
    return [key for key, modified in listed if key not in referenced and modified < cutoff]


def attachment_states(keys):
    """Return the state of the attachment rows with these keys."""
    rows = db.session.execute(
        select(Attachment.key, Attachment.state).where(Attachment.key.in_(keys))
    )
    return dict(rows.all())


def attachment_orphans(listed, cutoff):
    """Return attachment objects older than `cutoff` that no row refers to."""
    states = attachment_states([key for key, _ in listed])
    return [key for key, modified in listed if key not in states and modified < cutoff]


def attachment_upload_orphans(listed):
    """Return upload objects of confirmed attachments (any age) or of none (once old enough)."""
    cutoff = utcnow() - upload_window()
    states = attachment_states([attachment_of_upload(key) for key, _ in listed])
    return [
        key
        for key, modified in listed
        if states.get(attachment_of_upload(key)) == "confirmed"
        or (modified < cutoff and attachment_of_upload(key) not in states)
    ]


def export_orphans(listed, cutoff):
    """Return archives older than `cutoff` that no export names (an account deleted while its
    archive was being written, a job that died between the upload and its record)."""
    keys = set(db.session.scalars(select(AccountExport.key).where(AccountExport.key.is_not(None))))
    return [key for key, modified in listed if key not in keys and modified < cutoff]


def import_orphans(listed, cutoff):
    """Return uploads to import that no unfinished import names, older than `cutoff` and than
    the window in which a browser may still be sending one or coming back to confirm it."""
    cutoff = min(cutoff, utcnow() - import_window())
    waiting = select(AccountImport.key).where(AccountImport.status.in_(UNFINISHED))
    keys = set(db.session.scalars(waiting))
    return [key for key, modified in listed if key not in keys and modified < cutoff]


def find_orphans(min_age):
    """List every kind of object and return those nothing refers to (see `sweep`)."""
    cutoff = utcnow() - min_age
    listed = {prefix: list(storage.list_objects(prefix)) for prefix in PREFIXES}
    orphans = [
        *photo_orphans(listed[PHOTO_PREFIX] + listed[PHOTO_UPLOAD_PREFIX], cutoff),
        *attachment_orphans(listed[ATTACHMENT_PREFIX], cutoff),
        *attachment_upload_orphans(listed[ATTACHMENT_UPLOAD_PREFIX]),
        *export_orphans(listed[EXPORT_PREFIX], cutoff),
        *import_orphans(listed[IMPORT_PREFIX], cutoff),
    ]
    return Sweep(sum(map(len, listed.values())), orphans)


def sweep(min_age=timedelta(hours=1), dry_run=False):
    """Forget expired uploads, then find (and unless `dry_run`, delete) what nothing refers to.

    Photos, photo uploads and attachments go once older than `min_age` (younger ones may be
    in flight); attachment uploads once older than their upload window, or at once when
    their attachment is already confirmed (the same policy sent again).
    """
    if not dry_run:
        forget_expired_uploads()
    found = find_orphans(min_age)
    if not dry_run:
        storage.abort_unfinished_uploads(EXPORT_PREFIX, utcnow() - min_age)
        delete_objects(found.orphans)
    return found


@blueprint.periodic(cron="*/10 * * * *", periodic_id="sweep")
@blueprint.task(
    name="sweep_objects",
    queueing_lock="sweep_objects",
    queue=jobs.MAINTENANCE_QUEUE,
    retry=jobs.retrying(3, errors=STORE_ERRORS),
)
def sweep_objects(timestamp):
    """Delete objects nothing refers to, of every kind (what `flask storage cleanup` does)."""
    swept = sweep()
    if swept.orphans:
        logger.info("deleted %s objects nothing refers to", len(swept.orphans))


# --- Moving photos to another public URL ------------------------------------------------


def rewrite_photo_urls(batch_size):
    """Point stored photo URLs at S3_PUBLIC_URL, one batch a transaction; yield each count.

    Yields (URLs rewritten, last user id) per batch. Resumable: a URL already on the current
    base is left alone, so a run stopped halfway (or run twice) changes only what is left. A
    photo replaced meanwhile is not touched.
    """
    base = f"{current_app.config['S3_PUBLIC_URL']}/"
    after = 0
    while True:
        rows = db.session.execute(
            select(User.id, User.image_url)
            .where(User.id > after, User.image_url.is_not(None))
            .where(~User.image_url.startswith(base, autoescape=True))
            .order_by(User.id)
            .limit(batch_size)
        ).all()
        if not rows:
            return
        moved = [(user_id, key_for_url(url), url) for user_id, url in rows if key_for_url(url)]
        for user_id, key, url in moved:
            db.session.execute(
                update(User)
                .where(User.id == user_id, User.image_url == url)
                .values(image_url=photo_url(key))
            )
        db.session.commit()
        after = rows[-1].id
        yield len(moved), after
