"""The job queue (procrastinate, in PostgreSQL), its tasks, and the worker process that runs them.

The web process only defers: `defer()` adds a job in the current database transaction, so
the job exists if and only if the rows it works on were committed. A worker (`flask worker`,
the Procfile's `worker:`) runs jobs in threads, each inside an app context of its own, and
logs one line per job. Every task here is small and idempotent (it may run again after a
worker dies) and calls the feature code that does the work. See docs/jobs.md.
"""

import asyncio
import logging
import os
import signal
import threading
import time
from contextlib import suppress
from datetime import timedelta

import procrastinate
from flask import current_app, g, has_request_context
from procrastinate.contrib.sqlalchemy import SQLAlchemyPsycopg2Connector
from sqlalchemy import text
from sqlalchemy.engine import make_url
from sqlalchemy.exc import InterfaceError, OperationalError

from app import storage
from app.extensions import db
from app.models import LoginSession, PhotoUpload, WordCount
from app.storage import StorageError

logger = logging.getLogger("memo.jobs")
# procrastinate logs each job in several lines; ours is the one line per job.
logging.getLogger("procrastinate").setLevel(logging.WARNING)

# Deferring happens on the web's own SQLAlchemy connection (see defer); the worker
# swaps in procrastinate's psycopg 3 connector, which LISTENs for new jobs.
queue = procrastinate.App(connector=SQLAlchemyPsycopg2Connector())

# The platform sends SIGKILL 30 s after SIGTERM. Running jobs get this long to finish
# (every job here is bounded below it: a fetch 10 s, a photo's decoding 20 s)...
SHUTDOWN_GRACE_SECONDS = 20
# ...and a job still running after this is left to stalled-job recovery: the process
# exits, its heartbeat stops, and another worker runs the job again.
SHUTDOWN_HARD_SECONDS = 24
# The worker's own queue connections: a pool for fetching, finishing and heartbeats,
# plus one LISTEN connection outside the pool. Job threads use the app's SQLAlchemy pool.
QUEUE_POOL_SIZE = 2
LISTEN_CONNECTIONS = 1
# A worker that missed this many heartbeats is dead: its jobs are run again.
MISSED_HEARTBEATS = 3

# Failures worth another attempt: the database did not answer (tasks add the store's).
TRANSIENT_ERRORS = (OperationalError, InterfaceError)
REQUEST_ID = "request_id"


def worker_connections(concurrency):
    """Return the database connections one worker process holds at most."""
    return concurrency + QUEUE_POOL_SIZE + LISTEN_CONNECTIONS


def defer(task, **arguments):
    """Queue `task(**arguments)` in the session's transaction: it runs only if that commits."""
    arguments[REQUEST_ID] = g.get("request_id") if has_request_context() else None
    return task.configure(connection=db.session.connection()).defer(**arguments)


def retrying(max_attempts, errors=TRANSIENT_ERRORS, base_seconds=2):
    """Return a strategy that retries `errors` with backoff (2, 4, 8 ... s), then gives up."""
    return procrastinate.RetryStrategy(
        max_attempts=max_attempts, exponential_wait=base_seconds, retry_exceptions=errors
    )


def job_log_middleware(flask_app):
    """Return a task middleware: each job in its own app context, logged in one line."""

    def run_in_app_context(call_next, context, worker):
        job = context.job
        # Added by defer(); the task itself never sees it.
        request_id = job.task_kwargs.pop(REQUEST_ID, None) or "-"
        started = time.perf_counter()
        with flask_app.app_context():
            g.request_id = request_id
            outcome = "failed"
            try:
                result = call_next()
                outcome = "succeeded"
                return result
            except Exception as error:
                retry = context.task.get_retry_exception(error, job) if context.task else None
                outcome = f"{'retry later' if retry else 'failed'}: {type(error).__name__}: {error}"
                raise
            finally:
                duration_ms = round((time.perf_counter() - started) * 1000, 1)
                fields = {"job": job.task_name, "id": job.id, "attempt": job.attempts + 1}
                logger.info("job", extra=fields | {"duration_ms": duration_ms, "outcome": outcome})

    return run_in_app_context


def psycopg_conninfo(sqlalchemy_uri):
    """Return the libpq URL of the app's database, for psycopg 3."""
    return make_url(sqlalchemy_uri).set(drivername="postgresql").render_as_string(False)


def worker_connector(config):
    """Return the psycopg 3 connector the worker fetches, finishes and listens with."""
    return procrastinate.PsycopgConnector(
        conninfo=psycopg_conninfo(config["SQLALCHEMY_DATABASE_URI"]),
        min_size=1,
        max_size=QUEUE_POOL_SIZE,
        kwargs={"application_name": "memo-worker", "connect_timeout": 5},
    )


def worker_options(flask_app, concurrency):
    """Return the worker's settings: concurrency, shutdown, heartbeats, middleware."""
    heartbeat = flask_app.config["WORKER_HEARTBEAT_SECONDS"]
    return {
        "name": "memo",
        "concurrency": concurrency,
        "shutdown_graceful_timeout": SHUTDOWN_GRACE_SECONDS,
        "update_heartbeat_interval": heartbeat,
        "stalled_worker_timeout": heartbeat * MISSED_HEARTBEATS,
        "delete_jobs": "successful",
        "install_signal_handlers": False,
        "task_middleware": [job_log_middleware(flask_app)],
    }


def run_worker(flask_app, concurrency, wait=True):
    """Run jobs until SIGTERM or SIGINT (or, without `wait`, until none is left)."""
    options = {**worker_options(flask_app, concurrency), "wait": wait}
    with queue.replace_connector(worker_connector(flask_app.config)):
        asyncio.run(work(options))


async def work(options):
    """Run the worker on this event loop; the first stop signal lets it wind down."""
    async with queue.open_async():
        running = asyncio.create_task(queue.run_worker_async(**options))
        loop = asyncio.get_running_loop()
        stop = Stopper(running)
        for number in (signal.SIGTERM, signal.SIGINT):
            loop.add_signal_handler(number, stop, number)
        logger.info(
            "worker started: %s jobs at once, heartbeat every %s s",
            options["concurrency"],
            options["update_heartbeat_interval"],
        )
        with suppress(asyncio.CancelledError):
            await running
        logger.info("worker stopped")


class Stopper:
    """Stops the worker on a signal: gracefully the first time, at once the second."""

    def __init__(self, running):
        self.running = running
        self.stopping = False

    def __call__(self, number):
        if self.stopping:
            logger.warning("%s again: stopping now", signal.Signals(number).name)
            os._exit(1)
        self.stopping = True
        logger.info(
            "%s: taking no new jobs; running ones get %s s to finish",
            signal.Signals(number).name,
            SHUTDOWN_GRACE_SECONDS,
        )
        backstop = threading.Timer(SHUTDOWN_HARD_SECONDS, self.exit_now)
        backstop.daemon = True
        backstop.start()
        self.running.cancel()  # procrastinate turns this into its graceful stop

    @staticmethod
    def exit_now():
        """Exit although a job still runs; another worker runs it again once we are gone."""
        logger.warning(
            "a job is still running after %s s; exiting, it will run again elsewhere",
            SHUTDOWN_HARD_SECONDS,
        )
        os._exit(1)


@queue.task(name="ping")
def ping():
    """Do nothing: `flask jobs ping` times the queue with it."""


# --- Work moved out of web requests. The feature modules are imported inside each task:
# they import this module to defer their jobs.


@queue.task(name="count_web_page", retry=retrying(max_attempts=3))
def count_web_page(word_count_id):
    """Fetch and count the page of a queued word count."""
    from app.wordcount.pages import count_page

    count_page(word_count_id)


@queue.task(name="process_photo", retry=retrying(max_attempts=3))
def process_photo(upload_id):
    """Make the profile photo from an upload (a store that fails fails the upload at once)."""
    from app.mypage.photos import process_upload

    process_upload(upload_id)


@queue.task(
    name="delete_user_objects",
    # About 18 hours of doubling waits: the store is retried until it answers.
    retry=retrying(max_attempts=16, errors=(*TRANSIENT_ERRORS, StorageError)),
)
def delete_user_objects(user_id):
    """Delete a deleted account's photos and uploads from the object store."""
    from app.mypage.photos import delete_user_objects as delete_objects

    delete_objects(user_id)


# --- Maintenance, on a schedule (one run per period, however many workers run) ---------


@queue.periodic(cron="*/5 * * * *", periodic_id="abandoned")
@queue.task(name="fail_abandoned_work", queueing_lock="fail_abandoned_work")
def fail_abandoned_work(timestamp):
    """Fail word counts and uploads left unfinished far too long (a job that was lost)."""
    older_than = current_app.config["ABANDONED_AFTER"]
    WordCount.fail_abandoned(older_than)
    PhotoUpload.fail_abandoned(older_than)
    db.session.commit()


@queue.periodic(cron="7 * * * *", periodic_id="hourly")
@queue.task(name="delete_expired_login_sessions", queueing_lock="delete_expired_login_sessions")
def delete_expired_login_sessions(timestamp):
    """Delete login sessions past their lifetime (they already sign nobody in)."""
    LoginSession.delete_expired(current_app.config["LOGIN_SESSION_LIFETIME"])
    db.session.commit()


@queue.periodic(cron="9 * * * *", periodic_id="hourly")
@queue.task(name="delete_ended_throttle_windows", queueing_lock="delete_ended_throttle_windows")
def delete_ended_throttle_windows(timestamp):
    """Delete login throttle rows whose window has ended."""
    from app.auth.throttle import delete_ended_windows

    delete_ended_windows(current_app.config["LOGIN_THROTTLE_WINDOW"])
    db.session.commit()


@queue.periodic(cron="13 * * * *", periodic_id="hourly")
@queue.task(name="delete_orphaned_objects", queueing_lock="delete_orphaned_objects")
def delete_orphaned_objects(timestamp):
    """Delete photos and uploads nothing refers to (what `flask storage cleanup` does)."""
    from app.mypage.photos import delete_orphaned_objects as delete_orphans

    logger.info("deleted %s objects nothing refers to", delete_orphans())


# --- Queue upkeep, on a schedule (one run per period, however many workers run) ---------


@queue.periodic(cron="* * * * * */10", periodic_id="stalled")
@queue.task(name="recover_stalled_jobs", queueing_lock="recover_stalled_jobs")
def recover_stalled_jobs(timestamp):
    """Queue the jobs of workers that stopped heartbeating again, and forget those workers.

    It takes no `lock`: a lock is held by a `doing` job until that job ends, and a job whose
    worker died never ends, so a recovery sharing its lock could never run. Two recoveries at
    once take disjoint jobs instead (SKIP LOCKED).
    """
    seconds = current_app.config["WORKER_HEARTBEAT_SECONDS"] * MISSED_HEARTBEATS
    for job in db.session.execute(STALLED_JOBS, {"seconds": seconds}).all():
        if job.queueing_lock and queued_again(job.queueing_lock):
            # A periodic job queued since: that run takes over; this one ends as failed.
            db.session.execute(FAIL_JOB, {"id": job.id})
            logger.warning("job id=%s was running on a worker that stopped; it ran again", job.id)
        else:
            retry_job(job.id)
            logger.warning("job id=%s was running on a worker that stopped; queued again", job.id)
    db.session.execute(
        text("SELECT procrastinate_prune_stalled_workers_v1(:seconds)"), {"seconds": seconds}
    )
    db.session.commit()


STALLED_JOBS = text(
    "SELECT job.id, job.queueing_lock FROM procrastinate_jobs job"
    " LEFT JOIN procrastinate_workers worker ON worker.id = job.worker_id"
    " WHERE job.status = 'doing' AND (job.worker_id IS NULL"
    " OR worker.last_heartbeat < now() - make_interval(secs => :seconds))"
    " FOR UPDATE OF job SKIP LOCKED"
)
FAIL_JOB = text("SELECT procrastinate_finish_job_v1(:id, 'failed', false)")


def queued_again(queueing_lock):
    """Return whether a job with this queueing lock is waiting to run."""
    return db.session.scalar(
        text(
            "SELECT EXISTS (SELECT 1 FROM procrastinate_jobs"
            " WHERE queueing_lock = :lock AND status = 'todo')"
        ),
        {"lock": queueing_lock},
    )


@queue.periodic(cron="17 3 * * *", periodic_id="daily")
@queue.task(name="remove_old_jobs", queueing_lock="remove_old_jobs")
def remove_old_jobs(timestamp):
    """Forget finished jobs: failed ones after 30 days (succeeded ones go at once)."""
    db.session.execute(
        text(
            "DELETE FROM procrastinate_jobs WHERE status IN ('failed', 'cancelled', 'aborted')"
            " AND id IN (SELECT job_id FROM procrastinate_events"
            " GROUP BY job_id HAVING max(at) < now() - :age)"
        ),
        {"age": timedelta(days=30)},
    )
    db.session.commit()


# --- Objects in the store: deleted after the rows that named them are gone -------------

# A store that is down is tried again for about 2 hours (2, 4, 8 ... 4,096 s apart).
STORE_ATTEMPTS = 12


@queue.task(
    name="delete_objects",
    retry=retrying(STORE_ATTEMPTS, errors=(*TRANSIENT_ERRORS, storage.StorageError)),
)
def delete_objects(keys=(), prefixes=()):
    """Delete objects, and every object under `prefixes` (a missing key is already done)."""
    for key in keys:
        storage.delete_key(key)
    for prefix in prefixes:
        storage.delete_prefix(prefix)


@queue.periodic(cron="*/10 * * * *", periodic_id="sweep")
@queue.task(
    name="sweep_uploads",
    queueing_lock="sweep_uploads",
    retry=retrying(3, errors=(*TRANSIENT_ERRORS, storage.StorageError)),
)
def sweep_uploads(timestamp):
    """Forget attachment uploads never confirmed in time, and delete what they left."""
    # Imported when the job runs: the attachments code imports this module to defer jobs.
    from app.attachments.uploads import sweep_unconfirmed

    swept = sweep_unconfirmed()
    if swept:
        logger.info("swept %s abandoned uploads from the object store", swept)


def retry_job(job_id):
    """Queue a failed or stalled job again, now, in the session's transaction."""
    db.session.execute(
        text("SELECT procrastinate_retry_job_v2(:id, now(), NULL, NULL, NULL)"), {"id": job_id}
    )
