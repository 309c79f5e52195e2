"""The job queue (procrastinate, in PostgreSQL), as features use it: tasks, retries, defer().

The web process only defers: `defer()` adds a job in the current database transaction, so
the job exists if and only if the rows it works on were committed. The worker that runs the
jobs is app/worker/. This module imports no feature, and nothing of procrastinate: its package
imports psycopg 3, with libpq and OpenSSL copies of its own, which cost a web worker that only
defers 11.8 MB (a fresh app held 93.9 MB with them, holds 82.1 MB without). So each feature
declares its tasks on a `jobs.Blueprint` in its own `tasks.py` (the bucket's in
app/objects.py), with the arguments procrastinate's Blueprint takes; create_app records them
with `register_tasks`, the worker makes procrastinate's tasks of them (app/worker/tasks.py),
and `defer()` runs procrastinate's own query (DEFER_JOBS). Every task is small and idempotent
(it may run again after a worker dies). See docs/jobs.md.
"""

import logging
from collections.abc import Callable
from dataclasses import dataclass, replace

from flask import g, has_request_context
from psycopg2.errors import UniqueViolation
from psycopg2.extras import Json
from sqlalchemy.exc import IntegrityError, InterfaceError, OperationalError

from app.extensions import db

logger = logging.getLogger("memo.jobs")
# procrastinate logs each job in several lines; ours is the one line per job.
logging.getLogger("procrastinate").setLevel(logging.WARNING)

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

# procrastinate 3.10's query that defers jobs (`defer_jobs` in its queries.sql), on the
# function, row type and unique index of the queue's schema that revision 0006 applied
# (migrations/procrastinate/schema-3.10.0.sql, checked against the installed package by
# tests/test_jobs.py); tests/test_deferring.py checks the query, the index's name and the
# priority a job gets without one (its DEFAULT_PRIORITY) against the installed package.
DEFER_JOBS = (
    "SELECT  unnest(\n"
    "  procrastinate_defer_jobs_v1(\n"
    "    %(jobs)s::procrastinate_job_to_defer_v1[]\n"
    "  )\n"
    ") AS id;"
)
PRIORITY = 0
QUEUEING_LOCK_INDEX = "procrastinate_jobs_queueing_lock_idx_v1"  # one waiting job a lock


class AlreadyQueued(Exception):
    """A job of this task's queueing lock is waiting already; the transaction cannot go on."""


@dataclass(frozen=True)
class Retry:
    """Retry `errors` with waits that double (base, base², ...) up to a cap, then give up.

    procrastinate's RetryStrategy has no cap: a mail's 12th wait would have been 68 minutes.
    """

    max_attempts: int
    errors: tuple
    base_seconds: int
    cap_seconds: int

    def wait_seconds(self, attempts, error):
        """Return how long a job that ran `attempts` times and raised `error` waits, or None."""
        if attempts >= self.max_attempts or not isinstance(error, self.errors):
            return None
        return min(self.base_seconds ** (attempts + 1), self.cap_seconds)


def retrying(max_attempts, errors=TRANSIENT_ERRORS, base_seconds=2):
    """Return a policy that retries `errors` with backoff (2, 4, 8 ... s, at most
    MAX_RETRY_WAIT_SECONDS between two tries), then gives up."""
    return Retry(max_attempts, tuple(errors), base_seconds, MAX_RETRY_WAIT_SECONDS)


@dataclass(frozen=True)
class Periodic:
    """A schedule of a task: the workers defer it at each `cron` tick, once however many run."""

    cron: str
    periodic_id: str


@dataclass(frozen=True)
class Task:
    """A task as a feature declared it; called, it runs its function (as tests and sweeps do)."""

    function: Callable
    name: str
    queue: str
    lock: str | None
    queueing_lock: str | None
    retry: Retry | None
    pass_context: bool
    periodic: tuple[Periodic, ...] = ()

    def __call__(self, *args, **kwargs):
        return self.function(*args, **kwargs)


class Blueprint:
    """The tasks of one feature, declared with the arguments procrastinate's Blueprint takes."""

    def __init__(self):
        self.tasks = {}

    def task(
        self,
        *,
        name,
        queue=DEFAULT_QUEUE,
        lock=None,
        queueing_lock=None,
        retry=None,
        pass_context=False,
    ):
        """Declare the function decorated as the task `name` (a name queued jobs keep)."""

        def declare(function):
            return self.add(Task(function, name, queue, lock, queueing_lock, retry, pass_context))

        return declare

    def periodic(self, *, cron, periodic_id=""):
        """Have the workers defer the task decorated at each `cron` tick."""

        def schedule(task):
            return self.add(replace(task, periodic=(*task.periodic, Periodic(cron, periodic_id))))

        return schedule

    def add(self, task):
        """Keep `task` (a later declaration of its name replaces it) and return it."""
        self.tasks[task.name] = task
        return task


# Every task create_app registered, by name: what a worker runs.
registered_tasks = {}


def register_tasks(*blueprints):
    """Record the tasks declared on these blueprints for the worker (again: nothing changes)."""
    for blueprint in blueprints:
        for name, task in blueprint.tasks.items():
            if registered_tasks.setdefault(name, task) is not task:
                raise ValueError(f"two tasks are named {name}")


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


def queue_job(task, lock, arguments, queueing_lock=None):
    """Queue a job of `task` with `lock` in the session's transaction, with the request id;
    return its id, or raise AlreadyQueued (when a job of its queueing lock, the task's or
    `queueing_lock`, is waiting)."""
    arguments[REQUEST_ID] = g.get("request_id") if has_request_context() else None
    # The values procrastinate's SQLAlchemyPsycopg2Connector sends: a row of
    # procrastinate_job_to_defer_v1 as a tuple, its arguments as psycopg2's Json, and no
    # scheduled_at (run now). A job that defers one (a reminder's mail) does it the same way,
    # on its own session, never on the worker's queue connections.
    waiting = queueing_lock or task.queueing_lock
    job = (task.queue, task.name, PRIORITY, lock, waiting, Json(arguments), None)
    try:
        return db.session.connection().exec_driver_sql(DEFER_JOBS, {"jobs": [job]}).scalar_one()
    except IntegrityError as error:
        if not waiting_already(error):
            raise
        raise AlreadyQueued(
            f"{task.name}: a job with the queueing lock {waiting} is waiting already"
        ) from error


def waiting_already(error):
    """Whether a failed defer met a waiting job of the same queueing lock."""
    violated = error.orig.diag.constraint_name if isinstance(error.orig, UniqueViolation) else None
    return violated == QUEUEING_LOCK_INDEX


blueprint = Blueprint()


@blueprint.task(name="ping")
def ping():
    """Do nothing: `flask jobs ping` times the queue with it."""


# Objects in the store are deleted and swept by app/objects.py's own tasks.
