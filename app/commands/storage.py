"""`flask storage ...`: look after the object store (cleanup, photo URLs after a move, its
safety net)."""

from datetime import timedelta

import click
from flask import current_app
from flask.cli import AppGroup

from app import objects, storage

storage_cli = AppGroup(
    "storage", help="Look after the object store: photos, attachments and their uploads."
)


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
    """Delete objects of every kind that nothing refers to (the worker's sweep does this too)."""
    try:
        found = objects.sweep(timedelta(minutes=min_age), dry_run=dry_run)
    except storage.StorageError as error:
        raise click.ClickException(str(error)) from None
    verb = "would delete" if dry_run else "deleted"
    for key in found.orphans:
        click.echo(f"{verb} {key}")
    click.echo(
        f"{found.listed} objects under {', '.join(objects.PREFIXES)}: "
        f"{verb} {len(found.orphans)} nothing refers to (older than {min_age} min), "
        f"kept {found.listed - len(found.orphans)}"
    )


@storage_cli.command("rewrite-photo-urls")
@click.option(
    "--batch-size",
    default=500,
    show_default=True,
    type=click.IntRange(min=1, max=10_000),
    help="Users updated in one transaction.",
)
def rewrite_photo_urls(batch_size):
    """Point every stored photo URL at the current S3_PUBLIC_URL (after moving to a CDN, say).

    Batched and resumable: run it again after a stop, and it changes only what is left.
    """
    base = current_app.config["S3_PUBLIC_URL"]
    total = 0
    for count, last_user_id in objects.rewrite_photo_urls(batch_size):
        total += count
        click.echo(f"rewrote {count} photo URLs, up to user id {last_user_id}")
    click.echo(f"{total} photo URLs now on {base}")


@storage_cli.command("check")
def check():
    """Say whether the bucket keeps old versions, and for how long (exit 1 if it does not)."""
    try:
        net = storage.safety_net()
    except storage.StorageError as error:
        raise click.ClickException(str(error)) from None
    click.echo(f"versioning: {net.versioning}")
    click.echo(f"old versions expire after: {days(net.old_versions_days)}")
    click.echo(f"unfinished multipart uploads aborted after: {days(net.abort_uploads_days)}")
    missing = [
        problem
        for problem, holds in (
            ("versioning is not enabled", net.versioning == "Enabled"),
            ("no rule expires old versions", net.old_versions_days is not None),
            ("no rule aborts unfinished uploads", net.abort_uploads_days is not None),
        )
        if not holds
    ]
    if missing:
        raise click.ClickException(
            f"the bucket's safety net is not on: {'; '.join(missing)} (docs/operations.md)"
        )
    click.echo("the bucket's safety net is on")


def days(count):
    """Return `count` days as words, or "never" for no rule."""
    return "never (no rule)" if count is None else f"{count} days"
