"""The job queue: deferring in a transaction, the worker process, the operator's commands."""

import asyncio
import contextlib
import importlib.metadata
import re
import signal
from datetime import timedelta
from pathlib import Path

import procrastinate
import pytest
from flask import g
from procrastinate.jobs import Job, Status
from procrastinate.manager import JobManager
from sqlalchemy import text

from app import jobs, objects
from app.accounts import tasks as accounts_tasks
from app.extensions import db
from app.worker import runtime, upkeep
from devenv import ROOT, pictures
from devenv.services import stored_keys
from tests.workers import empty_queue, run_queued_jobs, wait_for

QUEUED = "SELECT id, task_name, status, args FROM procrastinate_jobs ORDER BY id"


@pytest.fixture(autouse=True)
def no_jobs_or_workers(postgres):
    """Start every test here with an empty queue and no registered worker."""
    empty_queue(postgres.main_url)


def queued(app):
    """Return the jobs in the queue as dicts."""
    with app.app_context():
        return [dict(row._mapping) for row in db.session.execute(text(QUEUED))]


def defer_in_request(app, task, request_id="req-42", **arguments):
    """Defer `task` as a request with `request_id` would, and commit."""
    with app.test_request_context():
        g.request_id = request_id
        job_id = jobs.defer(task, **arguments)
        db.session.commit()
    return job_id


def test_a_job_deferred_in_a_rolled_back_transaction_does_not_exist(app):
    with app.test_request_context():
        jobs.defer(upkeep.remove_old_jobs, timestamp=0)
        db.session.rollback()
    assert queued(app) == []


def test_a_job_commits_with_its_transaction_and_carries_the_request_id(app):
    job_id = defer_in_request(app, upkeep.remove_old_jobs, timestamp=0)
    assert queued(app) == [
        {
            "id": job_id,
            "task_name": "remove_old_jobs",
            "status": "todo",
            "args": {"timestamp": 0, "request_id": "req-42"},
        }
    ]


def test_a_worker_runs_a_job_and_logs_one_line_with_the_request_id(app, workers):
    worker = workers.start()
    # A job with no queueing lock: the worker's schedule may defer remove_old_jobs itself when
    # it starts at 03:17, and that one's lock would refuse a second.
    job_id = defer_in_request(app, objects.delete_objects, keys=[], prefixes=[])
    line = wait_for(
        lambda: next((ln for ln in worker.log().splitlines() if f"id={job_id} " in ln), None),
        message="the job's log line",
    )
    assert "job=delete_objects" in line and "request_id=req-42" in line
    assert "attempt=1" in line and "duration_ms=" in line and "outcome=succeeded" in line
    # Succeeded jobs are deleted when they finish.
    wait_for(lambda: job_id not in {job["id"] for job in queued(app)}, message="job removal")


def test_sigterm_stops_an_idle_worker_at_once_and_unregisters_it(app, workers):
    worker = workers.start()
    worker.signal(signal.SIGTERM)
    assert worker.wait(timeout=25) == 0
    assert "SIGTERM: taking no new jobs" in worker.log()
    with app.app_context():
        assert db.session.scalar(text("SELECT count(*) FROM procrastinate_workers")) == 0


def test_a_killed_worker_is_noticed_and_its_heartbeat_record_goes(app, workers):
    first = workers.start()
    first.signal(signal.SIGKILL)
    first.wait(timeout=10)
    workers.start()

    def live_workers():
        with app.app_context():
            return db.session.scalar(text("SELECT count(*) FROM procrastinate_workers"))

    # The second worker prunes the dead one's records once they missed their heartbeats:
    # a worker process registers its pool of job slots, its upkeep slot and its mail slot.
    wait_for(lambda: live_workers() == 3, timeout=60, message="one worker's records")


def test_a_worker_that_finds_no_job_ends_without_waiting_to_see_itself_registered(app, monkeypatch):
    # Told not to wait for jobs, procrastinate's worker registers, finds none and unregisters
    # at once; the runtime used to wait out REGISTER_WAIT_SECONDS for a registration gone by
    # (whether it saw one depends on timing: five drains, as a test's mail deliveries do).
    monkeypatch.setattr(runtime, "REGISTER_WAIT_SECONDS", 3600)

    def waited(number, frame):
        raise AssertionError("the worker waited to see a registration that had ended")

    previous = signal.signal(signal.SIGALRM, waited)
    signal.alarm(60)
    try:
        for _ in range(5):
            run_queued_jobs(app)
    finally:
        signal.alarm(0)
        signal.signal(signal.SIGALRM, previous)


def test_a_worker_killed_during_a_recovery_leaves_the_next_recovery_free_to_run(app):
    """A dead worker's `doing` job keeps its lock for ever: recovery must not need one."""
    with app.app_context():
        dead = db.session.scalar(
            text(
                "INSERT INTO procrastinate_workers (last_heartbeat)"
                " VALUES (now() - interval '1 hour') RETURNING id"
            )
        )
        stalled = db.session.scalar(
            text(
                "INSERT INTO procrastinate_jobs"
                " (queue_name, task_name, lock, queueing_lock, args, status, worker_id)"
                " VALUES ('default', 'recover_stalled_jobs', 'upkeep', 'recover_stalled_jobs',"
                " '{\"timestamp\": 0}', 'doing', :dead) RETURNING id"
            ),
            {"dead": dead},
        )
        jobs.defer(upkeep.recover_stalled_jobs, timestamp=1)
        db.session.commit()
    run_queued_jobs(app)
    with app.app_context():
        workers_left = db.session.scalar(text("SELECT count(*) FROM procrastinate_workers"))
        status = db.session.scalar(
            text("SELECT status FROM procrastinate_jobs WHERE id = :id"), {"id": stalled}
        )
    assert workers_left == 0
    assert status != "doing"


# --- The operator's commands ----------------------------------------------------------------


def test_jobs_ping_waits_for_a_worker_to_run_its_jobs(app, runner, workers):
    workers.start()
    result = runner.invoke(args=["jobs", "ping", "--count", "20"])
    assert result.exit_code == 0, result.output
    assert re.fullmatch(r"20 job\(s\) run in [\d.]+ s \(\d+ jobs/s\)\n", result.output)


def test_jobs_ping_without_a_worker_says_so(runner):
    result = runner.invoke(args=["jobs", "ping", "--timeout", "1"])
    assert result.exit_code == 1
    assert "jobs still waiting after 1 s: is a worker up?" in result.output


def test_jobs_status_shows_queue_depth_and_workers(app, runner):
    defer_in_request(app, upkeep.remove_old_jobs, timestamp=0)
    result = runner.invoke(args=["jobs", "status"])
    assert result.exit_code == 0, result.output
    assert "maintenance  todo            1" in result.output
    assert "0 worker(s)" in result.output


@contextlib.asynccontextmanager
async def job_manager(app):
    """Yield procrastinate's public JobManager on the worker's own queue connections."""
    connector = runtime.worker_connector(app.config)
    await connector.open_async()
    try:
        yield JobManager(connector)
    finally:
        await connector.close_async()


def fail_job(app, job_id):
    """Fail a queued job for good, as a worker does after its last attempt.

    Through procrastinate's public JobManager, as a worker: register, fetch the job (it is
    the only one queued), finish it as failed, unregister.
    """

    async def as_a_worker():
        async with job_manager(app) as manager:
            worker_id = await manager.register_worker()
            job = await manager.fetch_job(queues=None, worker_id=worker_id)
            assert job is not None and job.id == job_id
            await manager.finish_job(job, Status.FAILED, delete_job=False)
            await manager.unregister_worker(worker_id)

    asyncio.run(as_a_worker())


def test_failures_are_listed_and_one_can_be_retried(app, runner):
    job_id = defer_in_request(app, upkeep.remove_old_jobs, timestamp=7)
    fail_job(app, job_id)
    listing = runner.invoke(args=["jobs", "failures"]).output
    assert f"{job_id}  " in listing and "remove_old_jobs  {'timestamp': 7}  after 1 attempt(s)" in (
        listing
    )

    result = runner.invoke(args=["jobs", "retry", str(job_id)])
    assert result.exit_code == 0 and f"job {job_id} queued again" in result.output
    assert [job["status"] for job in queued(app)] == ["todo"]
    assert "no failed jobs" in runner.invoke(args=["jobs", "failures"]).output


def test_only_a_failed_job_can_be_retried(app, runner):
    job_id = defer_in_request(app, upkeep.remove_old_jobs, timestamp=0)
    result = runner.invoke(args=["jobs", "retry", str(job_id)])
    assert result.exit_code == 1
    assert f"job {job_id} is todo; only failed jobs are retried" in result.output
    assert "job 999 is not found" in runner.invoke(args=["jobs", "retry", "999"]).output


# --- The schema (revision 0006) -------------------------------------------------------------


def test_the_installed_procrastinate_matches_the_schema_the_migrations_build():
    shipped = Path(procrastinate.__file__).parent / "sql" / "schema.sql"
    version = importlib.metadata.version("procrastinate")
    vendored = ROOT / "migrations" / "procrastinate" / f"schema-{version}.sql"
    assert vendored.exists(), f"procrastinate {version} needs a revision (see revision 0006)"
    assert shipped.read_text() == vendored.read_text()


# --- Maintenance on a schedule ----------------------------------------------------------------


def test_each_scheduled_job_is_deferred_once_per_period_however_many_workers(app):
    name, tick = "delete_expired_login_sessions", 60

    async def every_worker_defers_the_same_tick():
        job = Job(id=None, queue="default", lock=None, queueing_lock=name,
                  task_name=name, task_kwargs={"timestamp": tick})  # fmt: skip
        async with job_manager(app) as manager:
            for _worker in range(3):  # every worker's deferrer asks for the same tick
                await manager.defer_periodic_job(job, periodic_id="hourly", defer_timestamp=tick)

    asyncio.run(every_worker_defers_the_same_tick())
    assert [job["task_name"] for job in queued(app)] == ["delete_expired_login_sessions"]
    periodic = runtime.worker_queue().periodic_registry.periodic_tasks.values()
    assert {scheduled.task.name for scheduled in periodic} >= {
        "recover_stalled_jobs",
        "fail_abandoned_work",
        "delete_expired_login_sessions",
        "delete_ended_throttle_windows",
        "sweep_objects",
        "remove_old_jobs",
        "fire_due_reminders",
    }


def test_the_worker_runs_each_task_as_it_was_declared(app):
    """Its function, queue, locks, context and retry policy, and its schedules."""
    queue = runtime.worker_queue()
    for name, declared in jobs.registered_tasks.items():
        task = queue.tasks[name]
        assert (task.func, task.queue, task.lock, task.queueing_lock, task.pass_context) == (
            declared.function,
            declared.queue,
            declared.lock,
            declared.queueing_lock,
            declared.pass_context,
        )
        strategy = task.retry_strategy
        assert (strategy.retry if strategy else None) == declared.retry, name
    schedules = {
        (periodic.task.name, periodic.periodic_id): periodic.cron
        for periodic in queue.periodic_registry.periodic_tasks.values()
    }
    assert schedules == {
        (task.name, periodic.periodic_id): periodic.cron
        for task in jobs.registered_tasks.values()
        for periodic in task.periodic
    }
    assert schedules[("remove_old_jobs", "daily")] == "17 3 * * *"
    assert queue.tasks["send_account_mail"].retry_strategy.retry.max_attempts == 16


def test_tasks_keep_the_names_queued_jobs_know_them_by(app):
    """A job names its task: one queued by the previous release must find it, and its schedule."""
    ours = {
        name for name in runtime.worker_queue().tasks if "procrastinate.builtin_tasks" not in name
    }
    assert ours == {
        "ping",
        "count_web_page",
        "process_photo",
        "write_export",
        "import_archive",
        "send_account_mail",
        "delete_objects",
        "fail_abandoned_work",
        "delete_expired_login_sessions",
        "delete_ended_throttle_windows",
        "delete_spent_mail_tokens",
        "delete_spent_access_tokens",
        "delete_old_exports",
        "purge_trash_and_history",
        "retag_notes",
        "rename_notes",
        "sweep_objects",
        "recover_stalled_jobs",
        "remove_old_jobs",
        "fire_due_reminders",
        "send_reminder",
        "push_reminder",
        "send_webhooks",
        "retry_webhooks",
    }
    assert set(runtime.worker_queue().periodic_registry.periodic_tasks) == {
        ("fail_abandoned_work", "abandoned"),
        ("delete_expired_login_sessions", "hourly"),
        ("delete_ended_throttle_windows", "hourly"),
        ("delete_spent_mail_tokens", "hourly"),
        ("delete_spent_access_tokens", "hourly"),
        ("delete_old_exports", "hourly"),
        ("purge_trash_and_history", "hourly"),
        ("retag_notes", "retag"),
        ("sweep_objects", "sweep"),
        ("recover_stalled_jobs", "stalled"),
        ("remove_old_jobs", "daily"),
        ("fire_due_reminders", "reminders"),
        ("retry_webhooks", "webhooks"),
    }


def test_expired_login_sessions_are_deleted(app, user, other_user, count_rows):
    with app.app_context():
        db.session.execute(
            text(
                "UPDATE login_session SET created_at = now() - interval '31 days'"
                " WHERE user_id = (SELECT id FROM \"user\" WHERE nickname = 'bob')"
            )
        )
        db.session.commit()
        accounts_tasks.delete_expired_login_sessions(timestamp=0)
    assert count_rows("login_session") == 1
    assert user.get("/").status_code == 200  # ann's session is young: still signed in


def test_ended_throttle_windows_are_deleted(app, count_rows):
    with app.app_context():
        db.session.execute(
            text(
                "INSERT INTO login_throttle (scope, subject, failures, window_started_at) VALUES"
                " ('email', 'old', 9, now() - interval '1 hour'), ('email', 'new', 9, now())"
            )
        )
        db.session.commit()
        accounts_tasks.delete_ended_throttle_windows(timestamp=0)
        subjects = db.session.scalars(text("SELECT subject FROM login_throttle")).all()
    assert subjects == ["new"]


def test_objects_nothing_refers_to_are_deleted_once_an_hour_old(app, user, object_store):
    assert user.upload_photo(pictures.jpeg()).status_code == 302
    run_queued_jobs(app)
    assert user.upload_photo(pictures.png()).status_code == 302  # queued: its upload is kept
    with app.app_context():
        orphan = objects.put_photo(1, b"RIFF....WEBP", "image/webp", "webp")
        kept = stored_keys(object_store)
        objects.sweep_objects(timestamp=0)  # everything is younger than an hour
        assert stored_keys(object_store) == kept
        assert len(objects.sweep(min_age=timedelta(0)).orphans) == 1
    assert stored_keys(object_store) == kept - {orphan.removeprefix(f"{object_store.public_url}/")}
