"""Real worker processes for end-to-end tests, and a helper that runs queued jobs in-process.

A WorkerProcess is the Procfile's `worker` command (`flask worker`) in its own process group,
under TestingConfig (the only config that lets the fetcher reach pages served on 127.0.0.1)
against the suite's database and object store, with a two-second heartbeat so that a
killed worker's jobs are recovered within seconds (a busy machine can delay a one-second
heartbeat past the three a worker may miss, and a live worker's job would then run twice).
"""

import os
import signal
import subprocess
import time
from contextlib import contextmanager, suppress
from pathlib import Path

from app.worker import runtime
from devenv.liveserver import ROOT, LiveServer, procfile_command
from devenv.services import execute, query

HEARTBEAT_SECONDS = 2
QUEUE_TABLES = (
    "procrastinate_periodic_defers, procrastinate_events, procrastinate_jobs, procrastinate_workers"
)


def empty_queue(database_url):
    """Forget every job and worker, so a test starts with an empty queue."""
    execute(database_url, f"TRUNCATE {QUEUE_TABLES} RESTART IDENTITY CASCADE")


# Every job not running now (their events go with them, and procrastinate's trigger unlinks
# the schedule's record of it), and a job left running by a worker that is gone (no worker is
# connected: a test killed it), whose lock would hold back the next test's jobs of the same
# account until the worker's heartbeats are missed.
FORGET_JOBS = (
    "DELETE FROM procrastinate_jobs WHERE status <> 'doing' OR NOT EXISTS"
    " (SELECT FROM pg_stat_activity WHERE application_name = 'memo-worker')"
)


def forget_jobs(database_url):
    """Delete the jobs FORGET_JOBS names, on a connection of its own."""
    execute(database_url, FORGET_JOBS)


def settle_queue(database_url, timeout=30):
    """Wait until no job runs or is due, then drop the jobs queued for later (retries).

    Between two tests that share a worker: no job of the first one may act in the second.
    """
    busy = (
        "SELECT count(*) FROM procrastinate_jobs WHERE status = 'doing'"
        " OR (status = 'todo' AND (scheduled_at IS NULL OR scheduled_at <= now()))"
    )
    wait_for(lambda: query(database_url, busy)[0][0] == 0, timeout, message="an idle queue")
    forget_jobs(database_url)


def wait_for(condition, timeout=30, interval=0.1, message="condition"):
    """Poll `condition` until it returns something truthy, and return that; fail after `timeout`."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = condition()
        if value:
            return value
        time.sleep(interval)
    raise AssertionError(f"{message} not met within {timeout} s")


def run_queued_jobs(app):
    """Run every job queued so far in this process (procrastinate's worker, until none is left).

    For tests that change the app's config on the fly; end-to-end tests use WorkerProcess.
    """
    runtime.run_worker(app, concurrency=1, wait=False)


class WorkerProcess:
    """`flask worker` as the Procfile runs it; its output goes to `log_path`."""

    def __init__(self, database_url, store_environment, log_path, **environ):
        self.log_path = Path(log_path)
        self.environ = {
            **os.environ,
            **store_environment,
            "APP_SETTINGS": "config.TestingConfig",
            "TEST_DATABASE_URL": database_url,
            "WORKER_HEARTBEAT_SECONDS": str(HEARTBEAT_SECONDS),
            **environ,
        }
        self.process = None

    def start(self, timeout=30):
        """Start the worker and wait until it says it takes jobs."""
        with self.log_path.open("ab") as log:
            self.process = subprocess.Popen(
                procfile_command("worker"),
                cwd=ROOT,
                env=self.environ,
                stdout=log,
                stderr=subprocess.STDOUT,
                start_new_session=True,
            )
        wait_for(
            lambda: "worker started" in self.log() or self.process.poll() is not None,
            timeout,
            message="worker start",
        )
        if self.process.poll() is not None:
            raise RuntimeError(f"the worker exited with {self.process.returncode}:\n{self.log()}")
        return self

    def log(self):
        """Return what the worker printed so far."""
        return self.log_path.read_text(errors="replace") if self.log_path.exists() else ""

    def signal(self, number):
        """Send `number` to the worker (and only it, not its process group)."""
        if self.process.poll() is None:
            self.process.send_signal(number)

    def wait(self, timeout):
        """Wait for the worker to exit and return its exit code."""
        return self.process.wait(timeout=timeout)

    def stop(self):
        """Stop the worker (SIGTERM), kill what is left after 30 s, and return its exit code."""
        if self.process is None:
            return None
        self.signal(signal.SIGTERM)
        with suppress(subprocess.TimeoutExpired):
            self.process.wait(timeout=30)
        with suppress(ProcessLookupError):
            os.killpg(self.process.pid, signal.SIGKILL)
        return self.process.wait(timeout=10)


class Workers:
    """Starts worker processes for one test and stops them all after it."""

    def __init__(self, database_url, store_environment, folder):
        self.database_url = database_url
        self.store_environment = store_environment
        self.folder = Path(folder)
        self.started = []
        empty_queue(database_url)

    def start(self, **environ):
        """Start one more worker process and return it, running."""
        log_path = self.folder / f"worker-{len(self.started) + 1}.log"
        worker = WorkerProcess(self.database_url, self.store_environment, log_path, **environ)
        self.started.append(worker)
        return worker.start()

    def stop_all(self):
        for worker in self.started:
            worker.signal(signal.SIGTERM)
        for worker in self.started:
            worker.stop()


@contextmanager
def web_and_worker(postgres, object_store, folder, host=None, **environ):
    """Serve Memo as the Procfile does, web and a worker, until the block ends; `host`: a
    name for the site in PUBLIC_URL instead of 127.0.0.1 (passkeys need one); `environ`:
    more variables for both."""
    store = object_store.environment()
    # One gunicorn worker: its threads serve a browser's parallel requests, and a second
    # worker would only import the app again (the tests that need two start their own).
    web = LiveServer(postgres.main_url, store, folder / "gunicorn.log", workers=1, **environ)
    if host is not None:
        web.url = f"http://{host}:{web.port}"
        web.environ["PUBLIC_URL"] = web.url
    web.start()
    worker = Workers(postgres.main_url, store, folder)
    worker.start(**environ)
    try:
        yield web
    finally:
        web.terminate()
        worker.stop_all()
        web.stop()
