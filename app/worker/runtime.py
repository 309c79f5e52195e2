"""The worker process (`flask worker`, the Procfile's `worker:`): procrastinate's workers, run.

A worker runs jobs in threads, each inside an app context of its own, and logs one line per
job. It splits its slots into pools (user jobs, upkeep, mail), stops gracefully on SIGTERM
within the platform's 30 s, and starts again when the database comes back. The web never
imports this module; features queue their jobs through app/jobs.py. See docs/jobs.md.
"""

import asyncio
import logging
import os
import signal
import threading
import time
from contextlib import contextmanager

import procrastinate
import psycopg
import psycopg_pool
from flask import g
from procrastinate.worker import Worker
from sqlalchemy.engine import make_url

from app.jobs import (
    DEFAULT_QUEUE,
    MAIL_QUEUE,
    MAINTENANCE_QUEUE,
    QUEUE_POOL_SIZE,
    REQUEST_ID,
    register_tasks,
    registered_tasks,
)
from app.worker import upkeep
from app.worker.tasks import add_tasks, queue
from app.worker.upkeep import MISSED_HEARTBEATS
from config import direct_database_uri

logger = logging.getLogger("memo.jobs")

# The platform sends SIGKILL 30 s after SIGTERM. Running jobs get this long to finish
# (every job here is bounded below it: a fetch 10 s, a photo's decoding 20 s)...
SHUTDOWN_GRACE_SECONDS = 20
# ...and a job still running after this is left to stalled-job recovery: the process
# exits, its heartbeat stops, and another worker runs the job again.
SHUTDOWN_HARD_SECONDS = 24
# How long a starting worker waits for its pools to register before it takes stop signals.
REGISTER_WAIT_SECONDS = 5
# How long the worker's own queries wait for a queue connection (QUEUE_POOL_SIZE).
# psycopg_pool's default is 30 s: with the database gone, a stop signal waited that long.
QUEUE_POOL_WAIT_SECONDS = 5
# When the database goes away the worker tries again after 0.5, 1, 2, 2 ... s, so jobs
# resume within about 2 s of it being back; down for 5 minutes, the process exits 1.
RECONNECT_FIRST_SECONDS = 0.5
RECONNECT_MAX_SECONDS = 2
RECONNECT_GIVE_UP_SECONDS = 300
# Scheduled upkeep goes to a queue of its own, and one of a worker's job slots takes nothing
# else: a flood of slow user jobs cannot hold it back. That slot polls for work instead of
# LISTENing, so the worker holds no more connections than before.
MAINTENANCE_SLOTS = 1
MAINTENANCE_POLL_SECONDS = 2
# Mail has a slot of its own, beside the WORKER_CONCURRENCY slots: a provider that hangs (each
# try waits SMTP_TIMEOUT_SECONDS) holds that slot only, and every other job keeps its latency.
# The slot polls (no second LISTEN connection); a mail job holds a database connection only
# while it writes its link, never while it talks to the SMTP server, so the slot shares the
# job threads' connections and the dyno's budget is unchanged.
MAIL_SLOTS = 1
MAIL_POLL_SECONDS = 1
# What the worker's own queue connections raise when PostgreSQL goes away.
QUEUE_CONNECTION_ERRORS = (
    psycopg.OperationalError,
    psycopg_pool.PoolTimeout,
    procrastinate.exceptions.ConnectorException,
)


@contextmanager
def job_logged(flask_app, context):
    """Run a job in its own app context with its request id, and log it in one line."""
    job = context.job
    # Added by defer(); the task itself never sees it.
    request_id = job.task_kwargs.pop(REQUEST_ID, None) or "-"
    started = time.perf_counter()
    with flask_app.app_context():
        g.request_id = request_id
        outcome = "failed"
        try:
            yield
            outcome = "succeeded"
        except Exception as error:
            retry = context.task.get_retry_exception(error, job) if context.task else None
            outcome = f"{'retry later' if retry else 'failed'}: {type(error).__name__}: {error}"
            report = flask_app.extensions.get("error_reports")  # set with SENTRY_DSN
            if report and not retry:  # a job that will be retried is not an error yet
                report(error, job)
            raise
        finally:
            duration_ms = round((time.perf_counter() - started) * 1000, 1)
            fields = {"job": job.task_name, "id": job.id, "attempt": job.attempts + 1}
            logger.info("job", extra=fields | {"duration_ms": duration_ms, "outcome": outcome})


def job_log_middleware(flask_app):
    """Return the task middlewares (one for sync tasks, one for async ones) that log each job."""

    def run_in_app_context(call_next, context, worker):
        with job_logged(flask_app, context):
            return call_next()

    async def run_async_in_app_context(call_next, context, worker):
        with job_logged(flask_app, context):
            return await call_next()

    return [run_in_app_context, run_async_in_app_context]


def psycopg_conninfo(sqlalchemy_uri):
    """Return the libpq URL of the app's database, for psycopg 3."""
    return make_url(sqlalchemy_uri).set(drivername="postgresql").render_as_string(False)


class QueueConnector(procrastinate.PsycopgConnector):
    """procrastinate's psycopg 3 connector, whose LISTEN runs on a connector of its own.

    Behind PgBouncer in transaction mode the queue's queries (fetch, finish, heartbeat) go
    through the pooler like any transaction, but a LISTEN lives on one server session: it
    takes a direct connection (`listener`).
    """

    def __init__(self, listener, **pool_arguments):
        super().__init__(**pool_arguments)
        self.listener = listener

    async def open_async(self, pool=None):
        await super().open_async(pool)
        await self.listener.open_async()

    async def close_async(self):
        await self.listener.close_async()
        await super().close_async()

    async def listen_notify(self, on_notification, channels):
        await self.listener.listen_notify(on_notification, channels)


def worker_connector(config):
    """Return the psycopg 3 connector the worker fetches, finishes and listens with."""
    options = {"application_name": "memo-worker", "connect_timeout": 5}
    # A backstop, as for the app's own connections (config.py); PgBouncer 1.18 refuses it.
    timeout = f"-c idle_in_transaction_session_timeout={config['IDLE_IN_TRANSACTION_TIMEOUT_MS']}"
    backstop = {"options": timeout}
    listener = procrastinate.PsycopgConnector(
        conninfo=psycopg_conninfo(direct_database_uri(config)),
        pool_factory=psycopg_pool.AsyncNullConnectionPool,  # its one connection is its own
        kwargs={**options, **backstop},
    )
    # psycopg 3 prepares a query on the server after 5 runs; through PgBouncer 1.18 the
    # next transaction may reach a server that never saw it. None: never prepare.
    prepare = {"prepare_threshold": None} if config["DATABASE_POOLED"] else backstop
    return QueueConnector(
        listener,
        conninfo=psycopg_conninfo(config["SQLALCHEMY_DATABASE_URI"]),
        min_size=1,
        max_size=QUEUE_POOL_SIZE,
        timeout=QUEUE_POOL_WAIT_SECONDS,
        kwargs={**options, **prepare},
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
        "task_middleware": job_log_middleware(flask_app),
    }


def worker_pools(options):
    """Split a worker's slots: all but MAINTENANCE_SLOTS take any job but mail, those take
    upkeep only; and MAIL_SLOTS more take mail only."""
    concurrency = options["concurrency"]
    if concurrency <= MAINTENANCE_SLOTS:  # too few slots to set any aside
        return [options]
    maintenance = {
        **options,
        "name": f"{options['name']}-{MAINTENANCE_QUEUE}",
        "queues": [MAINTENANCE_QUEUE],
        "concurrency": MAINTENANCE_SLOTS,
        "listen_notify": False,
        "fetch_job_polling_interval": MAINTENANCE_POLL_SECONDS,
    }
    mail = {
        **options,
        "name": f"{options['name']}-{MAIL_QUEUE}",
        "queues": [MAIL_QUEUE],
        "concurrency": MAIL_SLOTS,
        "listen_notify": False,
        "fetch_job_polling_interval": MAIL_POLL_SECONDS,
    }
    main = {
        **options,
        "concurrency": concurrency - MAINTENANCE_SLOTS,
        "queues": [DEFAULT_QUEUE, MAINTENANCE_QUEUE],
    }
    return [main, maintenance, mail]


def worker_queue():
    """Return the queue with every task a worker runs: the features' and the upkeep's."""
    register_tasks(upkeep.blueprint)
    add_tasks(registered_tasks)
    return queue


def run_worker(flask_app, concurrency, wait=True):
    """Run jobs until SIGTERM or SIGINT (or, without `wait`, until none is left)."""
    worker_queue()
    options = {**worker_options(flask_app, concurrency), "wait": wait}
    with queue.replace_connector(worker_connector(flask_app.config)):
        asyncio.run(work(options, psycopg_conninfo(direct_database_uri(flask_app.config))))


async def work(options, conninfo):
    """Run the worker until a stop signal, starting it again whenever the database went away.

    procrastinate stops its worker when its connection to PostgreSQL breaks (a restart, a
    failover). Here it is started again as soon as the database answers, with waits that
    double from RECONNECT_FIRST_SECONDS up to RECONNECT_MAX_SECONDS; a database still down
    after RECONNECT_GIVE_UP_SECONDS makes the process exit 1, and the platform restarts it.
    """
    stop = Stopper()
    loop = asyncio.get_running_loop()
    for number in (signal.SIGTERM, signal.SIGINT):
        loop.add_signal_handler(number, stop, number)
    down_since = None
    while True:
        try:
            await run_until_stopped(options, stop)
            lost = "the queue stopped"
        except QUEUE_CONNECTION_ERRORS as error:
            lost = f"{type(error).__name__}: {error}"
        if stop.stopping or not options["wait"]:
            break
        down_since = down_since or time.monotonic()
        logger.warning("worker lost the database (%s); reconnecting", lost)
        if not await database_back(conninfo, stop, down_since):
            if stop.stopping:
                break
            logger.error(
                "the database is still down after %s s; exiting", RECONNECT_GIVE_UP_SECONDS
            )
            raise SystemExit(1)
        down_since = None
    logger.info("worker stopped")


async def run_until_stopped(options, stop):
    """Open the queue and run procrastinate's workers (the pools) until they stop or are stopped."""
    async with queue.open_async():
        pools = worker_pools(options)
        workers = [Worker(app=queue, **{**queue.worker_defaults, **pool}) for pool in pools]
        running = [asyncio.create_task(worker.run()) for worker in workers]
        stop.running = running
        await registered(workers, running)
        stop.start_cancelling()
        logger.info(
            "worker started: %s jobs at once (%s of them for upkeep only) and %s mail, "
            "heartbeat every %s s",
            options["concurrency"],
            MAINTENANCE_SLOTS if len(pools) > 1 else 0,
            MAIL_SLOTS if len(pools) > 1 else 0,
            options["update_heartbeat_interval"],
        )
        # One pool ending (the database went away) stops the others, to start them together.
        await asyncio.wait(running, return_when=asyncio.FIRST_COMPLETED)
        stop.cancel()
        # Every pool has unregistered before the queue's connections close (a gather would
        # return at the first pool's exception, leaving the other's record behind).
        await asyncio.wait(running)
        stop.running, stop.registered, stop.cancelled = [], False, False
        for pool in running:
            if not pool.cancelled() and pool.exception() is not None:
                raise pool.exception()


async def registered(workers, running):
    """Wait (a few seconds at most) until every one of procrastinate's `workers` has registered
    or already ended (its task in `running` is done).

    procrastinate registers a worker's record before it shields its loop from cancellation:
    a pool cancelled while registering (a SIGTERM just after start) leaves its record behind.
    A worker has its `worker_id` once registered, and shields its loop before it next yields.
    A worker that ended has unregistered and holds no `worker_id` again: one told not to wait
    for jobs ends as soon as none is left, and one that lost the database ends at once.
    """
    deadline = time.monotonic() + REGISTER_WAIT_SECONDS
    while time.monotonic() < deadline:
        if all(
            worker.worker_id is not None or task.done()
            for worker, task in zip(workers, running, strict=True)
        ):
            return
        await asyncio.sleep(0.05)


async def database_back(conninfo, stop, down_since):
    """Wait, with doubling pauses, until PostgreSQL accepts a connection; False if it never did."""
    pause = RECONNECT_FIRST_SECONDS
    while not stop.stopping and time.monotonic() - down_since < RECONNECT_GIVE_UP_SECONDS:
        await asyncio.sleep(pause)
        try:
            connection = await psycopg.AsyncConnection.connect(conninfo, connect_timeout=2)
        except psycopg.OperationalError:
            pause = min(pause * 2, RECONNECT_MAX_SECONDS)
            continue
        await connection.close()
        return True
    return False


class Stopper:
    """Stops the worker on a signal: gracefully the first time, at once the second."""

    def __init__(self):
        self.running = []  # procrastinate's worker tasks (one per pool), while they run
        self.registered = False  # whether they may be cancelled (see `registered`)
        self.cancelled = False
        self.stopping = False

    def start_cancelling(self):
        """The pools have registered: a stop asked meanwhile cancels them now."""
        self.registered = True
        if self.stopping:
            self.cancel()

    def cancel(self):
        """Cancel the running pools once they have registered, and only once.

        procrastinate turns the first cancellation into a graceful stop; a second one would
        cut that short, and the pool would never unregister.
        """
        if not self.registered or self.cancelled:
            return
        self.cancelled = True
        for pool in self.running:
            pool.cancel()  # procrastinate turns this into its graceful stop

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
        self.cancel()

    @staticmethod
    def exit_now():
        """Exit although a job still runs; another worker runs it again once we are gone."""
        logger.warning(
            "still stopping after %s s (a job still running, or the database not answering);"
            " exiting: a job cut short runs again elsewhere",
            SHUTDOWN_HARD_SECONDS,
        )
        os._exit(1)
