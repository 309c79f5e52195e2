"""What the release phase and `flask release ...` write into the record beyond each revision."""

import logging

from alembic.operations import Operations
from alembic.util import CommandError
from sqlalchemy.exc import DBAPIError

from app.errors import first_line
from app.release.freeze import script_checksum
from app.release.history import ids
from app.release.records import parent_of, release_commit, update_record, write_record

logger = logging.getLogger("memo.migrations")


def backfill_record(connection, history):
    """Record what the database has but the record lacks, saying what it assumed.

    Run in the transaction of the revision that completed the record, or before migrating
    when it was complete already (records.Recorder): the caller commits.
    """
    for script in history.assumed:
        write_record(connection, script, note="backfilled: ran before the record existed")
    for script in history.unsummed:
        update_record(
            connection,
            script.revision,
            checksum=script_checksum(script),
            note=f"checksum backfilled by release {release_commit() or '?'}",
        )
    if history.assumed:
        logger.warning(
            "Backfilled the record: assumed %s ran, as this release's chain says, before "
            "the record existed",
            ids(history.assumed),
        )
    if history.unsummed:
        logger.warning(
            "Backfilled the record: checksums of %s taken from this release's files, "
            "assuming their code has not changed since they ran",
            ids(history.unsummed),
        )


def apply_skipped(context, connection, history):
    """Run the skipped revisions' upgrades, oldest first, each in its own transaction.

    alembic_version stays where it is: the database already counts them as applied.
    Then the relinked revisions' records take this code's parents, keeping what ran.
    """
    for script in history.skipped:
        logger.info("Applying skipped revision %s late: %s", script.revision, script.doc)
        try:
            with Operations.context(context), context.begin_transaction():
                script.module.upgrade()
                write_record(connection, script, note="applied late by flask release apply-skipped")
        except DBAPIError as error:
            if connection.in_transaction():
                connection.rollback()
            raise CommandError(
                f"revision {script.revision} failed: {first_line(error)}; the revisions "
                "before it are applied and recorded. Fix the cause and run `flask release "
                "apply-skipped` again"
            ) from None
    for script, record in history.relinked:
        update_record(
            connection,
            script.revision,
            down_revision=parent_of(script),
            note=f"ran on top of {record['down_revision']}; its skipped ancestors "
            "were applied late by flask release apply-skipped",
        )
    connection.commit()


def accept_checksums(connection, history):
    """Record this release's checksums for revisions whose code changed since they ran."""
    for script, record in history.changed:
        update_record(
            connection,
            script.revision,
            checksum=script_checksum(script),
            note=f"checksum {record['checksum'][:12]} replaced by release "
            f"{release_commit() or '?'} (flask release validate --accept-checksums)",
        )
    connection.commit()
