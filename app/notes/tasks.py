"""The notes' upkeep: the trash emptied after TRASH_DAYS, history kept HISTORY_DAYS, tags
and summaries read from the text the previous release saved."""

import logging

import procrastinate
from sqlalchemy import bindparam, text
from sqlalchemy.dialects.postgresql import JSONB

from app import jobs
from app.extensions import db
from app.markdown import summary
from app.notes import history, trash
from app.tags import note_tags

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


# Each batch holds its notes' row locks while it reads and writes their tags: small enough
# that a save of one of them waits a few milliseconds at most.
RETAG_BATCH = 200

# Each part of the OR has its partial index (ix_note_untagged, ix_note_unsummarised,
# ix_note_unread).
UNTAGGED = text(
    "SELECT id, title, content, version FROM note"
    " WHERE tagged_version IS DISTINCT FROM version OR preview IS NULL"
    " OR read_version IS DISTINCT FROM version ORDER BY id"
    " LIMIT :limit FOR UPDATE SKIP LOCKED"
)
RETAG = text(
    "UPDATE note SET tags = :tags, tagged_version = :version, preview = :preview,"
    " tasks_done = :tasks_done, tasks_total = :tasks_total,"
    " open_tasks = :open_tasks, read_version = :version"
    " WHERE id = :id AND version = :version"
).bindparams(bindparam("open_tasks", type_=JSONB))


@blueprint.periodic(cron="*/5 * * * *", periodic_id="retag")
@blueprint.task(name="retag_notes", queueing_lock="retag_notes", queue=jobs.MAINTENANCE_QUEUE)
def retag_notes(timestamp):
    """Set the tags and summary of every note whose tags or summary are older than its text
    (or missing), a batch at a time.

    Every save of this release writes them with its text; this catches the rest: the notes
    that existed before they did, and those the previous release saved during a deploy.
    """
    retagged = 0
    while rows := db.session.execute(UNTAGGED, {"limit": RETAG_BATCH}).all():
        for row in rows:
            tags = note_tags(row.title, row.content)
            facts = summary(row.content)
            db.session.execute(
                RETAG,
                {
                    "id": row.id,
                    "tags": tags,
                    "version": row.version,
                    "preview": facts.preview,
                    "tasks_done": facts.tasks_done,
                    "tasks_total": facts.tasks_total,
                    "open_tasks": facts.open_tasks,
                },
            )
        db.session.commit()
        retagged += len(rows)
    if retagged:
        logger.info("retagged %s notes", retagged)
