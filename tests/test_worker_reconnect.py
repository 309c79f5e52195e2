"""The worker survives a PostgreSQL restart: it reconnects, and jobs resume within 10 s."""

import signal
import time

from app import create_app, jobs
from app.extensions import db
from devenv.services import query, stop_postgres
from tests.databases import accepts_connections
from tests.workers import WorkerProcess, wait_for


def defer_ping(url):
    """Queue one `ping` job on the database at `url`, as the web process queues jobs."""
    app = create_app("config.TestingConfig")
    with app.app_context():
        jobs.defer(jobs.ping)
        db.session.commit()
        db.engine.dispose()


def pings_left(url):
    return query(url, "SELECT count(*) FROM procrastinate_jobs WHERE task_name = 'ping'")[0][0]


def test_the_worker_reconnects_after_a_database_restart_and_runs_jobs_within_10_s(
    restartable_postgres, object_store, tmp_path, monkeypatch
):
    url = restartable_postgres.get_uri("memo")
    monkeypatch.setenv("TEST_DATABASE_URL", url)
    worker = WorkerProcess(url, object_store.environment(), tmp_path / "worker.log").start()
    try:
        defer_ping(url)
        wait_for(lambda: pings_left(url) == 0, timeout=20, message="a job before the restart")
        stop_postgres(restartable_postgres)
        time.sleep(1)
        restartable_postgres.ensure_postgres_running()
        wait_for(lambda: accepts_connections(url), timeout=30, message="PostgreSQL back")
        back = time.monotonic()
        defer_ping(url)
        wait_for(lambda: pings_left(url) == 0, timeout=10, message="the job after the restart")
        print(f"a job ran {time.monotonic() - back:.1f} s after PostgreSQL was back")
        assert worker.process.poll() is None, worker.log()  # the same process carries on
        assert "worker lost the database" in worker.log()
    finally:
        assert worker.stop() == 0, worker.log()


def test_a_worker_told_to_stop_while_its_database_is_down_stops_cleanly_within_20_s(
    restartable_postgres, object_store, tmp_path, monkeypatch
):
    """Nothing is running, so nothing is worth waiting for: the stop comes well before the
    platform's SIGKILL (30 s after SIGTERM), and clean.

    Seen failing before the queue pool's wait was bounded: the stop waited on a connection
    for the backstop's 24 s and exited 1 with "a job is still running".
    """
    url = restartable_postgres.get_uri("memo")
    monkeypatch.setenv("TEST_DATABASE_URL", url)
    worker = WorkerProcess(url, object_store.environment(), tmp_path / "worker.log").start()
    try:
        stop_postgres(restartable_postgres)
        time.sleep(4)  # the worker is in the middle of noticing, or already reconnecting
        asked = time.monotonic()
        worker.signal(signal.SIGTERM)
        wait_for(lambda: worker.process.poll() is not None, timeout=20, message="the stop")
        print(f"the worker stopped {time.monotonic() - asked:.1f} s after SIGTERM")
        assert worker.process.returncode == 0, worker.log()
        assert "worker stopped" in worker.log()
    finally:
        worker.stop()
