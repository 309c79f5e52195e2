"""Alembic environment: runs revisions safely against a database that is serving traffic.

What it adds to Flask-Migrate's stock environment (see README, "Migrations"):
- every session sets `lock_timeout` and `statement_timeout`, and a revision that
  cannot get its lock is retried with backoff, then fails with one clear line;
- one transaction per revision, online and in `--sql` output;
- one upgrader at a time: a polled `pg_try_advisory_lock`, committing between tries;
- a failure names the revision and its cause in one line, and leaves the database
  at the previous revision;
- a database ahead of this code (a platform rollback) is left alone when every
  unknown revision was recorded as backward compatible, else refused with the reason.
"""

import logging
import time
from logging.config import fileConfig

from alembic import context
from alembic.script import ScriptDirectory
from alembic.util import CommandError
from flask import current_app
from safe_ddl import RETRYABLE_SQLSTATES, sqlstate  # on sys.path: alembic.ini prepend_sys_path
from sqlalchemy import Connection, create_engine, pool, text
from sqlalchemy.exc import DBAPIError

from app.schema import COMPAT_TABLE, SchemaAhead, check_ahead, database_heads

config = context.config
if not logging.getLogger().handlers:
    # Run from the app (flask db ...), logs already go to stdout in the app's format.
    fileConfig(config.config_file_name, disable_existing_loggers=False)
logger = logging.getLogger("memo.migrations")

migrate_extension = current_app.extensions["migrate"]
settings = current_app.config
target_metadata = migrate_extension.db.metadata
script_directory = ScriptDirectory.from_config(config)

ADVISORY_LOCK_KEY = 7_314_420_552  # any constant; shared by every release of this app


def database_url():
    """Return the app's database URL, with its password, for Alembic."""
    return migrate_extension.db.engine.url.render_as_string(hide_password=False)


def include_name(name, type_, parent_names):
    """Leave this environment's bookkeeping table and the job queue's tables out of autogenerate.

    The job queue's schema is procrastinate's, installed from its own SQL (revision 0006).
    """
    return not (type_ == "table" and (name == COMPAT_TABLE or name.startswith("procrastinate_")))


def skip_empty_autogenerate(context, revision, directives):
    """Write no revision file when autogenerate finds no change."""
    if getattr(config.cmd_opts, "autogenerate", False) and directives[0].upgrade_ops.is_empty():
        directives[:] = []
        logger.info("No changes in schema detected.")


def session_settings():
    """Return the SET statements every migration session starts with."""
    return [
        f"SET lock_timeout = {int(settings['MIGRATION_LOCK_TIMEOUT_MS'])}",
        f"SET statement_timeout = {int(settings['MIGRATION_STATEMENT_TIMEOUT_MS'])}",
    ]


def run_migrations_offline():
    """Write the SQL of the migrations (`--sql`), one transaction per revision."""
    # The app logs to stdout, where the SQL goes: keep Alembic's chatter out of it.
    logging.getLogger("alembic").setLevel(logging.WARNING)
    context.configure(
        url=database_url(),
        target_metadata=target_metadata,
        literal_binds=True,
        include_name=include_name,
        **{**migrate_extension.configure_args, "transaction_per_migration": True},
    )
    for statement in session_settings():
        context.execute(statement)
    with context.begin_transaction():
        context.run_migrations()


def wait_for_advisory_lock(connection):
    """Become the only upgrader: poll a try-lock, ending each try's transaction.

    A blocking pg_advisory_lock would keep a snapshot open while it waits, and a
    concurrent CREATE INDEX CONCURRENTLY in the upgrader that holds the lock waits
    for that snapshot: a deadlock. Polling and committing between tries avoids it.
    """
    deadline = time.monotonic() + settings["MIGRATION_LOCK_WAIT_SECONDS"]
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
                "another `flask db upgrade` held the migration lock for more than "
                f"{settings['MIGRATION_LOCK_WAIT_SECONDS']} s; is one stuck? "
                "(see pg_locks where locktype = 'advisory')"
            )
        time.sleep(0.5)


def ensure_compat_table(connection):
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
    """Keep schema_revisions in step with alembic_version, in the revision's transaction."""
    if ctx.as_sql:
        return
    connection = ctx.connection
    if step.is_upgrade:
        script = script_directory.get_revision(step.up_revision_id)
        connection.execute(
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
    else:
        connection.execute(
            text(f"DELETE FROM {COMPAT_TABLE} WHERE revision = :revision"),
            {"revision": step.up_revision_id},
        )


def current_heads(connection):
    """Return the database's revisions, ending the read's transaction."""
    heads = database_heads(connection)
    connection.commit()
    return heads


def describe(error):
    """Return the first line of a database error, without SQLAlchemy's boilerplate."""
    original = getattr(error, "orig", None) or error
    return str(original).strip().splitlines()[0]


def pending_revision(connection):
    """Return the id of the revision an upgrade would run next, or None."""
    current = next(iter(current_heads(connection)), None)
    for script in script_directory.walk_revisions():
        if script.down_revision == current or (current is None and script.down_revision is None):
            return script.revision
    return None


def run_with_retries(connection, configure_args):
    """Run the migrations, retrying a revision that timed out waiting for a lock."""
    attempts = settings["MIGRATION_ATTEMPTS"]
    delay = settings["MIGRATION_RETRY_DELAY_SECONDS"]
    for attempt in range(1, attempts + 1):
        try:
            context.configure(connection=connection, **configure_args)
            with context.begin_transaction():
                context.run_migrations()
            return
        except DBAPIError as error:
            if connection.in_transaction():
                connection.rollback()
            revision = pending_revision(connection) or "?"
            cause = describe(error)
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
            logger.warning(
                "Attempt %d of %d: revision %s %s; retrying in %.1f s",
                attempt,
                attempts,
                revision,
                cause,
                delay,
            )
            time.sleep(delay)
            delay *= 2


def migrate_on(connection, configure_args):
    """Set the session's timeouts, become the only upgrader, and run the migrations."""
    for statement in session_settings():
        connection.execute(text(statement))
    connection.commit()
    wait_for_advisory_lock(connection)
    try:
        ensure_compat_table(connection)
        known = {script.revision for script in script_directory.walk_revisions()}
        unknown = current_heads(connection) - known
        if unknown and is_upgrade_command():
            try:
                explanation = check_ahead(connection, unknown, set(script_directory.get_heads()))
            except SchemaAhead as error:
                raise CommandError(str(error)) from None
            logger.warning("Nothing to do: %s, so the schema is left as it is", explanation)
            return
        run_with_retries(connection, configure_args)
    finally:
        if connection.in_transaction():
            connection.rollback()
        connection.execute(text("SELECT pg_advisory_unlock(:key)"), {"key": ADVISORY_LOCK_KEY})
        connection.execute(text("RESET lock_timeout"))
        connection.execute(text("RESET statement_timeout"))
        connection.commit()


def run_migrations_online():
    """Run the migrations on a connection of their own (or one a test harness passes in)."""
    configure_args = {
        **migrate_extension.configure_args,
        "target_metadata": target_metadata,
        "include_name": include_name,
        "transaction_per_migration": True,
        "on_version_apply": [record_revision],
    }
    configure_args.setdefault("process_revision_directives", skip_empty_autogenerate)
    given = config.attributes.get("connection")  # a test harness may pass its own
    if isinstance(given, Connection):
        migrate_on(given, configure_args)
        return
    # Otherwise a connection outside the app's pool, closed when done.
    engine = given or create_engine(database_url(), poolclass=pool.NullPool)
    try:
        with engine.connect() as connection:
            migrate_on(connection, configure_args)
    finally:
        if given is None:
            engine.dispose()


def is_upgrade_command():
    """Return whether this run is `upgrade` (the release phase), not downgrade or check."""
    # Alembic hands env.py no public name for its command; the work function it
    # passes to the environment is named after it (alembic.command.upgrade).
    work = context._proxy.context_opts.get("fn")
    return getattr(work, "__name__", "") == "upgrade"


if context.is_offline_mode():
    run_migrations_offline()
else:
    run_migrations_online()
