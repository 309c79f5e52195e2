"""Faults against real worker processes: killed, stopped, the store down, two at once."""

import re
import signal
import threading
import time
from collections import Counter
from contextlib import contextmanager

from devenv import pictures
from devenv.services import stored_keys
from devenv.visitors import Browser
from tests.webservers import HTML_HEADERS, Reply, serve_pages, serve_raw, trickle_body
from tests.workers import wait_for

ARTICLE = b"<p>The pelican is a bird.</p>"


def status(user, location):
    """Return a word count's status, asked for as JSON."""
    return user.get(location, headers={"Accept": "application/json"}).json["status"]


@contextmanager
def slow_count_running(user, workers, seconds):
    """Start a worker, queue a count of a page that takes `seconds` to answer; yield both
    once the worker is fetching it."""
    started = threading.Event()

    def answer(sock, stop):
        started.set()
        stop.wait(seconds)
        body = b"<p>slow but sure words</p>"
        sock.sendall(HTML_HEADERS + f"Content-Length: {len(body)}\r\n\r\n".encode() + body)

    with serve_raw(answer) as server:
        worker = workers.start()
        url = f"http://127.0.0.1:{server.port}/"
        location = user.submit("/wordcount", {"url": url}).headers["Location"]
        assert started.wait(20)
        assert status(user, location) == "running"
        yield worker, location


def test_a_worker_killed_mid_job_leaves_it_to_the_next_worker(user, workers):
    with slow_count_running(user, workers, 4) as (first, location):
        first.signal(signal.SIGKILL)
        first.wait(timeout=10)
        second = workers.start()
        # Once the dead worker missed its heartbeats, recovery queues the job again.
        wait_for(lambda: status(user, location) == "done", timeout=60, message="the count done")
    assert "was running on a worker that stopped; queued again" in second.log()
    page = user.get(location).get_data(as_text=True)
    assert '<td class="word">slow</td>' in page


def test_sigterm_during_a_slow_fetch_lets_the_job_finish_and_exits_within_25_s(user, workers):
    with slow_count_running(user, workers, 3) as (worker, location):
        asked = time.monotonic()
        worker.signal(signal.SIGTERM)
        assert worker.wait(timeout=25) == 0
        stopped_after = time.monotonic() - asked
    assert stopped_after < 25
    assert status(user, location) == "done"  # finished, not lost
    log = worker.log()
    assert "SIGTERM: taking no new jobs" in log and "outcome=succeeded" in log


def test_the_store_down_during_a_photo_job_fails_it_and_the_old_photo_stays(
    app, stoppable_app, stoppable_store, workers
):
    ann = Browser(stoppable_app.test_client())
    assert ann.signup().status_code == 302
    environ = stoppable_store.environment()
    workers.start(
        **{name: environ[name] for name in ("S3_BUCKET", "S3_ENDPOINT_URL", "S3_PUBLIC_URL")}
    )

    def photo_src():
        page = ann.get("/mypage").get_data(as_text=True)
        return re.search(r'<img id="profile-image" src="([^"]+)"', page)[1]

    assert ann.upload_photo(pictures.jpeg()).status_code == 302
    old = wait_for(lambda: "/avatars/" in photo_src() and photo_src(), message="the first photo")

    workers.started[0].signal(signal.SIGSTOP)  # the upload is stored before the store goes
    assert ann.upload_photo(pictures.png()).status_code == 302
    stoppable_store.stop()
    workers.started[0].signal(signal.SIGCONT)
    failed = wait_for(
        lambda: 'data-status="failed"' in ann.get("/mypage").get_data(as_text=True),
        message="the failure on my page",
    )
    page = ann.get("/mypage").get_data(as_text=True)
    assert failed and "The photo store did not answer" in page and "Your photo is unchanged" in page
    assert photo_src() == old
    stoppable_store.restart()
    assert stored_keys(stoppable_store, "avatars/1/") == {
        old.removeprefix(f"{stoppable_store.public_url}/")
    }


def test_two_workers_never_run_one_job_twice(app, workers):
    users = []
    for number in range(3):
        browser = Browser(app.test_client())
        assert browser.signup(f"u{number}@example.com", f"user{number}").status_code == 302
        users.append(browser)
    pages = {f"/{number}": Reply(ARTICLE) for number in range(9)}
    with serve_pages(pages) as site:
        first, second = workers.start(), workers.start()
        locations = []
        for number in range(9):
            url = f"http://127.0.0.1:{site.port}/{number}"
            owner = users[number % 3]
            locations.append((owner, owner.submit("/wordcount", {"url": url}).headers["Location"]))
        wait_for(
            lambda: all(status(owner, location) == "done" for owner, location in locations),
            timeout=60,
            message="every count done",
        )
    fetched = Counter(request["path"] for request in site.requests)
    assert fetched == Counter({path: 1 for path in pages})
    lines = re.findall(r"job=count_web_page id=(\d+) ", first.log() + second.log())
    assert sorted(Counter(lines).values()) == [1] * 9


def test_pages_that_404_are_too_big_or_too_slow_fail_with_the_reason(user, workers):
    pages = {"/gone-soon": Reply(b"moved away", "text/html", 404)}
    pages["/huge"] = Reply(b"word " * (500 * 1024))  # 2.5 MB, over the 2 MB cap
    with serve_pages(pages) as site, serve_raw(trickle_body) as slow:
        workers.start()
        reasons = {
            f"http://127.0.0.1:{site.port}/gone-soon": "The site answered 404 Not Found.",
            f"http://127.0.0.1:{site.port}/huge": "The page is larger than 2 MB",
            f"http://127.0.0.1:{slow.port}/": "The site took longer than 10 seconds",
        }
        locations = {
            url: user.submit("/wordcount", {"url": url}).headers["Location"] for url in reasons
        }
        wait_for(
            lambda: all(status(user, where) == "failed" for where in locations.values()),
            timeout=60,
            message="every count failed",
        )
    for url, location in locations.items():
        shown = user.get(location, headers={"Accept": "application/json"}).json
        assert reasons[url] in shown["error"]
