"""Flask commands of our own: storage cleanup, db-budget, seed-demo, the worker and the queue's."""

import os
import time
from datetime import timedelta

import click
from flask import current_app
from flask.cli import AppGroup, with_appcontext
from sqlalchemy import text
from sqlalchemy.exc import IntegrityError

from app import jobs, storage
from app.extensions import db
from app.models import Note, User
from app.mypage import photos

storage_cli = AppGroup("storage", help="Look after the object store of profile photos.")


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
    """Delete photos and uploads that nothing refers to (the worker does this hourly too)."""
    try:
        listed, orphans = photos.orphaned_objects(timedelta(minutes=min_age))
        for key in orphans:
            if not dry_run:
                storage.delete_key(key)
            click.echo(f"{'would delete' if dry_run else 'deleted'} {key}")
    except storage.StorageError as error:
        raise click.ClickException(str(error)) from None
    verb = "would delete" if dry_run else "deleted"
    click.echo(
        f"{len(listed)} objects under {storage.PHOTO_PREFIX} and {storage.UPLOAD_PREFIX}: "
        f"{verb} {len(orphans)} nothing refers to (older than {min_age} min), "
        f"kept {len(listed) - len(orphans)}"
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
    help="Threads per worker, one database connection each at most.  [default: WEB_THREADS]",
)
@click.option(
    "--worker-dynos",
    default=1,
    show_default=True,
    type=click.IntRange(min=0),
    help="Worker dynos up at once (`flask worker`).",
)
@click.option(
    "--concurrency",
    type=click.IntRange(min=1),
    help="Jobs each worker runs at once.  [default: WORKER_CONCURRENCY]",
)
@click.option(
    "--one-off",
    default=2,
    show_default=True,
    type=click.IntRange(min=0),
    help="Consoles and monitoring at once; one connection each (the worker runs the schedule).",
)
@click.option(
    "--limit",
    default=20,
    show_default=True,
    type=click.IntRange(min=1),
    help="Connections the database plan allows.",
)
@with_appcontext
def db_budget(dynos, workers, threads, worker_dynos, concurrency, one_off, limit):
    """Print the database connections Memo needs at most, against the plan's limit."""
    workers = workers or current_app.config["WEB_CONCURRENCY"]
    threads = threads or current_app.config["WEB_THREADS"]
    concurrency = concurrency or current_app.config["WORKER_CONCURRENCY"]
    per_dyno = workers * threads
    per_worker = jobs.worker_connections(concurrency)
    total = dynos * per_dyno + worker_dynos * per_worker + RELEASE_CONNECTIONS + one_off
    click.echo("Database connections at most (each worker's pool: one per thread, no overflow)")
    click.echo(
        f"  web      {dynos * per_dyno} = {counted(dynos, 'dyno')} x {counted(workers, 'worker')} "
        f"x {counted(threads, 'thread')} ({per_dyno} per dyno)"
    )
    click.echo(
        f"  worker   {worker_dynos * per_worker} = {counted(worker_dynos, 'dyno')} x "
        f"({counted(concurrency, 'job')} + {jobs.QUEUE_POOL_SIZE} queue + "
        f"{jobs.LISTEN_CONNECTIONS} listen) ({per_worker} per dyno)"
    )
    click.echo(f"  release  {RELEASE_CONNECTIONS} (flask db upgrade, while the old release serves)")
    click.echo(f"  one-off  {one_off} (consoles, monitoring)")
    if total > limit:
        click.echo(
            f"  total    {total} of {limit}: OVER by {total - limit}; use fewer dynos, "
            "WEB_CONCURRENCY, WEB_THREADS or WORKER_CONCURRENCY, or a plan with more connections"
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


@click.command("worker")
@click.option(
    "--concurrency",
    type=click.IntRange(min=1),
    help="Jobs run at once, one thread and connection each.  [default: WORKER_CONCURRENCY]",
)
@with_appcontext
def worker(concurrency):
    """Run background jobs until SIGTERM (the Procfile's worker process)."""
    jobs.run_worker(
        current_app._get_current_object(), concurrency or current_app.config["WORKER_CONCURRENCY"]
    )


jobs_cli = AppGroup("jobs", help="Look at the job queue and retry failed jobs.")

QUEUE_DEPTH = text(
    "SELECT queue_name, status, count(*) AS jobs, min(scheduled_at) AS first_scheduled"
    " FROM procrastinate_jobs GROUP BY queue_name, status ORDER BY queue_name, status"
)
WORKERS = text(
    "SELECT id, last_heartbeat, now() - last_heartbeat AS silent FROM procrastinate_workers"
    " ORDER BY id"
)
RECENT_FAILURES = text(
    "SELECT job.id, job.task_name, job.args, job.attempts, max(event.at) AS failed_at"
    " FROM procrastinate_jobs job JOIN procrastinate_events event ON event.job_id = job.id"
    " WHERE job.status = 'failed' GROUP BY job.id ORDER BY failed_at DESC LIMIT :limit"
)


@jobs_cli.command("status")
@with_appcontext
def jobs_status():
    """Print the jobs waiting, running and failed per queue, and the live workers."""
    rows = db.session.execute(QUEUE_DEPTH).all()
    if not rows:
        click.echo("no jobs (succeeded jobs are deleted when they finish)")
    for row in rows:
        click.echo(f"{row.queue_name:<12} {row.status:<10} {row.jobs:>6}")
    workers = db.session.execute(WORKERS).all()
    click.echo(f"{len(workers)} worker(s)")
    for row in workers:
        click.echo(f"  worker {row.id}: last heartbeat {row.silent.total_seconds():.0f} s ago")


@jobs_cli.command("failures")
@click.option("--limit", default=20, show_default=True, type=click.IntRange(min=1))
@with_appcontext
def jobs_failures(limit):
    """List the jobs that failed for good, newest first; the log has each one's error."""
    rows = db.session.execute(RECENT_FAILURES, {"limit": limit}).all()
    if not rows:
        click.echo("no failed jobs")
    for row in rows:
        arguments = {name: value for name, value in row.args.items() if name != jobs.REQUEST_ID}
        click.echo(
            f"{row.id}  {row.failed_at:%Y-%m-%d %H:%M:%S} UTC  {row.task_name}"
            f"  {arguments}  after {row.attempts} attempt(s)"
        )


@jobs_cli.command("retry")
@click.argument("job_id", type=click.IntRange(min=1))
@with_appcontext
def jobs_retry(job_id):
    """Queue one failed job again, to run now."""
    status = db.session.scalar(
        text("SELECT status FROM procrastinate_jobs WHERE id = :id"), {"id": job_id}
    )
    if status != "failed":
        raise click.ClickException(
            f"job {job_id} is {status or 'not found'}; only failed jobs are retried"
        )
    jobs.retry_job(job_id)
    db.session.commit()
    click.echo(f"job {job_id} queued again")


@jobs_cli.command("ping")
@click.option("--count", default=1, show_default=True, type=click.IntRange(min=1, max=10_000))
@click.option("--timeout", default=30, show_default=True, type=click.IntRange(min=1))
@with_appcontext
def jobs_ping(count, timeout):
    """Queue no-op jobs and wait for the workers to run them: are they up, and how fast?"""
    started = time.monotonic()
    ids = [jobs.defer(jobs.ping) for _ in range(count)]
    db.session.commit()
    waiting = text("SELECT count(*) FROM procrastinate_jobs WHERE id = ANY(:ids)")
    while db.session.scalar(waiting, {"ids": ids}):
        db.session.commit()
        if time.monotonic() - started > timeout:
            raise click.ClickException(f"jobs still waiting after {timeout} s: is a worker up?")
        time.sleep(0.05)
    seconds = time.monotonic() - started
    click.echo(f"{count} job(s) run in {seconds:.2f} s ({count / seconds:.0f} jobs/s)")
