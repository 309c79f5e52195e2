"""`flask release validate|apply-skipped`: the release phase's extras, beside Flask-Migrate's `db`.

The release phase itself is `flask db upgrade` (the Procfile's `release:`); its code is
app/release/, loaded only when one of these commands, or Alembic, runs.
"""

import click
from flask import current_app
from flask.cli import AppGroup, with_appcontext

from app.extensions import db

release_cli = AppGroup("release", help="Check or repair the record of applied revisions.")


def mark_release_phase(config):
    """Flag `flask db upgrade` runs for migrations/env.py: they check the history first.

    Only that command is the release phase; `downgrade`, `current`, `check` and the tests'
    own upgrades are not. Flask-Migrate calls this for every command it runs.
    """
    command = click.get_current_context(silent=True)
    config.attributes["release_phase"] = (
        command is not None
        and command.info_name == "upgrade"
        and command.parent is not None
        and command.parent.info_name == "db"
    )
    return config


def migration_config():
    """Return Flask-Migrate's Alembic configuration for this app."""
    return current_app.extensions["migrate"].migrate.get_config()


@release_cli.command("validate")
@click.option(
    "--accept-checksums",
    is_flag=True,
    help="Record the current checksums of revisions whose code changed since they ran.",
)
@with_appcontext
def validate(accept_checksums):
    """Check the record of applied revisions against this code's chain, as the release phase."""
    from alembic.script import ScriptDirectory  # (as above)

    from app.release import history as release_history  # the web never loads these
    from app.release import records, repair  # (as above)

    scripts = ScriptDirectory.from_config(migration_config())
    strict = current_app.config["MIGRATION_STRICT"]
    with db.engine.connect() as connection:
        history = release_history.check_history(connection, scripts)
        for warning in history.warnings(strict):
            click.echo(f"warning: {warning}")
        if accept_checksums and history.changed:
            records.ensure_compatibility_record(connection)
            repair.accept_checksums(connection, history)
            accepted = release_history.ids(s for s, _ in history.changed)
            click.echo(f"accepted the checksums of {accepted}")
            history.changed = []
        problems = history.errors(strict)
    if problems:
        raise click.ClickException(release_history.refusal(history, problems))
    heads = ", ".join(sorted(history.heads)) or "empty"
    assumed = history.assumed and f"; not recorded, assumed: {release_history.ids(history.assumed)}"
    click.echo(f"history valid: the database is at {heads}{assumed or ''}")


@release_cli.command("apply-skipped")
@with_appcontext
def apply_skipped():
    """Run the revisions a relinked history skipped, oldest first, and record them."""
    from alembic.runtime.environment import EnvironmentContext  # (as above)
    from alembic.script import ScriptDirectory  # (as above)

    config = migration_config()
    config.attributes["apply_skipped"] = True
    scripts = ScriptDirectory.from_config(config)
    with EnvironmentContext(config, scripts):
        scripts.run_env()
