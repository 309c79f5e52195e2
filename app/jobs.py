"""The job queue (procrastinate, in PostgreSQL), as features use it: queues, retries, defer().

The web process only defers: `defer()` adds a job in the current database transaction, so
the job exists if and only if the rows it works on were committed. The worker that runs the
jobs is app/worker/. This module imports no feature: each declares its tasks on a
procrastinate Blueprint in its own `tasks.py` (the bucket's in app/objects.py), and
create_app registers them with `register_tasks`. Every task is small and idempotent (it may
run again after a worker dies). See docs/jobs.md.
"""

import logging
from datetime import UTC, datetime

import procrastinate
from flask import g, has_request_context
from procrastinate.contrib.sqlalchemy import SQLAlchemyPsycopg2Connector
from sqlalchemy.exc import InterfaceError, OperationalError

from app.extensions import db

logger = logging.getLogger("memo.jobs")
# procrastinate logs each job in several lines; ours is the one line per job.
logging.getLogger("procrastinate").setLevel(logging.WARNING)

# Deferring happens on the web's own SQLAlchemy connection (see defer); the worker
# swaps in procrastinate's psycopg 3 connector, which LISTENs for new jobs.
queue = procrastinate.App(connector=SQLAlchemyPsycopg2Connector())
# A job deferred from inside a job (a worker's) goes in the session's transaction too; there
# the queue's connector is the worker's psycopg 3 one, so deferring goes through this app,
# whose connector is never swapped.
deferrer = procrastinate.App(connector=SQLAlchemyPsycopg2Connector())

# The worker's own queue connections: a pool for fetching, finishing and heartbeats,
# plus one LISTEN connection outside the pool. Job threads use the app's SQLAlchemy pool.
QUEUE_POOL_SIZE = 2
LISTEN_CONNECTIONS = 1
# Scheduled upkeep and mail have queues of their own, each with a worker slot of its own
# (app/worker/runtime.py): a flood of slow user jobs or a hanging mail provider holds back
# neither.
MAINTENANCE_QUEUE = "maintenance"
MAIL_QUEUE = "mail"
# The queue of every other job a request queues; the main pool takes it and upkeep.
DEFAULT_QUEUE = "default"
# A retried job waits 2, 4, 8 ... s, and never longer than this between two attempts.
MAX_RETRY_WAIT_SECONDS = 900

# Failures worth another attempt: the database did not answer (tasks add the store's).
TRANSIENT_ERRORS = (OperationalError, InterfaceError)
REQUEST_ID = "request_id"


def register_tasks(*blueprints):
    """Add the tasks declared on these blueprints to the queue, once per process."""
    for blueprint in blueprints:
        if all(queue.tasks.get(name) is task for name, task in blueprint.tasks.items()):
            continue  # an earlier create_app registered them
        # No namespace: a job in the queue names its task, and these names predate blueprints.
        # A job deferred by the previous release must find its task in this one, and the
        # other way round, during a rolling deploy. procrastinate 3.10 prefixes "<namespace>:"
        # only to a non-empty namespace (utils.add_namespace).
        queue.add_tasks_from(blueprint, namespace="")


def worker_connections(concurrency):
    """Return the database connections one worker process holds at most."""
    return concurrency + QUEUE_POOL_SIZE + LISTEN_CONNECTIONS


def defer(task, **arguments):
    """Queue `task(**arguments)` in the session's transaction: it runs only if that commits."""
    return queue_job(task, task.lock, arguments)


def defer_for_user(user_id, task, **arguments):
    """Queue `task(**arguments)` as one of `user_id`'s jobs: a user's jobs run one at a time."""
    # procrastinate runs no job whose lock an earlier or running job holds, so one account's
    # queued work takes one worker slot, whatever it queues, and other users get the rest.
    return queue_job(task, f"user:{user_id}", arguments)


def queue_job(task, lock, arguments):
    """Queue a job of `task` with `lock` in the session's transaction, with the request id."""
    arguments[REQUEST_ID] = g.get("request_id") if has_request_context() else None
    return deferrer.configure_task(
        task.name,
        connection=db.session.connection(),
        queue=task.queue,
        lock=lock,
        queueing_lock=task.queueing_lock,
    ).defer(**arguments)


class CappedBackoff(procrastinate.BaseRetryStrategy):
    """Retry `errors` with waits that double (base, base², ...) up to a cap, then give up.

    procrastinate's RetryStrategy has no cap: a mail's 12th wait would have been 68 minutes.
    """

    def __init__(self, max_attempts, errors, base_seconds, cap_seconds):
        self.max_attempts, self.errors = max_attempts, tuple(errors)
        self.base_seconds, self.cap_seconds = base_seconds, cap_seconds

    def get_retry_decision(self, *, exception, job):
        if job.attempts >= self.max_attempts or not isinstance(exception, self.errors):
            return None
        wait = min(self.base_seconds ** (job.attempts + 1), self.cap_seconds)
        return procrastinate.RetryDecision(retry_in={"seconds": wait})


def retrying(max_attempts, errors=TRANSIENT_ERRORS, base_seconds=2):
    """Return a strategy that retries `errors` with backoff (2, 4, 8 ... s, at most
    MAX_RETRY_WAIT_SECONDS between two tries), then gives up."""
    return CappedBackoff(max_attempts, errors, base_seconds, MAX_RETRY_WAIT_SECONDS)


@queue.task(name="ping")
def ping():
    """Do nothing: `flask jobs ping` times the queue with it."""


# Objects in the store are deleted and swept by app/objects.py's own tasks.


def retry_failed_job(job_id):
    """Queue a failed job again, to run now, with procrastinate's retry on the app's engine."""
    with deferrer.open(db.engine):
        deferrer.job_manager.retry_job_by_id(job_id, retry_at=datetime.now(UTC))
