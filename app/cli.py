"""Flask commands of our own: storage cleanup, db-budget, seed-demo, the worker and the queue's."""

import os
import time
from datetime import timedelta

import click
from alembic.runtime.environment import EnvironmentContext
from alembic.script import ScriptDirectory
from flask import current_app
from flask.cli import AppGroup, with_appcontext
from flask_migrate.cli import db as migrate_cli
from sqlalchemy import text
from sqlalchemy.exc import IntegrityError

from app import jobs, objects, release, storage
from app.extensions import db
from app.models import Note, User, utcnow

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


# `flask db upgrade` holds one connection while the previous release still serves.
RELEASE_CONNECTIONS = 1


def mail_route(config):
    """Return where mail goes, for the budget: its jobs add no database connection."""
    smtp = config["SMTP"]
    server = f"{smtp['host']}:{smtp['port']}" if smtp else "no SMTP_URL set"
    return f"sent by worker jobs on their own connections, to {server}"


def counted(number, noun):
    """Return "1 dyno", "2 dynos" and the like."""
    return f"{number} {noun}{'' if number == 1 else 's'}"


def verdict(total, limit):
    """Return the budget's last line: what is left, or by how much it is over."""
    if total > limit:
        return f"{total} of {limit}: OVER by {total - limit}"
    return f"{total} of {limit}: OK, {limit - total} to spare"


class Budget:
    """The connections of a formation: web and worker dynos, the release phase, consoles."""

    def __init__(self, dynos, workers, threads, worker_dynos, concurrency, one_off, limit):
        self.dynos, self.workers, self.threads = dynos, workers, threads
        self.worker_dynos, self.concurrency = worker_dynos, concurrency
        self.one_off, self.limit = one_off, limit
        self.per_dyno = workers * threads
        self.per_worker = jobs.worker_connections(concurrency)

    def direct_total(self):
        """Return the server connections with every process connected straight to PostgreSQL."""
        workers = self.worker_dynos * self.per_worker
        return self.dynos * self.per_dyno + workers + RELEASE_CONNECTIONS + self.one_off

    def web_dynos_that_fit(self):
        """Return the most web dynos the plan takes, without a pooler, beside the worker dynos."""
        spare = self.limit - self.direct_total() + self.dynos * self.per_dyno
        return max(spare // self.per_dyno, 0)

    def sessions(self):
        """Return the direct connections a pooler cannot carry: LISTENs, release, consoles."""
        listens = self.worker_dynos * jobs.LISTEN_CONNECTIONS
        return listens + RELEASE_CONNECTIONS + self.one_off

    def largest_pool(self):
        """Return the largest PgBouncer pool that fits beside the direct connections."""
        return self.limit - self.sessions()

    def clients(self):
        """Return the client connections every dyno may open to PgBouncer at once."""
        queue = jobs.worker_connections(self.concurrency) - jobs.LISTEN_CONNECTIONS
        return self.dynos * self.per_dyno + self.worker_dynos * queue


def echo_direct(budget):
    """Print the budget with every process connected straight to PostgreSQL."""
    b = budget
    click.echo("Without a pooler: one server connection per thread, job and queue connection")
    click.echo(
        f"  web      {b.dynos * b.per_dyno} = {counted(b.dynos, 'dyno')} x "
        f"{counted(b.workers, 'worker')} x {counted(b.threads, 'thread')} ({b.per_dyno} per dyno)"
    )
    click.echo(
        f"  worker   {b.worker_dynos * b.per_worker} = {counted(b.worker_dynos, 'dyno')} x "
        f"({counted(b.concurrency, 'job')} + {jobs.QUEUE_POOL_SIZE} queue + "
        f"{jobs.LISTEN_CONNECTIONS} listen) ({b.per_worker} per dyno)"
    )
    click.echo(f"  release  {RELEASE_CONNECTIONS} (flask db upgrade, while the old release serves)")
    click.echo(f"  one-off  {b.one_off} (consoles, monitoring)")
    click.echo(f"  total    {verdict(b.direct_total(), b.limit)}")
    click.echo(
        f"  fits     {counted(b.web_dynos_that_fit(), 'web dyno')} beside "
        f"{counted(b.worker_dynos, 'worker dyno')}"
    )


def echo_pooled(budget, pool_size):
    """Print the budget with web and job connections through PgBouncer in transaction mode."""
    b = budget
    click.echo("With PgBouncer in transaction mode (DATABASE_CONNECTION_POOL_URL)")
    click.echo(
        f"  clients  {b.clients()} to PgBouncer, no server connection each "
        "(its max_client_conn must allow them)"
    )
    click.echo(
        f"  pool     {pool_size} server connections, shared by every dyno "
        f"(PgBouncer's pool size; at most {b.largest_pool()} fit)"
    )
    click.echo(
        f"  listen   {b.worker_dynos * jobs.LISTEN_CONNECTIONS} = "
        f"{counted(b.worker_dynos, 'worker dyno')} x 1 (direct: a LISTEN needs a session)"
    )
    click.echo(f"  release  {RELEASE_CONNECTIONS} (direct: migrations need a session)")
    click.echo(f"  one-off  {b.one_off} (consoles, monitoring; direct)")
    click.echo(f"  total    {verdict(pool_size + b.sessions(), b.limit)}")
    click.echo(
        "  fits     any number of web dynos, and up to "
        f"{counted(max(b.limit - RELEASE_CONNECTIONS - b.one_off - 1, 0), 'worker dyno')} "
        "with a pool of 1"
    )


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
@click.option(
    "--pooler/--no-pooler",
    default=None,
    help="Judge the budget with PgBouncer or without.  [default: DATABASE_CONNECTION_POOL_URL set]",
)
@click.option(
    "--pool-size",
    type=click.IntRange(min=1),
    help="PgBouncer's server connections.  [default: the most that fit]",
)
@with_appcontext
def db_budget(pooler, pool_size, **counts):
    """Print the database connections Memo needs at most, with and without PgBouncer."""
    counts["workers"] = counts["workers"] or current_app.config["WEB_CONCURRENCY"]
    counts["threads"] = counts["threads"] or current_app.config["WEB_THREADS"]
    counts["concurrency"] = counts["concurrency"] or current_app.config["WORKER_CONCURRENCY"]
    budget = Budget(**counts)
    pooled = current_app.config["DATABASE_POOLED"] if pooler is None else pooler
    # A pool larger than its clients would never fill.
    pool_size = pool_size or max(min(budget.largest_pool(), budget.clients()), 1)
    echo_direct(budget)
    echo_pooled(budget, pool_size)
    click.echo(f"Mail: 0 more connections ({mail_route(current_app.config)})")
    total = pool_size + budget.sessions() if pooled else budget.direct_total()
    if total > budget.limit:
        click.echo(
            f"{'With' if pooled else 'Without'} the pooler the plan is OVER: use fewer dynos, "
            "WEB_CONCURRENCY, WEB_THREADS or WORKER_CONCURRENCY, "
            f"{'a smaller pool, ' if pooled else 'PgBouncer, '}or a plan with more connections"
        )
        raise SystemExit(1)
    click.echo(f"{'With' if pooled else 'Without'} the pooler: OK")


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
    user = User(email=email, nickname="demo", email_verified_at=utcnow())
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
    db.session.commit()
    jobs.retry_failed_job(job_id)
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


# `flask db validate` and `flask db apply-skipped`: Flask-Migrate's `db` group, ours added.


@migrate_cli.command("validate")
@click.option(
    "--accept-checksums",
    is_flag=True,
    help="Record the current checksums of revisions whose code changed since they ran.",
)
@with_appcontext
def validate(accept_checksums):
    """Check the record of applied revisions against this code's chain, as the release phase."""
    scripts = ScriptDirectory.from_config(current_app.extensions["migrate"].migrate.get_config())
    strict = current_app.config["MIGRATION_STRICT"]
    with db.engine.connect() as connection:
        history = release.check_history(connection, scripts)
        for warning in history.warnings(strict):
            click.echo(f"warning: {warning}")
        if accept_checksums and history.changed:
            release.ensure_compatibility_record(connection)
            release.accept_checksums(connection, history)
            click.echo(f"accepted the checksums of {release.ids(s for s, _ in history.changed)}")
            history.changed = []
        problems = history.errors(strict)
    if problems:
        raise click.ClickException(release.refusal(history, problems))
    heads = ", ".join(sorted(history.heads)) or "empty"
    assumed = f"; not recorded, assumed: {release.ids(history.assumed)}" if history.assumed else ""
    click.echo(f"history valid: the database is at {heads}{assumed}")


@migrate_cli.command("apply-skipped")
@with_appcontext
def apply_skipped():
    """Run the revisions a relinked history skipped, oldest first, and record them."""
    config = current_app.extensions["migrate"].migrate.get_config()
    config.attributes["apply_skipped"] = True
    scripts = ScriptDirectory.from_config(config)
    with EnvironmentContext(config, scripts):
        scripts.run_env()
