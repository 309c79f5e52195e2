"""One account cannot hold the job queue: a user's jobs run one at a time, upkeep has a slot.

A real worker (`flask worker`, four slots) runs the jobs; the slow jobs are word counts of a
page that sends a byte a second until the fetch's 10 s deadline ends them.
"""

import pytest
from flask import g
from sqlalchemy import text

from app import jobs
from app.extensions import db
from app.worker import upkeep
from devenv.visitors import Browser
from tests.databases import sql_rows
from tests.webservers import Reply, serve_pages, serve_raw, trickle_body
from tests.workers import wait_for

FLOOD_PER_ACCOUNT = 3  # WORD_COUNTS_UNFINISHED_PER_USER: all a user may queue at once
# The flood's fetches run for 10 s, so work done within this took no turn after them.
WITHIN_SECONDS = 6
PAGES = {"/": Reply(b"<p>pelican fish</p>"), "/again": Reply(b"<p>pelican</p>")}


pytestmark = pytest.mark.usefixtures("no_jobs")


def status(browser, location):
    """Return a word count's status as its owner sees it."""
    return browser.get(location, headers={"Accept": "application/json"}).json["status"]


def running_jobs_per_lock(app):
    """Return how many jobs run at once for each lock (an account) now."""
    rows = sql_rows(
        app,
        "SELECT lock, count(*) FROM procrastinate_jobs WHERE status = 'doing'"
        " AND task_name = 'count_web_page' GROUP BY lock",
    )
    return dict(rows)


def queued_job_ids(app):
    return {job_id for (job_id,) in sql_rows(app, "SELECT id FROM procrastinate_jobs")}


def defer_upkeep(app):
    """Queue remove_old_jobs and return its job's id; if the workers' schedule queued today's
    run already (it is due at 03:17), its queueing lock refuses a second: that one is the one."""
    with app.test_request_context():
        g.request_id = "upkeep"
        try:
            job_id = jobs.defer(upkeep.remove_old_jobs, timestamp=0)
        except jobs.AlreadyQueued:
            db.session.rollback()
            return db.session.scalar(
                text(
                    "SELECT id FROM procrastinate_jobs WHERE queueing_lock = 'remove_old_jobs'"
                    " AND status = 'todo'"
                )
            )
        db.session.commit()
        return job_id


def test_two_flooding_accounts_leave_room_for_a_third_user_and_for_upkeep(
    app, user, other_user, workers
):
    victim = Browser(app.test_client())
    assert victim.signup("cat@example.com", "cat").status_code == 302
    with serve_raw(trickle_body) as slow, serve_pages(PAGES) as site:
        workers.start()
        # A first count starts the worker's counting child, so the timed one below is warm.
        first = victim.submit("/wordcount", {"url": f"http://127.0.0.1:{site.port}/"})
        wait_for(lambda: status(victim, first.headers["Location"]) == "done", message="warm-up")

        flood = [
            browser.submit("/wordcount", {"url": f"http://127.0.0.1:{slow.port}/{number}"})
            for browser in (user, other_user)
            for number in range(FLOOD_PER_ACCOUNT)
        ]
        assert all(response.status_code == 302 for response in flood)
        wait_for(lambda: running_jobs_per_lock(app), message="the flood running")

        count = victim.submit("/wordcount", {"url": f"http://127.0.0.1:{site.port}/again"})
        upkept = defer_upkeep(app)
        wait_for(
            lambda: status(victim, count.headers["Location"]) == "done",
            timeout=WITHIN_SECONDS,
            message="the third user's count done while the flood runs",
        )
        wait_for(
            lambda: upkept not in queued_job_ids(app),
            timeout=WITHIN_SECONDS,
            message="the upkeep job done while the flood runs",
        )
        # Each flooding account had one job running, and the rest of its flood waited.
        assert sorted(running_jobs_per_lock(app).values()) == [1, 1]
        flooded = [
            status(browser, r.headers["Location"])
            for browser, r in zip(
                [user] * FLOOD_PER_ACCOUNT + [other_user] * FLOOD_PER_ACCOUNT, flood, strict=True
            )
        ]
        assert flooded.count("running") == 2 and flooded.count("queued") == 4
