"""`flask worker` (the Procfile's worker) and `flask jobs ...`, through procrastinate's own API."""

import time
from datetime import UTC, datetime

import click
from flask import current_app
from flask.cli import AppGroup, with_appcontext
from sqlalchemy import text

from app import jobs
from app.extensions import db


@click.command("worker")
@click.option(
    "--concurrency",
    type=click.IntRange(min=1),
    help="Jobs run at once, one thread and connection each.  [default: WORKER_CONCURRENCY]",
)
@with_appcontext
def worker(concurrency):
    """Run background jobs until SIGTERM (the Procfile's worker process)."""
    from app.worker.runtime import run_worker  # the web never loads the worker's runtime

    run_worker(
        current_app._get_current_object(), concurrency or current_app.config["WORKER_CONCURRENCY"]
    )


jobs_cli = AppGroup("jobs", help="Look at the job queue and retry failed jobs.")

# procrastinate 3.10 has no API that lists its workers: the one query on its tables here.
WORKERS = text("SELECT id, now() - last_heartbeat AS silent FROM procrastinate_workers ORDER BY id")


def job_manager():
    """Return procrastinate's App, on the app's engine, for its JobManager (open it with `with`)."""
    import procrastinate  # here: the web loads these commands, and never procrastinate
    from procrastinate.contrib.sqlalchemy import SQLAlchemyPsycopg2Connector  # (app/jobs.py)

    return procrastinate.App(connector=SQLAlchemyPsycopg2Connector()).open(db.engine)


@jobs_cli.command("status")
@with_appcontext
def jobs_status():
    """Print the jobs waiting, running and failed per queue, and the live workers."""
    with job_manager() as queue:
        queues = queue.job_manager.list_queues()
    if not queues:
        click.echo("no jobs (succeeded jobs are deleted when they finish)")
    for row in queues:
        for status in ("todo", "doing", "failed", "cancelled", "aborted"):
            if row[status]:
                click.echo(f"{row['name']:<12} {status:<10} {row[status]:>6}")
    workers = db.session.execute(WORKERS).all()
    db.session.commit()
    click.echo(f"{len(workers)} worker(s)")
    for row in workers:
        click.echo(f"  worker {row.id}: last heartbeat {row.silent.total_seconds():.0f} s ago")


@jobs_cli.command("failures")
@click.option("--limit", default=20, show_default=True, type=click.IntRange(min=1))
@with_appcontext
def jobs_failures(limit):
    """List the jobs that failed for good, newest first; the log has each one's error."""
    with job_manager() as queue:
        failed = queue.job_manager.list_jobs(status="failed")
    if not failed:
        click.echo("no failed jobs")
    for job in sorted(failed, key=lambda job: job.id, reverse=True)[:limit]:
        arguments = {name: v for name, v in job.task_kwargs.items() if name != jobs.REQUEST_ID}
        click.echo(f"{job.id}  {job.task_name}  {arguments}  after {job.attempts} attempt(s)")


@jobs_cli.command("retry")
@click.argument("job_id", type=click.IntRange(min=1))
@with_appcontext
def jobs_retry(job_id):
    """Queue one failed job again, to run now."""
    with job_manager() as queue:
        found = queue.job_manager.list_jobs(id=job_id)
    status = found[0].status if found else None
    if status != "failed":
        raise click.ClickException(
            f"job {job_id} is {status or 'not found'}; only failed jobs are retried"
        )
    with job_manager() as queue:
        queue.job_manager.retry_job_by_id(job_id, retry_at=datetime.now(UTC))
    click.echo(f"job {job_id} queued again")


@jobs_cli.command("ping")
@click.option("--count", default=1, show_default=True, type=click.IntRange(min=1, max=10_000))
@click.option("--timeout", default=30, show_default=True, type=click.IntRange(min=1))
@with_appcontext
def jobs_ping(count, timeout):
    """Queue no-op jobs and wait for the workers to run them: are they up, and how fast?"""
    started = time.monotonic()
    ids = {jobs.defer(jobs.ping) for _ in range(count)}
    db.session.commit()
    # A ping that succeeded is deleted from the queue (succeeded jobs are not kept).
    with job_manager() as queue:
        while ids & {job.id for job in queue.job_manager.list_jobs(task="ping")}:
            if time.monotonic() - started > timeout:
                raise click.ClickException(f"jobs still waiting after {timeout} s: is a worker up?")
            time.sleep(0.05)
    seconds = time.monotonic() - started
    click.echo(f"{count} job(s) run in {seconds:.2f} s ({count / seconds:.0f} jobs/s)")
