"""Flask commands of our own: `flask storage cleanup`, `flask db-budget`, `flask seed-demo`."""

import os
from datetime import timedelta

import click
from flask import current_app
from flask.cli import AppGroup, with_appcontext
from sqlalchemy import select
from sqlalchemy.exc import IntegrityError

from app import storage
from app.extensions import db
from app.models import Note, User, utcnow

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


# `flask db upgrade` holds one connection while the previous release still serves.
RELEASE_CONNECTIONS = 1


def counted(number, noun):
    """Return "1 dyno", "2 dynos" and the like."""
    return f"{number} {noun}{'' if number == 1 else 's'}"


@click.command("db-budget")
@click.option(
    "--dynos",
    default=1,
    show_default=True,
    type=click.IntRange(min=1),
    help="Web dynos up at once (during a preboot deploy, old and new together).",
)
@click.option(
    "--workers",
    type=click.IntRange(min=1),
    help="gunicorn workers per dyno.  [default: WEB_CONCURRENCY]",
)
@click.option(
    "--threads",
    type=click.IntRange(min=1),
    help="Threads per worker, which is the pool size.  [default: WEB_THREADS]",
)
@click.option(
    "--one-off",
    default=2,
    show_default=True,
    type=click.IntRange(min=0),
    help="Consoles, scheduler jobs and monitoring at once; one connection each.",
)
@click.option(
    "--limit",
    default=20,
    show_default=True,
    type=click.IntRange(min=1),
    help="Connections the database plan allows.",
)
@with_appcontext
def db_budget(dynos, workers, threads, one_off, limit):
    """Print the database connections Memo needs at most, against the plan's limit."""
    workers = workers or current_app.config["WEB_CONCURRENCY"]
    threads = threads or current_app.config["WEB_THREADS"]
    per_dyno = workers * threads
    total = dynos * per_dyno + RELEASE_CONNECTIONS + one_off
    click.echo("Database connections at most (each worker's pool: one per thread, no overflow)")
    click.echo(
        f"  web      {dynos * per_dyno} = {counted(dynos, 'dyno')} x {counted(workers, 'worker')} "
        f"x {counted(threads, 'thread')} ({per_dyno} per dyno)"
    )
    click.echo(f"  release  {RELEASE_CONNECTIONS} (flask db upgrade, while the old release serves)")
    click.echo(f"  one-off  {one_off} (consoles, scheduler jobs, monitoring)")
    if total > limit:
        click.echo(
            f"  total    {total} of {limit}: OVER by {total - limit}; use fewer dynos, "
            "WEB_CONCURRENCY or WEB_THREADS, or a plan with more connections"
        )
        raise SystemExit(1)
    click.echo(f"  total    {total} of {limit}: OK, {limit - total} to spare")


DEMO_NOTES = [
    ("Welcome to Memo", "This is a review app. Notes, my page and the word counter all work."),
    ("Things to try", "Add a photo on my page, count the words of a page, edit this note."),
]


@click.command("seed-demo")
@click.option("--email", default="demo@example.com", show_default=True)
@click.option(
    "--password",
    default=lambda: os.environ.get("DEMO_PASSWORD", ""),
    show_default="DEMO_PASSWORD",
    help="The demo account's password, 8 characters or more.",
)
@with_appcontext
def seed_demo(email, password):
    """Create a demo account with a few notes (a review app's postdeploy); rerunning is a no-op."""
    if len(password) < 8:
        raise click.UsageError("set DEMO_PASSWORD (or --password) to 8 characters or more")
    if User.find_by_email(email) is not None:
        click.echo(f"The demo account {email} exists already; nothing changed")
        return
    user = User(email=email, nickname="demo")
    user.set_password(password)
    user.notes = [Note(title=title, content=content) for title, content in DEMO_NOTES]
    db.session.add(user)
    try:
        db.session.commit()
    except IntegrityError:
        # A run at the same moment, or someone already called "demo", got there first.
        db.session.rollback()
        raise click.ClickException(
            f"could not create {email}: the email or nickname is taken"
        ) from None
    click.echo(f"Created the demo account {email} with {len(DEMO_NOTES)} notes")
