"""Deferring from the web: procrastinate's own query and values, without loading procrastinate.

The web defers with procrastinate's own defer_jobs query, on the request's own connection
(app/jobs.py); each job here is deferred that way and as procrastinate 3.10 defers
it, and the two rows compared.
"""

import procrastinate
import pytest
from flask import g
from procrastinate import manager, sql
from procrastinate.contrib.sqlalchemy import SQLAlchemyPsycopg2Connector
from procrastinate.exceptions import AlreadyEnqueued
from procrastinate.jobs import DEFAULT_PRIORITY
from sqlalchemy import text

from app import jobs, objects
from app.extensions import db
from app.worker import upkeep

pytestmark = pytest.mark.usefixtures("no_jobs")

# A job's row, all of its columns but its id, and its events' types.
JOB_ROW = "SELECT to_jsonb(job) - 'id' FROM procrastinate_jobs job WHERE id = :id"
JOB_EVENTS = "SELECT type::text FROM procrastinate_events WHERE job_id = :id ORDER BY id"
ARGUMENTS = {
    "keys": ["avatars/7/ünï code €.webp", 'a "quoted" \\ key'],
    "prefixes": [],
    "nested": {"list": [1, 2.5, None, True], "big": 2**53 + 1, "empty": {}},
}


def defer_as_procrastinate_does(task, lock, arguments):
    """Defer a job through procrastinate 3.10's App on the session's connection: what defer()
    did before the web stopped loading procrastinate."""
    queue = procrastinate.App(connector=SQLAlchemyPsycopg2Connector())
    deferrer = queue.configure_task(
        task.name,
        connection=db.session.connection(),
        queue=task.queue,
        lock=lock,
        queueing_lock=task.queueing_lock,
    )
    return deferrer.defer(**arguments, request_id=g.get("request_id"))


def defer_as_the_web_does(task, user_id, arguments):
    """Defer a job with jobs.defer, or in `user_id`'s lane with jobs.defer_for_user."""
    if user_id is None:
        return jobs.defer(task, **arguments)
    return jobs.defer_for_user(user_id, task, **arguments)


def job_in_the_queue(app, defer):
    """Return the row and events of the job `defer()` queues in a request, then roll it back."""
    with app.test_request_context():
        g.request_id = "req-42"
        job_id = defer()
        row = db.session.scalar(text(JOB_ROW), {"id": job_id})
        events = db.session.scalars(text(JOB_EVENTS), {"id": job_id}).all()
        db.session.rollback()
    return row, events


@pytest.mark.parametrize(
    ("task", "user_id", "arguments"),
    [(upkeep.remove_old_jobs, None, {"timestamp": 0}), (objects.delete_objects, 7, ARGUMENTS)],
    ids=["queueing-lock", "user-lock"],
)
def test_a_job_the_web_defers_is_the_one_procrastinate_would_have_deferred(
    app, task, user_id, arguments
):
    lock = f"user:{user_id}" if user_id else task.lock
    ours = job_in_the_queue(app, lambda: defer_as_the_web_does(task, user_id, arguments))
    theirs = job_in_the_queue(app, lambda: defer_as_procrastinate_does(task, lock, arguments))
    assert ours == theirs
    row, events = ours
    assert (row["task_name"], row["queue_name"], row["lock"]) == (task.name, task.queue, lock)
    assert row["args"] == {**arguments, "request_id": "req-42"}
    assert (row["status"], row["scheduled_at"], events) == ("todo", None, ["deferred"])


def test_the_web_defers_with_procrastinates_own_query_and_values():
    """The installed package's own defer_jobs query (app/jobs.py), run without importing it."""
    assert sql.queries["defer_jobs"] == jobs.DEFER_JOBS
    assert jobs.QUEUEING_LOCK_INDEX == manager.QUEUEING_LOCK_CONSTRAINT
    assert jobs.PRIORITY == DEFAULT_PRIORITY


def test_a_second_waiting_job_of_a_queueing_lock_is_refused_with_one_clear_error(app):
    with app.app_context():
        jobs.defer(upkeep.remove_old_jobs, timestamp=0)
        db.session.commit()
        with pytest.raises(jobs.AlreadyQueued, match="queueing lock remove_old_jobs"):
            jobs.defer(upkeep.remove_old_jobs, timestamp=1)
        db.session.rollback()
        with pytest.raises(AlreadyEnqueued):  # where procrastinate refuses it too
            defer_as_procrastinate_does(upkeep.remove_old_jobs, None, {"timestamp": 1})
        db.session.rollback()
    with app.app_context():
        waiting = db.session.scalars(text("SELECT args FROM procrastinate_jobs")).all()
    assert waiting == [{"timestamp": 0, "request_id": None}]
