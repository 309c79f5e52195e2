"""Alembic environment: Flask-Migrate's stock template, wired to app/release/.

Differences from the template: one transaction per revision (online and in `--sql` output),
a migration session with timeouts and the upgraders' lock, retries of a revision that waits
too long for a lock, the record of applied revisions, and a database ahead of this code (a
platform rollback) left alone by `flask db upgrade` when every newer revision is backward
compatible. The record's table is revision 0034's: until it exists, the revisions that ran
are kept and recorded in that revision's transaction (app/release/records.py, Recorder).
`flask db upgrade` first checks that record against this code's chain and refuses a history
that disagrees (app/release/history.py); `flask release apply-skipped` runs what it skipped.
"""

import logging
from contextlib import contextmanager
from functools import partial
from logging.config import fileConfig

from alembic import context
from alembic.script import ScriptDirectory
from flask import current_app
from sqlalchemy import Connection, create_engine, pool

from app.release import history as release_history
from app.release import records, repair, session
from app.schema import COMPAT_TABLE
from config import direct_database_uri

config = context.config
if not logging.getLogger().handlers:
    # Run from the app (flask db ...), logs already go to stdout in the app's format.
    fileConfig(config.config_file_name, disable_existing_loggers=False)
logger = logging.getLogger("memo.migrations")

target_db = current_app.extensions["migrate"].db
settings = current_app.config
script_directory = ScriptDirectory.from_config(config)


def get_engine_url():
    """Return the app's direct database URL (never PgBouncer's), with its password, for Alembic."""
    return direct_database_uri(settings)


def include_name(name, type_, parent_names):
    """Leave the compatibility record and the job queue's tables out of autogenerate.

    The job queue's schema is procrastinate's, installed from its own SQL (revision 0006).
    """
    return not (type_ == "table" and (name == COMPAT_TABLE or name.startswith("procrastinate_")))


def configure_args():
    """Return Flask-Migrate's options plus ours, used online and offline alike."""
    return {
        **current_app.extensions["migrate"].configure_args,
        "target_metadata": target_db.metadata,
        "include_name": include_name,
        "transaction_per_migration": True,
    }


def run_migrations_offline():
    """Write the SQL of the migrations (`--sql`), one transaction per revision."""
    # The app logs to stdout, where the SQL goes: keep Alembic's chatter out of it.
    logging.getLogger("alembic").setLevel(logging.WARNING)
    context.configure(url=get_engine_url(), literal_binds=True, **configure_args())
    for statement in session.session_settings(settings):
        context.execute(statement)
    with context.begin_transaction():
        context.run_migrations()


def is_release_phase():
    """Return whether this run is `flask db upgrade` (not downgrade, current or check).

    The flag is set for that command alone (app/migrating.py, Flask-Migrate's configure
    callback).
    """
    return bool(config.attributes.get("release_phase"))


@contextmanager
def migration_connection():
    """Yield a connection outside the app's pool (or the one a test harness passes in)."""
    given = config.attributes.get("connection")
    if isinstance(given, Connection):
        yield given
        return
    engine = given or create_engine(get_engine_url(), poolclass=pool.NullPool)
    try:
        with engine.connect() as connection:
            yield connection
    finally:
        if given is None:
            engine.dispose()


def run_migrations_online():
    """Run the migrations in a migration session, retrying revisions that wait on a lock."""

    def process_revision_directives(context, revision, directives):
        if getattr(config.cmd_opts, "autogenerate", False):
            script = directives[0]
            if script.upgrade_ops.is_empty():
                directives[:] = []
                logger.info("No changes in schema detected.")

    conf_args = configure_args()
    conf_args.setdefault("process_revision_directives", process_revision_directives)

    with migration_connection() as connection, session.migration_session(connection, settings):

        def migrate():
            context.configure(connection=connection, **conf_args)
            with context.begin_transaction():
                context.run_migrations()

        if config.attributes.get("apply_skipped"):
            apply_skipped_revisions(connection, conf_args)
            return
        recorder = records.Recorder()
        if is_release_phase():
            if records.accept_newer_schema(connection, script_directory):
                return
            strict = settings["MIGRATION_STRICT"]
            history = release_history.validate_history(connection, script_directory, strict)
            recorder.backfill = partial(repair.backfill_record, history=history)
            recorder.write(connection)  # at once if the record is complete (revision 0034 ran)
            connection.commit()
        conf_args["on_version_apply"] = [recorder]
        session.run_with_retries(connection, migrate, settings, script_directory)


def apply_skipped_revisions(connection, conf_args):
    """Run the revisions a relinked history skipped (`flask release apply-skipped`)."""
    history = release_history.check_history(connection, script_directory)
    if not history.skipped and not history.relinked:
        logger.info("Nothing to apply: every revision below the database's head is recorded")
        return
    connection.commit()  # end the check's reads: each skipped revision begins its own transaction
    # One transaction per revision, begun by apply_skipped() itself.
    context.configure(connection=connection, **{**conf_args, "transaction_per_migration": False})
    repair.apply_skipped(context.get_context(), connection, history)


if context.is_offline_mode():
    run_migrations_offline()
else:
    run_migrations_online()
