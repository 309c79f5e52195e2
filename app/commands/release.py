"""The release phase's commands: `flask db upgrade` (the Procfile's `release:`) and the extras
`flask release validate|apply-skipped`.

`flask db` is Flask-Migrate's group with its `upgrade` replaced by this module's, which tells
migrations/env.py that this run is the release phase: said by the command, not guessed from
its name. app/migrating.py puts the group on the app's command line in place of
Flask-Migrate's. The release's code is app/release/, loaded only when one of these commands,
or Alembic, runs.
"""

import click
from flask import current_app, g
from flask.cli import AppGroup, with_appcontext

from app.extensions import db

release_cli = AppGroup("release", help="Check or repair the record of applied revisions.")


@with_appcontext
def upgrade(directory, sql, tag, x_arg, revision):
    """Upgrade to a later version: the release phase, which checks the history first.

    Flask-Migrate's own `upgrade` (its options, its errors as one line and exit 1), with the
    release phase said to migrations/env.py: the one command that checks the record of
    applied revisions (`downgrade`, `current`, `check` and in-process upgrades do not).
    """
    from alembic import command  # the web never loads Alembic (app/migrating.py)
    from flask_migrate import catch_errors  # (as above)

    migrate = current_app.extensions["migrate"].migrate
    config = migrate.get_config(directory or g.directory, x_arg=x_arg or g.x_arg)
    config.attributes["release_phase"] = True
    catch_errors(command.upgrade)(config, revision, sql=sql, tag=tag)


def db_cli():
    """Return `flask db`: Flask-Migrate's group and commands, its `upgrade` the one above."""
    from flask_migrate.cli import db as stock  # (as above)

    release_upgrade = click.Command(
        "upgrade",
        callback=upgrade,
        params=stock.commands["upgrade"].params,
        help=upgrade.__doc__,
    )
    return click.Group(
        stock.name,
        commands={**stock.commands, "upgrade": release_upgrade},
        callback=stock.callback,
        params=stock.params,
        help=stock.help,
    )


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
