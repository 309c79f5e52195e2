"""The notes' upkeep: the trash emptied after TRASH_DAYS, history kept HISTORY_DAYS."""

import logging

import procrastinate

from app import jobs
from app.extensions import db
from app.notes import history, trash

blueprint = procrastinate.Blueprint()
logger = logging.getLogger("memo.notes")


@blueprint.periodic(cron="41 * * * *", periodic_id="hourly")
@blueprint.task(
    name="purge_trash_and_history",
    queueing_lock="purge_trash_and_history",
    queue=jobs.MAINTENANCE_QUEUE,
)
def purge_trash_and_history(timestamp):
    """Delete notes trashed TRASH_DAYS ago and versions older than HISTORY_DAYS."""
    notes = 0
    while purged := trash.purge():
        notes += purged
        db.session.commit()
    versions = history.delete_old()
    db.session.commit()
    logger.info("purged %s trashed notes and %s old versions", notes, versions)
