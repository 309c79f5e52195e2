"""Flask commands of our own: `flask storage cleanup`."""

from datetime import timedelta

import click
from flask.cli import AppGroup
from sqlalchemy import select

from app import storage
from app.extensions import db
from app.models import User, utcnow

storage_cli = AppGroup("storage", help="Look after the object store of profile photos.")


def referenced_keys():
    """Return the keys of every photo some user's image_url points at."""
    urls = db.session.scalars(select(User.image_url).where(User.image_url.is_not(None)))
    return {storage.key_for_url(url) for url in urls}


@storage_cli.command("cleanup")
@click.option("--dry-run", is_flag=True, help="List what would be deleted; delete nothing.")
@click.option(
    "--min-age",
    default=60,
    show_default=True,
    type=click.IntRange(min=0),
    help="Minutes an object must have existed; younger ones may be uploads in flight.",
)
def cleanup(dry_run, min_age):
    """Delete photo objects that no user's image_url refers to."""
    cutoff = utcnow() - timedelta(minutes=min_age)
    try:
        referenced = referenced_keys()
        listed = list(storage.list_objects())
        orphans = [key for key, modified in listed if key not in referenced and modified < cutoff]
        for key in orphans:
            if not dry_run:
                storage.delete_key(key)
            click.echo(f"{'would delete' if dry_run else 'deleted'} {key}")
    except storage.StorageError as error:
        raise click.ClickException(str(error)) from None
    verb = "would delete" if dry_run else "deleted"
    click.echo(
        f"{len(listed)} objects under {storage.PHOTO_PREFIX}: {verb} {len(orphans)} "
        f"no user refers to (older than {min_age} min), kept {len(listed) - len(orphans)}"
    )
