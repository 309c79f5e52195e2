"""The queue kept clean: the daily remove_old_jobs forgets jobs finished more than
FINISHED_JOBS_KEEP_DAYS ago (procrastinate's own builtin task), however many, and keeps the
younger ones and every job still to run."""

import pytest
from sqlalchemy import text

import config
from app import create_app, jobs
from app.extensions import db
from app.worker import upkeep
from tests.databases import sql_rows
from tests.workers import empty_queue, run_queued_jobs

# Finished jobs made at once, with the event that finished them this many days ago.
FINISHED = text(
    "WITH made AS (INSERT INTO procrastinate_jobs (queue_name, task_name, args, status, attempts)"
    " SELECT 'default', 'ping', '{}', CAST(:status AS procrastinate_job_status), 1"
    " FROM generate_series(1, :count) RETURNING id)"
    " INSERT INTO procrastinate_events (job_id, type, at)"
    " SELECT id, CAST(:status AS procrastinate_job_event_type),"
    " now() - make_interval(days => :days)"
    " FROM made"
)
LATER = text("UPDATE procrastinate_jobs SET scheduled_at = now() + interval '1 day'")
LEFT = "SELECT status, count(*) FROM procrastinate_jobs GROUP BY status ORDER BY status"


@pytest.fixture
def keeping_two_days(app, postgres):
    """An app whose finished jobs are kept two days."""
    empty_queue(postgres.main_url)
    application = create_app("config.TestingConfig", {"FINISHED_JOBS_KEEP_DAYS": 2})
    yield application
    with application.app_context():
        db.engine.dispose()


def finished(app, status, count, days):
    with app.app_context():
        db.session.execute(FINISHED, {"status": status, "count": count, "days": days})
        db.session.commit()


def test_jobs_finished_longer_ago_than_the_set_age_are_removed_however_many(keeping_two_days):
    app = keeping_two_days
    finished(app, "failed", 1_000, days=3)  # a flood of old failures: one statement for all
    finished(app, "cancelled", 1, days=3)
    finished(app, "failed", 2, days=1)  # younger than two days: kept
    with app.app_context():
        # A job still to run, however old, is never removed (scheduled later: not run here).
        jobs.defer(jobs.ping)
        db.session.execute(LATER)
        jobs.defer(upkeep.remove_old_jobs, timestamp=0)
        db.session.commit()
    run_queued_jobs(app)
    assert sql_rows(app, LEFT) == [("todo", 1), ("failed", 2)]


def test_the_age_comes_from_the_environment_with_a_default_of_30_days():
    environ = {"TEST_DATABASE_URL": "postgresql://x/y"}
    assert config.TestingConfig(environ).FINISHED_JOBS_KEEP_DAYS == 30
    seven = config.TestingConfig({**environ, "FINISHED_JOBS_KEEP_DAYS": "7"})
    assert seven.FINISHED_JOBS_KEEP_DAYS == 7
