"""My page's jobs: make a profile photo from an upload, write an export, delete old exports."""

from app import jobs, storage
from app.extensions import db
from app.features.mypage import export, importing, photos
from app.models import AccountExport, AccountImport

blueprint = jobs.Blueprint()


# A photo waiting for its worker's decoder (DecoderBusy) tries again after 2, 4, 8 ... s.
@blueprint.task(
    name="process_photo",
    retry=jobs.retrying(max_attempts=8, errors=(*jobs.TRANSIENT_ERRORS, photos.DecoderBusy)),
)
def process_photo(upload_id):
    """Make the profile photo from an upload (a store that fails fails the upload at once)."""
    photos.process_upload(upload_id)


def queue_photo(user_id, data):
    """Queue the upload `data` for processing: stored privately, with its job, in one go.

    Raises TooManyUnfinished (nothing stored) or StorageError (nothing committed).
    """
    queue_processing(photos.store_upload(user_id, data))


def queue_processing(upload):
    """Queue the processing of a photo upload in its user's lane, and commit."""
    jobs.defer_for_user(upload.user_id, process_photo, upload_id=upload.id)
    db.session.commit()


@blueprint.task(
    name="write_export", retry=jobs.retrying(max_attempts=3, errors=(*jobs.TRANSIENT_ERRORS,))
)
def write_export(export_id):
    """Write an export's archive to the store and record where; a store that fails fails it."""
    export.write(export_id)


def start_export(user_id):
    """Queue an export of the user's account in the user's lane, unless one is in flight;
    return (export, new)."""
    started, new = AccountExport.start(user_id)
    if new:
        jobs.defer_for_user(user_id, write_export, export_id=started.id)
    db.session.commit()
    return started, new


@blueprint.periodic(cron="23 * * * *", periodic_id="hourly")
@blueprint.task(
    name="delete_old_exports", queueing_lock="delete_old_exports", retry=jobs.retrying(3)
)
def delete_old_exports(timestamp):
    """Delete export archives (and their rows) older than EXPORT_KEEP."""
    export.delete_old()


@blueprint.task(name="import_archive", retry=jobs.retrying(max_attempts=3))
def import_archive(import_id):
    """Import an uploaded archive or text file into its account
    (app/features/mypage/importing.py)."""
    importing.run(import_id)


def start_import(user_id, key, name, data=None):
    """Queue the import of the archive under `key` (storing `data` there first, for one sent
    through the web), in the user's lane; return False, nothing written, if one is in flight."""
    started = AccountImport.start(user_id, key, name)
    if started is None:
        db.session.rollback()
        return False
    if data is not None:
        storage.put_object(key, data)
    jobs.defer_for_user(user_id, import_archive, import_id=started.id)
    db.session.commit()
    return True
