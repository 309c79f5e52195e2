"""The release phase's extras: `flask release validate|apply-skipped`.

The release phase itself is Flask-Migrate's `flask db upgrade` (the Procfile's `release:`),
marked as such for migrations/env.py by app/migrating.py. The release's code is
app/release/, loaded only when one of these commands, or Alembic, runs.
"""

import click
from flask import current_app
from flask.cli import AppGroup, with_appcontext

from app.extensions import db

release_cli = AppGroup("release", help="Check or repair the record of applied revisions.")


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
    from app.release import repair  # (as above)

    scripts = ScriptDirectory.from_config(migration_config())
    strict = current_app.config["MIGRATION_STRICT"]
    with db.engine.connect() as connection:
        history = release_history.check_history(connection, scripts)
        for warning in history.warnings(strict):
            click.echo(f"warning: {warning}")
        if accept_checksums and history.changed:
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
