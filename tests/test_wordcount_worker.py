"""What the worker does with a word count: a refused page fails with the reason, deadlines and
budgets hold, the loopback block is lifted in the test suite only, a stopped dyno loses nothing."""

import signal
import threading
import time
from contextlib import suppress

import psutil
import pytest
from sqlalchemy import text

from app import create_app
from app.extensions import db
from app.features.wordcount.pages import fetch_settings
from app.features.wordcount.sandbox import count_limited
from app.fetcher.client import FetchError, Page, fetch
from app.models import WordCount
from devenv.liveserver import LOCAL_MAIL_SETTINGS
from tests.webservers import (
    HTML_HEADERS,
    Reply,
    redirect,
    serve_raw,
    trickle_body,
)
from tests.wordcounts import counted, queued_jobs, status_of, table_rows
from tests.workers import run_queued_jobs, wait_for

# --- Refused by the worker: the count fails with the reason ---------------------------------


@pytest.mark.parametrize(
    ("path", "message"),
    [
        ("/image", "Memo counts words of web pages and plain text only, not image/png."),
        ("/private", "The page redirected to http://10.0.0.1/admin. Memo only fetches public"),
        ("/gone", "The site answered 404 Not Found."),
    ],
)
def test_a_page_that_cannot_be_counted_fails_with_the_reason(
    app, user, site, count_rows, path, message
):
    site.add_pages({"/image": Reply(b"\x89PNG", "image/png")})
    site.add_pages({"/private": redirect("http://10.0.0.1/admin")})
    response = user.submit("/wordcount", {"url": site.url(path)})
    page = counted(app, user, response)
    status, shown = status_of(page)
    assert status == "failed" and message in shown
    assert "refresh" not in page and 'id="all-words"' not in page
    as_json = user.get(response.headers["Location"], headers={"Accept": "application/json"}).json
    assert as_json["status"] == "failed" and message in as_json["error"]
    assert count_rows("results") == 1


def test_a_failed_count_says_so_gives_the_reason_in_the_history_and_can_be_tried_again(
    app, user, site, count_rows
):
    response = user.submit("/wordcount", {"url": site.url("/gone")})
    page = counted(app, user, response)
    assert "Memo could not count the words of" in page and "Words of" not in page
    history = user.get("/wordcount").get_data(as_text=True)
    assert '<p class="reason">The site answered 404 Not Found.' in history
    assert "Try again" in page
    again = user.post("/wordcount", {"url": site.url("/gone")})
    assert again.status_code == 302 and again.headers["Location"] != response.headers["Location"]
    assert count_rows("results") == 2


def test_a_slow_page_fails_within_the_deadline(app, user, count_rows, monkeypatch):
    monkeypatch.setitem(app.config, "FETCH_DEADLINE_SECONDS", 1.5)
    with serve_raw(trickle_body) as server:
        response = user.submit("/wordcount", {"url": f"http://127.0.0.1:{server.port}/"})
        page = counted(app, user, response)
    assert status_of(page) == (
        "failed",
        "Status: failed. The site took longer than 1.5 seconds; Memo gave up.",
    )


def test_a_page_over_the_size_cap_fails(app, user, site, count_rows, monkeypatch):
    monkeypatch.setitem(app.config, "FETCH_MAX_BYTES", 1024)
    site.add_pages({"/long": Reply(b"word " * 1000)})
    page = counted(app, user, user.submit("/wordcount", {"url": site.url("/long")}))
    message = "The page is larger than 1 KB; Memo stopped reading there."
    assert status_of(page) == ("failed", f"Status: failed. {message}")


@pytest.mark.parametrize("label", ["punycode", "idna", "undefined"])
def test_a_page_declaring_a_charset_no_browser_knows_is_counted(app, user, site, label):
    # Before: punycode decoded for minutes; idna and undefined left the count running.
    site.add_pages({"/odd": Reply(b"<p>pelican pelican fish</p>", f"text/html; charset={label}")})
    page = counted(app, user, user.submit("/wordcount", {"url": site.url("/odd")}))
    assert status_of(page)[0] == "done"
    assert table_rows(page, "all-words") == [("pelican", 2), ("fish", 1)]


def test_a_count_over_its_cpu_budget_fails_for_good(app, user, site, monkeypatch):
    monkeypatch.setitem(app.config, "WORDCOUNT_CPU_SECONDS", 1)
    monkeypatch.setitem(app.config, "FETCH_MAX_BYTES", 16 * 1024 * 1024)
    site.add_pages({"/huge": Reply(b"<p>many words <b>of</b> text</p>" * 400_000)})
    location = user.submit("/wordcount", {"url": site.url("/huge")}).headers["Location"]
    run_queued_jobs(app)
    message = "Counting this page took more than 1 s of work; Memo stopped there."
    assert status_of(user.get(location).get_data(as_text=True)) == (
        "failed",
        f"Status: failed. {message}",
    )
    assert queued_jobs(app) == []  # not retried


def test_a_count_whose_job_was_lost_fails_after_a_while(app, user, site):
    location = user.submit("/wordcount", {"url": site.url()}).headers["Location"]
    with app.app_context():
        db.session.execute(text("UPDATE results SET created_at = now() - interval '1 hour'"))
        db.session.commit()
        assert WordCount.fail_abandoned(app.config["ABANDONED_AFTER"]) == 1
        db.session.commit()
    assert status_of(user.get(location).get_data(as_text=True))[0] == "failed"


# --- The loopback block is lifted in the test suite only ----------------------------------


def test_the_test_suite_reaches_loopback(app):
    with app.test_request_context():
        assert fetch_settings()["allow_loopback"] is True


@pytest.mark.parametrize("settings", ["config.ProductionConfig", "config.StagingConfig"])
def test_deployed_configs_cannot_lift_the_loopback_block(monkeypatch, site, settings):
    monkeypatch.setenv("SECRET_KEY", "s" * 40)
    monkeypatch.setenv("TWO_STEP_KEY", LOCAL_MAIL_SETTINGS["TWO_STEP_KEY"])
    monkeypatch.setenv("DATABASE_URL", "postgres://memo@db.example.com/memo")
    deployed = create_app(settings, {"FETCH_ALLOW_LOOPBACK": True})
    with deployed.test_request_context():
        options = fetch_settings()
    assert options["allow_loopback"] is False
    with pytest.raises(FetchError, match="127.0.0.1 is a loopback address"):
        fetch(site.url(), **options)
    assert site.requests == []


def test_development_cannot_lift_the_loopback_block(monkeypatch, site):
    monkeypatch.setenv("DATABASE_URL", "postgres://memo@localhost/memo")
    development = create_app("config.DevelopmentConfig", {"FETCH_ALLOW_LOOPBACK": True})
    with development.test_request_context():
        assert fetch_settings()["allow_loopback"] is False


# --- Counting -----------------------------------------------------------------------------


def test_no_transaction_stays_open_while_the_worker_fetches_a_page(app, user, postgres):
    seen = []

    def answer(sock, stop):
        # The job is fetching this very page now: is any of its connections mid-transaction?
        connection = postgres.connect()
        with connection.cursor() as cursor:
            cursor.execute(
                "SELECT count(*) FROM pg_stat_activity"
                " WHERE application_name = 'memo' AND state LIKE 'idle in transaction%'"
            )
            seen.append(cursor.fetchone()[0])
        connection.close()
        sock.sendall(HTML_HEADERS + b"Content-Length: 11\r\n\r\nhello world")

    with serve_raw(answer) as server:
        response = user.submit("/wordcount", {"url": f"http://127.0.0.1:{server.port}/"})
        page = counted(app, user, response)
    assert seen == [0]
    assert status_of(page)[0] == "done"


def test_a_count_goes_on_when_the_platform_stops_the_worker_dyno(app):
    # The platform sends SIGTERM to every process of the dyno, the counting child too; the
    # worker waits for its running jobs, so the count must finish (before: "took more than
    # 10 s of work", failed for good).
    page = Page(
        "https://example.com/",
        "text/html",
        b"<p>many words <b>of</b> text</p>" * 150_000,
        "text/html; charset=utf-8",
    )
    outcome = []
    counting = threading.Thread(target=lambda: outcome.append(count_limited(page, 10)))
    counting.start()
    me = psutil.Process()
    wait_for(
        lambda: len([p for p in me.children(recursive=True) if p.ppid() != me.pid]) > 0,
        timeout=10,
        message="the counting child started",
    )
    time.sleep(0.3)  # under way
    for child in me.children(recursive=True):
        with suppress(psutil.Error):
            child.send_signal(signal.SIGTERM)  # the fork server and the counting child
    counting.join(timeout=60)
    [(every_word, _)] = outcome
    assert every_word["total"] == 4 * 150_000
