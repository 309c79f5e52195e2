"""The release phase: `flask db upgrade` against a database the previous release is serving.

migrations/env.py wires Alembic to the pieces here:
- migration_session(): the session's lock and statement timeouts, and the advisory lock
  that makes this run the only upgrader;
- run_with_retries(): a revision that cannot get its lock in time is retried with
  jittered backoff, then fails with one line naming it and its cause;
- the compatibility record, table `schema_revisions`: each applied revision's
  `backward_compatible` mark, which check_rollback() reads when a platform rollback runs
  an older release against a newer schema (the readiness probe reads it too);
- helpers that revisions use to change live tables without blocking them.
"""

import logging
import random
import time
from contextlib import contextmanager

from alembic import context, op
from alembic.util import CommandError
from sqlalchemy import text
from sqlalchemy.exc import DBAPIError

logger = logging.getLogger("memo.migrations")

ADVISORY_LOCK_KEY = 7_314_420_552  # any constant; shared by every release of this app
COMPAT_TABLE = "schema_revisions"
LOCK_NOT_AVAILABLE = "55P03"
DEADLOCK_DETECTED = "40P01"
RETRYABLE_SQLSTATES = {LOCK_NOT_AVAILABLE, DEADLOCK_DETECTED}
MAX_RETRY_DELAY_SECONDS = 60


def first_line(error):
    """Return the first line of a database error, without SQLAlchemy's boilerplate."""
    return str(getattr(error, "orig", None) or error).strip().splitlines()[0]


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


def retry_delay(first, attempt):
    """Return a delay drawn below `first` doubled per attempt, capped (pgroll's backoff).

    The randomness keeps a retry from meeting the same periodic transaction again.
    """
    ceiling = min(MAX_RETRY_DELAY_SECONDS, first * 2 ** (attempt - 1))
    return random.uniform(0, ceiling)  # noqa: S311  (timing, not a secret)


def run_with_retries(connection, migrate, settings, scripts):
    """Call `migrate()`, retrying while a revision times out waiting for a lock."""
    attempts = settings["MIGRATION_ATTEMPTS"]
    for attempt in range(1, attempts + 1):
        try:
            migrate()
            return
        except DBAPIError as error:
            if connection.in_transaction():
                connection.rollback()
            revision = pending_revision(connection, scripts) or "?"
            cause = first_line(error)
            still_at = ", ".join(sorted(current_heads(connection))) or "base"
            if sqlstate(error) not in RETRYABLE_SQLSTATES:
                raise CommandError(
                    f"revision {revision} failed: {cause}; the database is still at {still_at}"
                ) from None
            if attempt == attempts:
                raise CommandError(
                    f"revision {revision} could not get its lock after {attempts} attempts "
                    f"({cause}); a long transaction holds it (see pg_stat_activity). "
                    f"The database is still at {still_at}"
                ) from None
            delay = retry_delay(settings["MIGRATION_RETRY_DELAY_SECONDS"], attempt)
            logger.warning(
                "Attempt %d of %d: revision %s %s; retrying in %.2f s",
                attempt,
                attempts,
                revision,
                cause,
                delay,
            )
            time.sleep(delay)


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


def database_heads(connection):
    """Return the revisions alembic_version holds (empty for a new database)."""
    if not connection.scalar(text("SELECT to_regclass('alembic_version') IS NOT NULL")):
        return set()
    return set(connection.scalars(text("SELECT version_num FROM alembic_version")))


# The compatibility record: schema_revisions, kept in step with alembic_version.


def ensure_compatibility_record(connection):
    """Create the table that records each applied revision's compatibility mark."""
    connection.execute(
        text(
            f"CREATE TABLE IF NOT EXISTS {COMPAT_TABLE} ("
            " revision varchar(32) PRIMARY KEY,"
            " down_revision varchar(32),"
            " backward_compatible boolean NOT NULL,"
            " description text NOT NULL DEFAULT '',"
            " applied_at timestamptz NOT NULL DEFAULT now())"
        )
    )
    connection.commit()


def record_revision(ctx, step, heads, run_args):
    """Write or delete a revision's record, in the revision's own transaction."""
    if ctx.as_sql:
        return
    if not step.is_upgrade:
        ctx.connection.execute(
            text(f"DELETE FROM {COMPAT_TABLE} WHERE revision = :revision"),
            {"revision": step.up_revision_id},
        )
        return
    script = step.up_revision
    ctx.connection.execute(
        text(
            f"INSERT INTO {COMPAT_TABLE} (revision, down_revision, backward_compatible,"
            " description) VALUES (:revision, :down, :compatible, :description)"
            " ON CONFLICT (revision) DO UPDATE SET backward_compatible ="
            " EXCLUDED.backward_compatible, applied_at = now()"
        ),
        {
            "revision": script.revision,
            "down": script.down_revision,
            "compatible": bool(getattr(script.module, "backward_compatible", False)),
            "description": (script.doc or "").strip().splitlines()[0][:200],
        },
    )


def compatibility_records(connection):
    """Return {revision: (down_revision, backward_compatible)} as recorded at upgrade."""
    if not connection.scalar(text(f"SELECT to_regclass('{COMPAT_TABLE}') IS NOT NULL")):
        return {}
    rows = connection.execute(
        text(f"SELECT revision, down_revision, backward_compatible FROM {COMPAT_TABLE}")
    )
    return {row.revision: (row.down_revision, row.backward_compatible) for row in rows}


class RollbackRefused(Exception):
    """The database is ahead of this release in a way this release must not run on."""


def check_rollback(connection, unknown, code_heads):
    """Explain why this older release may run on a newer schema, or raise RollbackRefused.

    Every revision between the database's heads and this code's heads must be
    recorded as backward compatible; then this release can serve as it is.
    """
    records = compatibility_records(connection)
    for head in sorted(unknown):
        revision = head
        while revision not in code_heads:
            if revision not in records:
                raise RollbackRefused(
                    f"the database is at revision {head}, which this release does not know, "
                    f"and nothing records whether {revision} is backward compatible; deploy "
                    "the release that has it, or downgrade the schema with that release first"
                )
            down_revision, compatible = records[revision]
            if not compatible:
                raise RollbackRefused(
                    f"the database is at revision {head}, ahead of this release "
                    f"({', '.join(sorted(code_heads))}), and revision {revision} is not marked "
                    "backward compatible, so this release's code may not work with it; roll "
                    "forward again, or run `flask db downgrade "
                    f"{', '.join(sorted(code_heads))}` with the newer release first"
                )
            revision = down_revision
    return (
        f"the database is at {', '.join(sorted(unknown))}, ahead of this release's head "
        f"{', '.join(sorted(code_heads))}; the newer revisions are marked backward compatible"
    )


def accept_newer_schema(connection, scripts):
    """Return whether the database is ahead of this release and may stay so; refuse if not."""
    known = {script.revision for script in scripts.walk_revisions()}
    unknown = current_heads(connection) - known
    if not unknown:
        return False
    try:
        explanation = check_rollback(connection, unknown, set(scripts.get_heads()))
    except RollbackRefused as error:
        raise CommandError(str(error)) from None
    logger.warning("Nothing to do: %s, so the schema is left as it is", explanation)
    return True


# Helpers for revisions. Keep each backward compatible: old revisions call them too.


def index_is_valid(name):
    """Return True, False (left INVALID by an interrupted build) or None (absent)."""
    return op.get_bind().scalar(
        text(
            "SELECT i.indisvalid FROM pg_index i JOIN pg_class c ON c.oid = i.indexrelid"
            " WHERE c.relname = :name"
        ),
        {"name": name},
    )


def create_index_concurrently(
    name, table, columns, unique=False, where=None, using=None, parameters=None
):
    """Build an index without blocking writes; rebuild one an interrupted run left INVALID.

    Must be called inside `op.get_context().autocommit_block()`. `IF NOT EXISTS`
    alone would keep an INVALID index forever, so the state is checked first.
    `using` names an access method other than btree ("gin"); `parameters` are its
    storage parameters ("fastupdate = off").
    """
    kind = "UNIQUE INDEX" if unique else "INDEX"
    method = f" USING {using}" if using else ""
    storage = f" WITH ({parameters})" if parameters else ""
    predicate = f" WHERE {where}" if where else ""
    create = (
        f'CREATE {kind} CONCURRENTLY "{name}" ON "{table}"{method} ({columns}){storage}{predicate}'
    )
    if context.is_offline_mode():
        op.execute(f"{create.replace('CONCURRENTLY', 'CONCURRENTLY IF NOT EXISTS', 1)}")
        return
    state = index_is_valid(name)
    if state is True:
        return
    # A concurrent build blocks no one, so the session's statement_timeout must not
    # kill it on a large table; the previous value comes back afterwards.
    previous = op.get_bind().scalar(text("SHOW statement_timeout"))
    op.execute("SET statement_timeout = 0")
    try:
        if state is False:
            op.execute(f'DROP INDEX CONCURRENTLY IF EXISTS "{name}"')
        op.execute(create)
    finally:
        op.execute(f"SET statement_timeout = '{previous}'")


def constraint_exists(table, name):
    """Return whether `table` has a constraint called `name` (always False offline)."""
    if context.is_offline_mode():
        return False
    return bool(
        op.get_bind().scalar(
            text(
                "SELECT 1 FROM pg_constraint WHERE conname = :name"
                " AND conrelid = to_regclass(:table)"
            ),
            {"name": name, "table": f'"{table}"'},
        )
    )
