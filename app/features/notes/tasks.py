"""The notes' upkeep: the trash emptied after TRASH_DAYS, history kept HISTORY_DAYS, tags
and summaries read from the text the previous release saved."""

import logging

from app import jobs
from app.extensions import db
from app.features.notes import changes, events, history, idempotency, renames, service, trash
from app.models import NoteRename

blueprint = jobs.Blueprint()
logger = logging.getLogger("memo.notes")


@blueprint.periodic(cron="41 * * * *", periodic_id="hourly")
@blueprint.task(
    name="purge_trash_and_history",
    queueing_lock="purge_trash_and_history",
    queue=jobs.MAINTENANCE_QUEUE,
)
def purge_trash_and_history(timestamp):
    """Delete notes trashed TRASH_DAYS ago, versions older than HISTORY_DAYS, tombstones older
    than TOMBSTONE_DAYS, events older than EVENT_DAYS and idempotency keys past their 24 h
    (every save from a page carries one)."""
    notes, cutoff = 0, trash.expired_before()
    while purged := service.purge_expired(cutoff):
        notes += purged
        db.session.commit()
    versions = history.delete_old()
    accounts = changes.prune_tombstones()
    old_events = events.delete_old()
    old_keys = idempotency.delete_old()
    db.session.commit()
    logger.info(
        "purged %s trashed notes, %s old versions, %s old events, %s old keys; "
        "tombstones of %s accounts",
        notes,
        versions,
        old_events,
        old_keys,
        accounts,
    )


@blueprint.periodic(cron="*/5 * * * *", periodic_id="retag")
@blueprint.task(name="retag_notes", queueing_lock="retag_notes", queue=jobs.MAINTENANCE_QUEUE)
def retag_notes(timestamp):
    """Read again, a batch at a time, every note whose tags, summary or HTML are older than
    its text (or missing), and number those the previous release wrote during a deploy.

    Every save of this release writes them with its text; this catches the rest: the notes
    that existed before they did, and those the previous release saved during a deploy.
    """
    retagged = 0
    while read := service.reread():
        db.session.commit()
        retagged += read
    while stamped := service.stamp_unstamped():
        db.session.commit()
        retagged += stamped
    if retagged:
        logger.info("retagged %s notes", retagged)


@blueprint.task(name="rename_notes")
def rename_notes(rename_id):
    """Make a rename across the account's notes (app/features/notes/renames.py)."""
    renames.run(rename_id)


def start_rename(user_id, kind, old, new):
    """Rename in the request, or queue it in the account's lane: return how many notes
    changed, or the queued NoteRename. Raise renames.Refused (nothing written). Callers commit."""
    started = renames.start(user_id, kind, old, new)
    if isinstance(started, NoteRename):
        jobs.defer_for_user(user_id, rename_notes, rename_id=started.id)
    return started
