"""`flask restore-drill`: restore a backup into a scratch database and check it.

Its options and what it checks: docs/operations.md.
"""

import click
from flask import current_app
from flask.cli import with_appcontext

from config import ConfigError, database_uri, direct_database_uri


def database_url(context, parameter, value):
    """Read --into as DATABASE_URL is read: postgres:// too, always with psycopg2."""
    try:
        return value and database_uri(value, "--into")
    except ConfigError as error:
        raise click.BadParameter(str(error)) from None


@click.command("restore-drill")
@click.option(
    "--dump",
    type=click.Path(dir_okay=False),
    help="Restore this pg_dump file (custom format) instead of taking a fresh backup.",
)
@click.option(
    "--into",
    metavar="DATABASE_URL",
    callback=database_url,
    help="An empty database to restore into (emptied again after), where none may be created.",
)
@click.option(
    "--bin-dir",
    type=click.Path(file_okay=False),
    help="The folder of pg_dump and pg_restore.  [default: found to match the server]",
)
@click.option(
    "--sample",
    default=20,
    show_default=True,
    type=click.IntRange(min=0, max=10_000),
    help="Attachments, and as many photos, whose objects are looked up in the bucket.",
)
@with_appcontext
def restore_drill(dump, into, bin_dir, sample):
    """Restore a backup into a scratch database and check it; exit 1 saying why if it fails."""
    from app.restore_drill import Drill, DrillFailed  # the web never loads the drill

    drill = Drill(
        direct_database_uri(current_app.config),
        dump=dump,
        into=into,
        bin_dir=bin_dir,
        sample=sample,
        say=click.echo,
    )
    try:
        drill.run()
    except DrillFailed as error:
        raise click.ClickException(f"restore drill failed: {error}") from None
    click.echo("restore drill passed")
