"""Faults caused for real under gunicorn: a database restart, a lost object store, a killed worker.

PostgreSQL is stopped and started under load; a TCP proxy between the app and the S3 API resets
or stalls its connections; a worker gets SIGKILL while its request waits inside a transaction.
"""

import http.client
import os
import signal
import socket
import threading
import time
import urllib.request
from contextlib import suppress
from urllib.parse import urlencode, urlsplit

import psycopg2
import pytest

from devenv import pictures
from devenv.services import stop_postgres
from devenv.visitors import Visitor
from tests.databases import accepts_connections
from tests.workers import wait_for

DATABASE_DOWN = "its database is not answering"
STORE_DOWN = "The file store is not answering, so this could not be done. Nothing was changed"
RECOVERY_SECONDS = 5  # the guarantee: every request succeeds this soon after the database is back
PAUSE_SECONDS = 0.1  # between a visitor's requests


# PostgreSQL restarted under load


class Outcome:
    """One request of the load: when it started and ended, and its status or the exception."""

    def __init__(self, started, ended, status=None, text="", error=None):
        self.started, self.ended = started, ended
        self.status, self.text, self.error = status, text, error

    @property
    def succeeded(self):
        return self.status in (200, 302)


def keep_busy(visitor, number, stop, outcomes):
    """List notes and write one, over and over, until `stop` is set; record every outcome.

    A tenth of a second between requests: six visitors ask about 50 a second, each a request
    in flight when the database goes (as fast as they could, they took both cores: about
    180 a second and 30 CPU-s of the suite's, for no more requests in flight).
    """
    written = 0
    while not stop.is_set():
        for method, path in (("GET", "/"), ("POST", "/notes/new")):
            stop.wait(PAUSE_SECONDS)
            started = time.monotonic()
            try:
                if method == "GET":
                    response = visitor.get(path)
                else:
                    written += 1
                    response = visitor.post(path, {"title": f"user {number} note {written}"})
            except OSError as error:
                outcomes.append(Outcome(started, time.monotonic(), error=error))
                continue
            outcomes.append(Outcome(started, response.ended, response.status, response.text))


def six_writers(live_server, restartable_postgres):
    """Return the database's URL, Memo on it, and six signed-up visitors who will write busily
    (more notes a minute than a person saves)."""
    url = restartable_postgres.get_uri("memo")
    server = live_server(database_url=url, workers=2, NOTE_WRITES_PER_MINUTE="100000")
    visitors = [Visitor(server.url, timeout=20) for _ in range(6)]
    for number, visitor in enumerate(visitors):
        assert visitor.signup(f"user{number}@example.com", f"user{number}").status == 302
    return url, server, visitors


def busy_threads(visitors, stop, outcomes):
    """Start one thread a visitor, each keeping it busy until `stop`; return them."""
    threads = [
        threading.Thread(target=keep_busy, args=(visitor, number, stop, outcomes), daemon=True)
        for number, visitor in enumerate(visitors)
    ]
    for thread in threads:
        thread.start()
    return threads


def test_postgres_restarted_under_load_fails_only_meanwhile_and_workers_survive(
    live_server, restartable_postgres
):
    url, server, visitors = six_writers(live_server, restartable_postgres)
    workers = server.worker_pids()
    stop, outcomes = threading.Event(), []
    threads = busy_threads(visitors, stop, outcomes)
    try:
        time.sleep(2)
        went_down = time.monotonic()
        stop_postgres(restartable_postgres)
        time.sleep(1)
        restartable_postgres.ensure_postgres_running()  # pg_ctl start on the same data and socket
        wait_for(lambda: accepts_connections(url), timeout=30, message="PostgreSQL coming back")
        back = time.monotonic()
        time.sleep(RECOVERY_SECONDS + 3)
    finally:
        stop.set()
        for thread in threads:
            thread.join(timeout=30)

    failed = [outcome for outcome in outcomes if not outcome.succeeded]
    late = [outcome for outcome in outcomes if outcome.started > back + RECOVERY_SECONDS]
    recovered_after = max((o.ended for o in failed), default=back) - back
    print(f"{len(outcomes)} requests, {len(failed)} failed; last failure {recovered_after:.2f} s")
    assert all(outcome.succeeded for outcome in outcomes if outcome.ended < went_down)
    assert failed, "the restart went unnoticed: the test did not exercise it"
    log = server.log()
    assert all(outcome.status == 503 and DATABASE_DOWN in outcome.text for outcome in failed), (
        {(outcome.status, str(outcome.error)) for outcome in failed},
        log[log.find("Traceback") :][:4000],  # what a 500 raised, if one did
    )
    assert all(outcome.started < back + RECOVERY_SECONDS for outcome in failed)
    assert len(late) > 10 and all(outcome.succeeded for outcome in late)
    assert server.worker_pids() == workers, "a worker was restarted"
    assert "Traceback" not in server.log()


def busy_for(visitors, seconds):
    """Keep the visitors busy for `seconds`; return the outcomes of their requests."""
    stop, outcomes = threading.Event(), []
    threads = busy_threads(visitors, stop, outcomes)
    time.sleep(seconds)
    stop.set()
    for thread in threads:
        thread.join(timeout=30)
    return outcomes


def test_connections_a_restart_dropped_fail_no_request_once_the_database_is_back(
    live_server, restartable_postgres
):
    """The pool does not ping a connection before use: each worker holds connections that the
    restart dropped, and the statement that fails on one is sent again on a new one."""
    url, server, visitors = six_writers(live_server, restartable_postgres)
    assert all(outcome.succeeded for outcome in busy_for(visitors, 2))
    stop_postgres(restartable_postgres)  # while no request is in flight: nobody sees it go
    restartable_postgres.ensure_postgres_running()
    wait_for(lambda: accepts_connections(url), timeout=30, message="PostgreSQL coming back")

    outcomes = busy_for(visitors, 3)
    assert len(outcomes) > 20
    assert all(outcome.succeeded for outcome in outcomes), {
        (outcome.status, str(outcome.error)) for outcome in outcomes if not outcome.succeeded
    }
    assert "Traceback" not in server.log() and "database unavailable" not in server.log()


# The object store cut off or hanging


class LinkProxy:
    """A TCP proxy on 127.0.0.1 in front of `target_port`, whose link a test can break."""

    def __init__(self, target_port):
        self.target_port = target_port
        self.listener = socket.create_server(("127.0.0.1", 0))
        self.listener.settimeout(0.2)
        self.url = f"http://127.0.0.1:{self.listener.getsockname()[1]}"
        self.mode = "forward"
        self.links = []
        self.closed = threading.Event()
        threading.Thread(target=self.accept, daemon=True).start()

    def accept(self):
        while not self.closed.is_set():
            try:
                client, _ = self.listener.accept()
            except TimeoutError:
                continue
            except OSError:
                return
            if self.mode == "cut":
                reset(client)
            elif self.mode == "hang":
                self.links.append(client)  # held open, never read, never answered
            else:
                upstream = socket.create_connection(("127.0.0.1", self.target_port))
                self.links += [client, upstream]
                for source, sink in ((client, upstream), (upstream, client)):
                    threading.Thread(target=pump, args=(source, sink), daemon=True).start()

    def break_links(self, mode):
        self.mode = mode
        for link in self.links:
            reset(link)
        self.links.clear()

    def cut(self):
        """Reset every connection, open or new: the store is down."""
        self.break_links("cut")

    def hang(self):
        """Accept new connections and never answer them: the store is stalled."""
        self.break_links("hang")

    def mend(self):
        """Forward again."""
        self.mode = "forward"

    def close(self):
        self.closed.set()
        self.break_links("cut")
        self.listener.close()


def pump(source, sink):
    """Copy bytes one way until either side closes."""
    with suppress(OSError):
        while data := source.recv(65536):
            sink.sendall(data)
    reset(sink)


def reset(sock):
    """Close a socket with a TCP reset, as a crashed or unreachable peer looks."""
    with suppress(OSError):
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, b"\1\0\0\0\0\0\0\0")
        sock.close()


@pytest.fixture
def store_link(object_store):
    """A LinkProxy between the app and the object store's API (photos are still read directly)."""
    proxy = LinkProxy(urlsplit(object_store.endpoint_url).port)
    yield proxy
    proxy.close()


def profile_image(visitor):
    """Return the src of the profile image on the visitor's my page."""
    return visitor.get("/mypage").text.split('id="profile-image" src="')[1].split('"')[0]


@pytest.mark.parametrize("fault", ["cut", "hang"])
def test_a_store_cut_off_or_hanging_fails_uploads_within_5_s_and_nothing_else(
    live_server, workers, object_store, store_link, fault
):
    server = live_server(S3_ENDPOINT_URL=store_link.url)
    workers.start(S3_ENDPOINT_URL=store_link.url)
    ann = Visitor(server.url)
    assert ann.signup("ann@example.com", "ann").status == 302
    assert ann.upload_photo(pictures.jpeg()).status == 302
    old_photo = wait_for(lambda: "/avatars/" in profile_image(ann) and profile_image(ann))
    _, note_id = ann.create_note("Written before the fault")

    getattr(store_link, fault)()
    upload = ann.upload_photo(pictures.png())
    assert upload.status == 503 and STORE_DOWN in upload.text
    assert upload.ended - upload.started < 5

    assert f'id="profile-image" src="{old_photo}"' in ann.get("/mypage").text
    with urllib.request.urlopen(old_photo, timeout=5) as photo:
        assert photo.status == 200
    for path in ("/", f"/notes/{note_id}", "/notes/new", "/mypage/export", "/wordcount"):
        assert ann.get(path).status == 200, path
    assert ann.create_note("Written during the fault")[1] is not None
    assert ann.post("/mypage/nickname", {"nickname": "annie"}).status == 302

    store_link.mend()
    assert ann.upload_photo(pictures.png()).status == 302
    wait_for(lambda: profile_image(ann) != old_photo, message="the new photo")


def test_a_hanging_store_holds_no_accounts_row(live_server, store_link, postgres):
    server = live_server(S3_ENDPOINT_URL=store_link.url)
    ann = Visitor(server.url)
    assert ann.signup("ann@example.com", "ann").status == 302
    store_link.hang()
    uploading = threading.Thread(target=ann.upload_photo, args=(pictures.png(),), daemon=True)
    uploading.start()
    wait_for(lambda: store_link.links, timeout=10, message="the upload waiting on the store")
    # While the store does not answer, another request can take ann's row at once.
    other = psycopg2.connect(postgres.main_url)
    try:
        with other.cursor() as cursor:
            cursor.execute("SET lock_timeout = '200ms'")
            cursor.execute(
                'SELECT id FROM "user" WHERE email = %s FOR UPDATE', ("ann@example.com",)
            )
            assert cursor.fetchone() is not None
    finally:
        other.close()
    uploading.join(15)
    store_link.mend()


# A worker killed in the middle of a request


def waiting_backends(postgres):
    """Return the pids of the app's database sessions waiting for a lock."""
    rows = postgres.query(
        "SELECT pid FROM pg_stat_activity"
        " WHERE application_name = 'memo' AND wait_event_type = 'Lock'"
    )
    return [row[0] for row in rows]


def backend_alive(postgres, pid):
    return bool(postgres.query("SELECT 1 FROM pg_stat_activity WHERE pid = %s", (pid,)))


def notes_titled(postgres, title):
    return postgres.query("SELECT count(*) FROM note WHERE title = %s", (title,))[0][0]


def test_a_worker_killed_mid_request_is_replaced_and_half_a_note_is_never_saved(
    live_server, postgres
):
    server = live_server(workers=2)  # one is killed, the other serves on
    ann, bob = Visitor(server.url), Visitor(server.url)
    assert ann.signup("ann@example.com", "ann").status == 302
    assert bob.signup("bob@example.com", "bob").status == 302
    workers = server.worker_pids()
    ann.get("/notes/new")
    form = {"csrf_token": ann.token, "title": "Half-written?", "content": "all or nothing"}

    # Writes to notes wait behind this lock, so the note's INSERT is caught mid-transaction.
    blocker = psycopg2.connect(postgres.main_url)
    blocker.cursor().execute("LOCK TABLE note IN SHARE MODE")
    victim = http.client.HTTPConnection("127.0.0.1", server.port, timeout=30)
    victim.connect()
    outcome = {}

    def post_the_note():
        try:
            headers = {
                "Content-Type": "application/x-www-form-urlencoded",
                "Cookie": "; ".join(f"{name}={value}" for name, value in ann.cookies.items()),
            }
            victim.request("POST", "/notes/new", urlencode(form), headers)
            outcome["status"] = victim.getresponse().status
        except (http.client.HTTPException, OSError) as error:
            outcome["error"] = error

    request = threading.Thread(target=post_the_note, daemon=True)
    try:
        request.start()
        [backend] = wait_for(lambda: waiting_backends(postgres), message="the INSERT waiting")
        worker = server.worker_serving(victim.sock.getsockname()[1])
        assert worker in workers
        os.kill(worker, signal.SIGKILL)
        request.join(timeout=10)
        assert bob.get("/").status == 200  # the other worker serves on
    finally:
        blocker.rollback()
        blocker.close()
    wait_for(
        lambda: not backend_alive(postgres, backend), message="the killed request's session end"
    )

    # The front tells the client the request failed (the worker died under it): 502, not a reply.
    assert outcome.get("status") == 502, outcome
    replaced = server.wait_for_workers(2)
    assert worker not in replaced and workers - {worker} <= replaced
    assert notes_titled(postgres, "Half-written?") == 0
    assert "Worker (pid:" in server.log() and "SIGKILL" in server.log()

    resubmit = Visitor(server.url, cookies=ann.cookies)
    response, note_id = resubmit.create_note("Half-written?", "all or nothing")
    assert response.status == 302 and note_id
    assert notes_titled(postgres, "Half-written?") == 1
    assert bob.create_note("Bob carries on")[1] is not None
