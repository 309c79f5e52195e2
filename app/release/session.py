"""The migration session: timeouts, the one-upgrader lock, and retries of a revision."""

import logging
import time
from contextlib import contextmanager

import tenacity
from alembic.util import CommandError
from sqlalchemy import text
from sqlalchemy.exc import DBAPIError

from app.errors import first_line
from app.schema import database_heads

logger = logging.getLogger("memo.migrations")

ADVISORY_LOCK_KEY = 7_314_420_552  # any constant; shared by every release of this app
LOCK_NOT_AVAILABLE = "55P03"
DEADLOCK_DETECTED = "40P01"
RETRYABLE_SQLSTATES = {LOCK_NOT_AVAILABLE, DEADLOCK_DETECTED}
MAX_RETRY_DELAY_SECONDS = 60


def sqlstate(error):
    """Return the PostgreSQL SQLSTATE of a DBAPI error, or None."""
    return getattr(getattr(error, "orig", None), "pgcode", None)


def session_settings(settings):
    """Return the SET statements every migration session starts with."""
    return [
        f"SET lock_timeout = {int(settings['MIGRATION_LOCK_TIMEOUT_MS'])}",
        f"SET statement_timeout = {int(settings['MIGRATION_STATEMENT_TIMEOUT_MS'])}",
    ]


@contextmanager
def migration_session(connection, settings):
    """Set the session's timeouts and become the only upgrader; undo both on the way out."""
    for statement in session_settings(settings):
        connection.execute(text(statement))
    connection.commit()
    wait_for_advisory_lock(connection, settings["MIGRATION_LOCK_WAIT_SECONDS"])
    try:
        yield connection
    finally:
        if connection.in_transaction():
            connection.rollback()
        connection.execute(text("SELECT pg_advisory_unlock(:key)"), {"key": ADVISORY_LOCK_KEY})
        connection.execute(text("RESET lock_timeout"))
        connection.execute(text("RESET statement_timeout"))
        connection.commit()


def wait_for_advisory_lock(connection, patience):
    """Poll a try-lock, ending each try's transaction, for up to `patience` seconds.

    A blocking pg_advisory_lock would keep a snapshot open while it waits, and a
    concurrent CREATE INDEX CONCURRENTLY in the upgrader that holds the lock waits
    for that snapshot: a deadlock. Polling and committing between tries avoids it.
    """
    deadline = time.monotonic() + patience
    announced = False
    while True:
        locked = connection.scalar(
            text("SELECT pg_try_advisory_lock(:key)"), {"key": ADVISORY_LOCK_KEY}
        )
        connection.commit()
        if locked:
            return
        if not announced:
            logger.info("Another upgrade is running; waiting for it to finish")
            announced = True
        if time.monotonic() > deadline:
            raise CommandError(
                f"another `flask db upgrade` held the migration lock for more than {patience} s;"
                " is one stuck? (see pg_locks where locktype = 'advisory')"
            )
        time.sleep(0.5)


def lock_timed_out(error):
    """Whether `error` is a revision giving up on a lock: worth another attempt."""
    return isinstance(error, DBAPIError) and sqlstate(error) in RETRYABLE_SQLSTATES


def run_with_retries(connection, migrate, settings, scripts):
    """Call `migrate()`, retrying while a revision times out waiting for a lock.

    Each retry waits a delay drawn below MIGRATION_RETRY_DELAY_SECONDS doubled per attempt,
    capped (pgroll's backoff): the randomness keeps a retry from meeting the same periodic
    transaction again.
    """
    attempts = settings["MIGRATION_ATTEMPTS"]

    def log_retry(state):
        logger.warning(
            "Attempt %d of %d: revision %s %s; retrying in %.2f s",
            state.attempt_number,
            attempts,
            pending_revision(connection, scripts) or "?",
            first_line(state.outcome.exception()),
            state.next_action.sleep,
        )

    retrying = tenacity.Retrying(
        retry=tenacity.retry_if_exception(lock_timed_out),
        stop=tenacity.stop_after_attempt(attempts),
        wait=tenacity.wait_random_exponential(
            multiplier=settings["MIGRATION_RETRY_DELAY_SECONDS"], max=MAX_RETRY_DELAY_SECONDS
        ),
        before_sleep=log_retry,
        reraise=True,
    )
    try:
        retrying(migrate_rolling_back, connection, migrate)
    except DBAPIError as error:
        revision = pending_revision(connection, scripts) or "?"
        cause = first_line(error)
        still_at = ", ".join(sorted(current_heads(connection))) or "base"
        if not lock_timed_out(error):
            raise CommandError(
                f"revision {revision} failed: {cause}; the database is still at {still_at}"
            ) from None
        raise CommandError(
            f"revision {revision} could not get its lock after {attempts} attempts "
            f"({cause}); a long transaction holds it (see pg_stat_activity). "
            f"The database is still at {still_at}"
        ) from None


def migrate_rolling_back(connection, migrate):
    """Call `migrate()`; if it fails, roll back what its transaction left open."""
    try:
        migrate()
    except DBAPIError:
        if connection.in_transaction():
            connection.rollback()
        raise


def pending_revision(connection, scripts):
    """Return the id of the revision an upgrade would run next, or None."""
    current = next(iter(current_heads(connection)), None)
    for script in scripts.walk_revisions():
        if script.down_revision == current:
            return script.revision
    return None


def current_heads(connection):
    """Return the database's revisions, ending the read's transaction."""
    heads = database_heads(connection)
    connection.commit()
    return heads
