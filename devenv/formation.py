"""The formation run: many web and worker processes on one small PostgreSQL through PgBouncer.

A dedicated role may hold at most ROLE_LIMIT server connections; PgBouncer (transaction mode,
at most POOL_SIZE server connections) sits before it. Web processes are the Procfile's `web`
(devenv/liveserver.py) behind a router that spreads client connections over them; workers are
the Procfile's `worker`. Signed-in users drive mixed load and confirm what they were told;
meanwhile the release phase runs a revision that takes a lock, and one worker and one web
process are killed (SIGKILL) and replaced. The same load runs first with every process
connected straight to PostgreSQL (the role's limit lifted: they need more), for comparison.
Used by tests/test_formation.py (short) and bench/formation.py (long).
"""

import http.client
import io
import json
import os
import random
import re
import shutil
import signal
import statistics
import subprocess
import threading
import time
import uuid
from collections import Counter, defaultdict
from concurrent.futures import ThreadPoolExecutor
from contextlib import suppress
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from urllib.parse import urlsplit

import procrastinate
import psycopg2
import requests
from PIL import Image
from psycopg2 import sql
from sqlalchemy.engine import make_url

from app import jobs
from devenv import dyno
from devenv.liveserver import ROOT, LiveServer, procfile_command, production_environment
from devenv.pooler import PgBouncer
from devenv.revisions import MIGRATIONS, head_revision
from devenv.router import Router, RouterHandler
from devenv.services import execute, query
from devenv.visitors import Visitor

ROLE_LIMIT = 20
POOL_SIZE = 10
WEB_PROCESSES = 4
WORKER_PROCESSES = 3
USERS = 50
THINK_SECONDS = 0.05
# Long enough that a busy 2-core machine never misses three in a row (a live worker's job
# would run twice); short enough that a killed worker's job runs again within the run.
HEARTBEAT_SECONDS = 5
ROUTE_IDS = re.compile(r"/\d+")
COUNT_LOCATION = re.compile(r"^/wordcount/(\d+)$")
PHOTO = re.compile(r'<img id="profile-image" src="([^"]+)"')
ATTACHMENT_LINK = re.compile(r'href="/attachments/(\d+)"')
UPLOAD_FORM = re.compile(r'<form class="upload"[^>]*action="([^"]+)".*?</form>', re.DOTALL)
HIDDEN = re.compile(r'<input type="hidden" name="([^"]+)" value="([^"]*)">')
JOB_LINE = re.compile(r"job=(\w+) id=(\d+) .*outcome=succeeded")
PAGE = b"<html><body><p>" + b"pelicans glide over the quiet harbour " * 50 + b"</p></body></html>"


def tiny_jpeg():
    """Return a small JPEG, a profile photo to upload."""
    output = io.BytesIO()
    Image.new("RGB", (120, 80), (30, 120, 200)).save(output, "JPEG")
    return output.getvalue()


class BalancingHandler(RouterHandler):
    """Like the platform's router: each client connection sticks to one live web process."""

    served_by = None

    def forward(self, method, path, body, headers):
        upstreams = self.server.upstreams
        if self.connected_to not in upstreams:
            self.close_upstream()
            self.connected_to = random.choice(upstreams)  # noqa: S311 (spreading load)
            self.upstream_connection = http.client.HTTPConnection(*self.connected_to, timeout=60)
        self.served_by = self.connected_to[1]
        self.upstream_connection.request(method, path, body=body, headers=headers)
        answer = self.upstream_connection.getresponse()
        data = answer.read()
        if answer.will_close:
            self.close_upstream()
        return answer, data

    def end_headers(self):
        """Name the web process (its port) that served, or failed, the request."""
        if self.served_by:
            self.send_header("X-Served-By", str(self.served_by))
        super().end_headers()


class BalancingRouter(Router):
    """A router over several web processes; add() and remove() change them at once."""

    def __init__(self, upstreams):
        ThreadingHTTPServer.__init__(self, ("127.0.0.1", 0), BalancingHandler)
        self.upstreams = list(upstreams)
        self.url = f"http://127.0.0.1:{self.server_address[1]}"
        self.thread = threading.Thread(target=self.serve_forever, daemon=True)

    def add(self, upstream):
        self.upstreams = [*self.upstreams, upstream]

    def remove(self, upstream):
        self.upstreams = [known for known in self.upstreams if known != upstream]


class PageHandler(BaseHTTPRequestHandler):
    """A local web page for the word counts."""

    def do_GET(self):
        self.send_response(200)
        self.send_header("Content-Type", "text/html; charset=utf-8")
        self.send_header("Content-Length", str(len(PAGE)))
        self.end_headers()
        self.wfile.write(PAGE)

    def log_message(self, *args):
        """Quiet."""


@dataclass
class Record:
    """One request: when it started, how long it took, who served it, what went wrong."""

    phase: str
    kind: str
    started: float
    seconds: float
    served_by: int | None
    failure: str | None


@dataclass
class PhaseRecord:
    """What the users asked for and were told, in one phase."""

    phase: str
    records: list = field(default_factory=list)
    notes: dict = field(default_factory=dict)  # id -> title, every note the server confirmed
    counts: list = field(default_factory=list)  # (user, path) of every word count accepted
    photos: int = 0
    attachments: int = 0
    declined: int = 0  # photo uploads a limit answered with 429 and Retry-After
    stop: threading.Event = field(default_factory=threading.Event)


class User(Visitor):
    """A signed-in person whose every request is recorded in the current load."""

    def __init__(self, router_url, number, page_url):
        super().__init__(router_url)
        self.email = f"formation-{number}-{uuid.uuid4().hex[:6]}@example.com"
        self.nickname = f"form{number}{uuid.uuid4().hex[:6]}"
        self.page_url = page_url
        self.load = None
        self.notes = []
        # People are at different points of their routine: the rarer actions (an attachment
        # every 23rd turn, a photo every 31st) start within the first seconds of a run.
        self.turn = number
        self.photo_after = 0.0  # a 429's Retry-After: no photo before then

    def request(self, method, path, **kwargs):
        kind = f"{method} {ROUTE_IDS.sub('/<id>', path.split('?')[0])}"
        started = time.monotonic()
        try:
            response = super().request(method, path, **kwargs)
        except (OSError, http.client.HTTPException) as error:
            self.record(kind, started, None, type(error).__name__)
            raise
        served_by = int(response.headers.get("X-Served-By") or 0) or None
        failure = f"HTTP {response.status}" if response.status >= 400 else None
        if kind == "POST /mypage/photo" and response.status == 429 and self.load is not None:
            # The front's 4 upload slots per dyno, or the unfinished-photo limit: answered as
            # designed, with Retry-After. Not a failure; the person waits as told.
            failure = None
            self.load.declined += 1
            self.photo_after = time.monotonic() + float(response.headers.get("Retry-After", 30))
        self.record(kind, started, served_by, failure)
        return response

    def record(self, kind, started, served_by, failure):
        if self.load is not None:
            seconds = time.monotonic() - started
            self.load.records.append(
                Record(self.load.phase, kind, started, seconds, served_by, failure)
            )

    def check(self, kind, condition, failure, response=None):
        """Record a failure (what the user saw was wrong) unless `condition` holds.

        An answer that was an HTTP error (`response`) is recorded already, with its server.
        """
        answered_error = response is not None and response.status >= 400
        if not condition and not answered_error and self.load is not None:
            self.load.records.append(
                Record(self.load.phase, kind, time.monotonic(), 0.0, None, failure)
            )
        return condition

    # --- what a user does -------------------------------------------------------------------

    def list_notes(self):
        response = self.get("/")
        self.check("GET /", response.status == 200, "notes list", response)

    def write_note(self):
        title = f"{self.nickname} note {uuid.uuid4().hex[:8]}"
        response, note_id = self.create_note(title, "harbour pelicans and quiet words")
        if self.check("POST /notes/new", note_id is not None, f"{response.status}", response):
            self.load.notes[note_id] = title
            self.notes.append(note_id)

    def read_note(self):
        if not self.notes:
            return self.write_note()
        note_id = random.choice(self.notes)  # noqa: S311
        response = self.get(f"/notes/{note_id}")
        title = self.load.notes.get(note_id, "")
        self.check("GET /notes/<id>", title in response.text, "title", response)

    def search(self):
        response = self.get("/search?q=pelicans")
        self.check("GET /search", response.status == 200, "search", response)

    def count_page(self):
        """Ask for a word count of the local page (a job), then wait until it is done."""
        self.get("/wordcount")
        response = self.post("/wordcount", {"url": self.page_url})
        if not self.check(
            "POST /wordcount", COUNT_LOCATION.match(response.location), "no job", response
        ):
            return
        self.load.counts.append((self, response.location))
        self.wait_for_count(response.location, seconds=30)

    def wait_for_count(self, path, seconds):
        """Poll a word count's JSON until it ends; return its status."""
        deadline, status = time.monotonic() + seconds, None
        while time.monotonic() < deadline:
            answer = self.request("GET", path, headers={"Accept": "application/json"})
            status = answer.status == 200 and json.loads(answer.text)["status"]
            if status in ("done", "failed"):
                break
            time.sleep(0.2)
        return status

    def upload_photo_and_wait(self):
        """Change my photo and wait until my page shows the new one (a job made it)."""
        if time.monotonic() < self.photo_after:
            return self.list_notes()
        before = PHOTO.findall(self.get("/mypage").text)
        response = self.post_file("/mypage/photo", "photo", ("me.jpg", tiny_jpeg(), "image/jpeg"))
        if response.status == 429:
            return None
        if not self.check(
            "POST /mypage/photo", response.location == "/mypage", "no upload", response
        ):
            return
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline:
            shown = PHOTO.findall(self.get("/mypage").text)
            if shown and shown != before and "/avatars/" in shown[0]:
                self.load.photos += 1
                return
            time.sleep(0.3)
        self.check("photo", False, "the new photo never showed")

    def attach(self):
        """Attach a file as a browser without scripts does, then download it byte for byte."""
        known = len(self.notes)
        self.write_note()  # a note of its own: never one at its attachment limit
        if len(self.notes) == known:
            return
        note_id = self.notes[-1]
        page = self.get(f"/notes/{note_id}")
        form = UPLOAD_FORM.search(page.text)
        if not self.check("attachment", form, "no upload form", page):
            return
        fields = dict(HIDDEN.findall(form.group(0)))
        data = f"attached by {self.nickname} {uuid.uuid4().hex}".encode()
        fields["x-amz-meta-filename"] = "formation.txt"
        answer = requests.post(
            form.group(1).replace("&amp;", "&"),
            data=fields,
            files={"file": ("formation.txt", data, "text/plain")},
            allow_redirects=False,
            timeout=30,
        )
        if not self.check("attachment", answer.status_code == 303, f"store: {answer.status_code}"):
            return
        back = urlsplit(answer.headers["Location"])
        confirmed = self.get(f"{back.path}?{back.query}")
        if confirmed.status >= 400:  # recorded, with the web process that failed it
            return
        page = self.get(f"/notes/{note_id}")
        links = ATTACHMENT_LINK.findall(page.text)
        if not self.check("attachment", links, "not listed", page):
            return
        link = self.get(f"/attachments/{max(links, key=int)}")
        download = link.headers.get("Location", "")
        got = requests.get(download, timeout=30) if download else None
        body = got.content[:80] if got is not None else b""
        seen = f"{link.status} then {got.status_code if got is not None else '-'}: {body!r}"
        if self.check("attachment", got is not None and got.content == data, seen, link):
            self.load.attachments += 1

    ACTIONS = ("list_notes", "write_note", "read_note", "search", "write_note", "read_note")

    def visit(self):
        """Act until the load stops: reads, writes and searches; now and then a job."""
        while not self.load.stop.is_set():
            self.turn += 1
            if self.turn % 9 == 0:
                action = self.count_page
            elif self.turn % 23 == 0:
                action = self.attach
            elif self.turn % 31 == 0:
                action = self.upload_photo_and_wait
            else:
                action = getattr(self, self.ACTIONS[self.turn % len(self.ACTIONS)])
            with suppress(OSError, http.client.HTTPException):  # recorded by request()
                action()
            time.sleep(THINK_SECONDS)


class Worker:
    """The Procfile's `worker` on the formation's database; its output goes to a log file."""

    def __init__(self, environ, log_path):
        self.log_path = Path(log_path)
        self.mark = dyno.new_mark("worker")  # stopped as the platform stops a dyno
        with self.log_path.open("ab") as log:
            self.process = subprocess.Popen(
                procfile_command("worker"),
                cwd=ROOT,
                env={**environ, dyno.MARK: self.mark},
                stdout=log,
                stderr=subprocess.STDOUT,
                start_new_session=True,
            )

    def log(self):
        return self.log_path.read_text(errors="replace") if self.log_path.exists() else ""

    def wait_started(self, timeout=30):
        deadline = time.monotonic() + timeout
        while "worker started" not in self.log():
            if self.process.poll() is not None or time.monotonic() > deadline:
                raise RuntimeError(f"the worker did not start:\n{self.log()}")
            time.sleep(0.1)
        return self

    def kill(self):
        self.process.send_signal(signal.SIGKILL)
        self.process.wait(timeout=10)
        dyno.kill(self.mark)  # what it started, too

    def terminate(self):
        """SIGTERM to every process of the worker's dyno at once, as the platform sends it."""
        dyno.terminate(self.mark)

    def stop(self):
        self.terminate()
        if not dyno.wait_gone(self.mark, dyno.KILL_SECONDS):
            dyno.kill(self.mark)
        self.process.wait(timeout=10)


class ConnectionWatch:
    """Polls pg_stat_activity for the role's server connections; keeps the peak."""

    def __init__(self, admin_url, role):
        self.admin_url, self.role = admin_url, role
        self.peak = 0
        self.stop = threading.Event()
        self.thread = threading.Thread(target=self.run, daemon=True)

    def run(self):
        connection = psycopg2.connect(self.admin_url)
        connection.autocommit = True
        try:
            with connection.cursor() as cursor:
                while not self.stop.is_set():
                    cursor.execute(
                        "SELECT count(*) FROM pg_stat_activity WHERE usename = %s", (self.role,)
                    )
                    self.peak = max(self.peak, cursor.fetchone()[0])
                    time.sleep(0.05)
        finally:
            connection.close()

    def __enter__(self):
        self.thread.start()
        return self

    def __exit__(self, *exc):
        self.stop.set()
        self.thread.join(timeout=5)


class FormationDatabase:
    """A role allowed ROLE_LIMIT connections and a database it owns, on the admin's server."""

    def __init__(self, admin_url):
        self.admin_url = admin_url
        suffix = uuid.uuid4().hex[:8]
        self.role, self.name = f"memo_formation_{suffix}", f"memo_formation_{suffix}"
        self.url = (
            make_url(admin_url)
            .set(username=self.role, password=None, database=self.name)
            .render_as_string(hide_password=False)
        )

    def create(self):
        execute(
            self.admin_url,
            sql.SQL("CREATE ROLE {} LOGIN CONNECTION LIMIT {}").format(
                sql.Identifier(self.role), sql.Literal(ROLE_LIMIT)
            ),
            sql.SQL("CREATE DATABASE {} OWNER {}").format(
                sql.Identifier(self.name), sql.Identifier(self.role)
            ),
        )
        return self

    def limit(self, connections):
        """Set the role's connection limit (-1: none)."""
        execute(
            self.admin_url,
            sql.SQL("ALTER ROLE {} CONNECTION LIMIT {}").format(
                sql.Identifier(self.role), sql.Literal(connections)
            ),
        )

    def admin_url_of_database(self):
        return make_url(self.admin_url).set(database=self.name).render_as_string(False)

    def drop(self):
        execute(
            self.admin_url,
            sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(sql.Identifier(self.name)),
            sql.SQL("DROP ROLE IF EXISTS {}").format(sql.Identifier(self.role)),
        )


class Formation:
    """Web processes, workers and a router on the formation's database, direct or pooled."""

    def __init__(self, database, store_environment, folder, page_url, pooled):
        self.database, self.store_environment = database, store_environment
        self.folder, self.page_url, self.pooled = Path(folder), page_url, pooled
        self.bouncer = PgBouncer(database.url, pool_size=POOL_SIZE) if pooled else None
        self.webs, self.workers, self.killed = [], [], []
        self.started, self.counting = Counter(), threading.Lock()
        self.name = "pgbouncer" if pooled else "direct"
        self.router = None

    def environment(self):
        """Return the variables every process of the formation gets."""
        environ = {
            "DATABASE_URL": self.database.url,
            "SIGNUPS_PER_CLIENT": "100000",
            "SIGNUPS_IN_TOTAL": "100000",
            "WORKER_HEARTBEAT_SECONDS": str(HEARTBEAT_SECONDS),
        }
        if self.bouncer:
            environ["DATABASE_CONNECTION_POOL_URL"] = self.bouncer.url()
        return environ

    def start(self):
        if self.bouncer:
            self.bouncer.start()
        # All at once, as the platform starts a formation's dynos.
        with ThreadPoolExecutor(WEB_PROCESSES + WORKER_PROCESSES) as starting:
            started = [starting.submit(self.start_web) for _ in range(WEB_PROCESSES)]
            started += [starting.submit(self.start_worker) for _ in range(WORKER_PROCESSES)]
        for process in started:
            process.result()  # a process that did not start fails the run here
        self.router = BalancingRouter([("127.0.0.1", web.port) for web in self.webs]).start()
        return self

    def number(self, kind):
        """Return the next number of a process of this kind (for its log's name)."""
        with self.counting:
            self.started[kind] += 1
            return self.started[kind]

    def start_web(self):
        log = self.folder / f"web-{self.name}-{self.number('web')}.log"
        web = LiveServer(self.database.url, self.store_environment, log, **self.environment())
        self.webs.append(web.start(timeout=60))
        return web

    def start_worker(self):
        """Start a worker under TestingConfig, which lets it fetch the local page."""
        environ = production_environment(
            self.database.url,
            self.store_environment,
            APP_SETTINGS="config.TestingConfig",
            TEST_DATABASE_URL=self.database.url,
            **self.environment(),
        )
        log = self.folder / f"worker-{self.name}-{self.number('worker')}.log"
        worker = Worker(environ, log).wait_started()
        self.workers.append(worker)
        return worker

    def client_connections(self):
        """Return the connections the processes may open to the database (or PgBouncer)."""
        threads = sum(len(web.worker_pids()) for web in self.webs) * 4
        return threads + len(self.workers) * jobs.worker_connections(4)

    def kill_web(self):
        """SIGKILL one web process (the router stops sending to it), start a replacement."""
        victim = self.webs[0]
        self.router.remove(("127.0.0.1", victim.port))
        killed_at = time.monotonic()
        victim.process.send_signal(signal.SIGKILL)
        with suppress(ProcessLookupError):
            os.killpg(victim.process.pid, signal.SIGKILL)
        victim.process.wait(timeout=10)
        self.webs.remove(victim)
        replacement = self.start_web()
        self.router.add(("127.0.0.1", replacement.port))
        return victim.port, killed_at

    def kill_worker(self):
        """SIGKILL one worker mid-work and start a replacement."""
        victim = self.workers.pop(0)
        victim.kill()
        self.killed.append(victim)
        self.start_worker()

    def release_phase(self, migrations):
        """Run the Procfile's release command on the direct URL with `migrations`' revisions."""
        environ = production_environment(
            self.database.url, self.store_environment, **self.environment()
        )
        command = [*procfile_command("release"), "--directory", str(migrations)]
        started = time.monotonic()
        done = subprocess.run(
            command, cwd=ROOT, env=environ, capture_output=True, text=True, timeout=300
        )
        if done.returncode != 0:
            raise RuntimeError(f"the release phase failed:\n{done.stdout}\n{done.stderr}")
        return time.monotonic() - started, done.stdout + done.stderr

    def job_successes(self, workers=None):
        """Return how many times each job id succeeded, across the workers' logs."""
        counted = Counter()
        for worker in self.workers + self.killed if workers is None else workers:
            counted.update(f"{name}:{number}" for name, number in JOB_LINE.findall(worker.log()))
        return counted

    def stop(self):
        if self.router:
            self.router.stop()
        for web in self.webs:
            web.terminate()
        for worker in self.workers:
            worker.terminate()
        for web in self.webs:
            web.stop()
        for worker in self.workers:
            worker.stop()
        if self.bouncer:
            self.bouncer.stop()


def percentile(values, share):
    """Return the value below which `share` of `values` lie (nearest rank)."""
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(share * len(ordered)))] if ordered else 0.0


def per_web_process(load, seconds):
    """Return {port: (requests per second, p50 ms, p99 ms)} of the answered requests."""
    served = defaultdict(list)
    for record in load.records:
        if record.served_by and record.failure is None and record.seconds:
            served[record.served_by].append(record.seconds * 1000)
    return {
        port: (len(times) / seconds, statistics.median(times), percentile(times, 0.99))
        for port, times in served.items()
    }


def summary(load, seconds):
    """Return one phase's figures: requests, failures, throughput and p99 per web process."""
    per_web = per_web_process(load, seconds)
    timed = [r.seconds * 1000 for r in load.records if r.seconds and r.failure is None]
    return {
        "requests": sum(1 for r in load.records if r.seconds),
        "failed": [r for r in load.records if r.failure is not None],
        "requests_per_second": len(timed) / seconds,
        "p50_ms": statistics.median(timed) if timed else 0.0,
        "p99_ms": percentile(timed, 0.99),
        "per_web_rps": statistics.mean(v[0] for v in per_web.values()) if per_web else 0.0,
        "per_web_p99_ms": statistics.mean(v[2] for v in per_web.values()) if per_web else 0.0,
        "kinds": Counter(r.kind for r in load.records if r.seconds),
        "declined": load.declined,
    }


def lost_notes(load, database_url):
    """Return the confirmed notes that the database does not hold as confirmed."""
    rows = query(database_url, "SELECT id, title FROM note WHERE id = ANY(%s)", (list(load.notes),))
    stored = dict(rows)
    return {note_id for note_id, title in load.notes.items() if stored.get(note_id) != title}


def unfinished_counts(load):
    """Wait for every accepted word count to end; return those not `done`."""
    return [
        (path, status)
        for user, path in load.counts
        if (status := user.wait_for_count(path, seconds=60)) != "done"
    ]


def queue_left(database_url, seconds=45):
    """Return the jobs not finished well: (task, status, count) waiting, running or failed.

    Succeeded jobs are deleted. Jobs deferred at the end of the load (an old photo's deletion,
    say) may still be running when it stops, and a killed worker's job waits for the
    stalled-job recovery (three missed heartbeats): waiting or running ones get `seconds` to
    finish; a failed one counts at once. Read through procrastinate's JobManager.
    """
    deadline = time.monotonic() + seconds
    queue = procrastinate.App(connector=procrastinate.SyncPsycopgConnector(conninfo=database_url))
    with queue.open():
        while True:
            counts = Counter(
                (job.task_name, status)
                for status in ("todo", "doing", "failed")
                for job in queue.job_manager.list_jobs(status=status)
                if job.task_name != "ping" and job.queueing_lock is None
            )
            left = [(task, status, count) for (task, status), count in sorted(counts.items())]
            unfinished = [row for row in left if row[1] in ("todo", "doing")]
            if not unfinished or time.monotonic() > deadline:
                return left
            time.sleep(0.5)


@dataclass
class Run:
    """One formation run: its phases' loads and what was seen while they ran."""

    seconds: float
    loads: dict = field(default_factory=dict)
    figures: dict = field(default_factory=dict)
    problems: list = field(default_factory=list)
    events: list = field(default_factory=list)
    client_connections: int = 0


def drive(users, load, seconds, during=()):
    """Run the users' load for `seconds`; call each (at_seconds, action) meanwhile."""
    for user in users:
        user.load = load
    threads = [threading.Thread(target=user.visit, daemon=True) for user in users]
    started = time.monotonic()
    for thread in threads:
        thread.start()
    # Each at its own time: a replacement that is slow to start delays no other fault.
    faults = [threading.Timer(at, action) for at, action in during]
    for fault in faults:
        fault.start()
    time.sleep(max(0.0, started + seconds - time.monotonic()))
    load.stop.set()
    for thread in [*faults, *threads]:
        thread.join(timeout=60)
    return time.monotonic() - started


def confirm(run, formation, load, database):
    """Check what the users were told against the database and the workers' logs."""
    unfinished = unfinished_counts(load)
    if unfinished:
        run.problems.append(f"{load.phase}: word counts not done: {unfinished[:5]}")
    lost = lost_notes(load, database.admin_url_of_database())
    if lost:
        run.problems.append(f"{load.phase}: acknowledged notes lost: {sorted(lost)[:5]}")
    left = queue_left(database.admin_url_of_database())
    if left:
        run.problems.append(f"{load.phase}: jobs not done: {left}")
    successes = formation.job_successes()
    twice = {job for job, times in successes.items() if times > 1}
    # A job whose success the killed worker logged but had not recorded yet runs again
    # (procrastinate runs a job at least once; every task here is idempotent).
    rerun = twice & set(formation.job_successes(formation.killed))
    if twice - rerun or any(successes[job] > 2 for job in rerun):
        run.problems.append(f"{load.phase}: jobs done more than once: {sorted(twice - rerun)}")
    return len(successes), len(rerun)


def locking_releases(folder):
    """Return two migration folders, each a release one revision newer, whose revision
    adds a column to `note` (it takes the busy table's lock)."""
    releases, down = [], head_revision()
    source = MIGRATIONS
    for number in (1, 2):
        target = Path(folder) / f"release-{number}"
        shutil.copytree(source, target, ignore=shutil.ignore_patterns("__pycache__"))
        revision = f"91{number:02d}"
        text = LOCKING_REVISION.format(revision=revision, down=down, column=f"mark_{number}")
        (target / "versions" / f"{revision}_formation.py").write_text(text)
        releases.append(target)
        source, down = target, revision
    return releases


LOCKING_REVISION = '''"""A formation run's release: a column on note, which takes its lock."""

import sqlalchemy as sa
from alembic import op

revision = "{revision}"
down_revision = "{down}"
branch_labels = None
depends_on = None


def upgrade():
    op.add_column("note", sa.Column("{column}", sa.Text()))


def downgrade():
    op.drop_column("note", "{column}")
'''


def run_phase(run, formation, people, database, migrations):
    """Drive the load on a started formation with the release and the kills; keep figures."""
    load = run.loads[formation.name] = PhaseRecord(formation.name)
    for person in people:
        person.base_url, person.token = formation.router.url, None
    killed = {}

    def release():
        took, _ = formation.release_phase(migrations)
        run.events.append(f"{load.phase}: release phase (a revision locking note): {took:.1f} s")

    def kill_worker():
        formation.kill_worker()
        run.events.append(f"{load.phase}: a worker SIGKILLed and replaced")

    def kill_web():
        killed["port"], killed["at"] = formation.kill_web()
        run.events.append(f"{load.phase}: web process :{killed['port']} SIGKILLed and replaced")

    releasing = threading.Thread(target=release, daemon=True)
    seconds = run.seconds
    during = [(seconds * 0.2, releasing.start), (seconds * 0.35, kill_worker)]
    during.append((seconds * 0.5, kill_web))
    with ConnectionWatch(database.admin_url, database.role) as watch:
        elapsed = drive(people, load, seconds, during)
        releasing.join(timeout=300)
        pool = formation.bouncer.pool() if formation.bouncer else {}
        jobs_done, rerun = confirm(run, formation, load, database)
    figures = summary(load, elapsed)
    in_flight = [
        r
        for r in figures["failed"]
        if r.served_by == killed.get("port") and r.started <= killed.get("at", 0)
    ]
    figures["failed"] = [r for r in figures["failed"] if r not in in_flight]
    run.figures[load.phase] = {
        **figures,
        "in_flight_on_killed": len(in_flight),
        "peak": watch.peak,
        "jobs": jobs_done,
        "rerun_after_kill": rerun,
        "pool": pool,
    }
    formation.stop()


def run_formation(admin_url, store_environment, folder, seconds, users=USERS):
    """Run the same load and faults direct, then through PgBouncer; return the Run."""
    run = Run(seconds)
    page = ThreadingHTTPServer(("127.0.0.1", 0), PageHandler)
    threading.Thread(target=page.serve_forever, daemon=True).start()
    page_url = f"http://localhost:{page.server_address[1]}/"
    first_release, second_release = locking_releases(folder)
    database = FormationDatabase(admin_url).create()
    try:
        database.limit(-1)  # every process connected straight needs more than the plan has
        direct = Formation(database, store_environment, folder, page_url, pooled=False)
        direct.release_phase(MIGRATIONS)
        direct.start()
        people = [User(direct.router.url, number, page_url) for number in range(users)]
        for person in people:
            person.signup(person.email, person.nickname)
        run_phase(run, direct, people, database, first_release)

        database.limit(ROLE_LIMIT)
        pooled = Formation(database, store_environment, folder, page_url, pooled=True).start()
        run.client_connections = pooled.client_connections()
        run_phase(run, pooled, people, database, second_release)
        if run.figures["pgbouncer"]["peak"] > ROLE_LIMIT:
            run.problems.append(f"server connections above {ROLE_LIMIT}")
        if len(run.events) < 6:
            run.problems.append(f"not every fault ran: {run.events}")
    finally:
        page.shutdown()
        database.drop()
    return run


def report(run):
    """Return the run's figures as lines of text."""
    lines = [f"formation run: {run.seconds:.0f} s of load per phase, {USERS} users"]
    for phase, figures in run.figures.items():
        lines.append(
            f"{phase:<10} requests {figures['requests']:>6}  failed {len(figures['failed']):>3}"
            f"  {figures['requests_per_second']:6.1f} req/s  p50 {figures['p50_ms']:5.0f} ms"
            f"  p99 {figures['p99_ms']:6.0f} ms  per web process {figures['per_web_rps']:5.1f}"
            f" req/s, p99 {figures['per_web_p99_ms']:6.0f} ms"
            f"  server connections peak {figures['peak']}  jobs {figures['jobs']}"
        )
        failed = Counter(f"{record.kind}: {record.failure}" for record in figures["failed"])
        for what, count in failed.most_common(10):
            lines.append(f"    failed {count} x {what}")
        if figures["declined"]:
            lines.append(
                f"    declined {figures['declined']} x POST /mypage/photo: 429 with Retry-After"
                " (a limit, not a failure)"
            )
    for phase, figures in run.figures.items():
        lines.append(
            f"{phase}: {figures['in_flight_on_killed']} requests failed in flight on the killed"
            f" web process; {figures['rerun_after_kill']} jobs the killed worker had run but"
            " not yet recorded ran again"
        )
    lines.append(
        f"pgbouncer: pool {POOL_SIZE}, role limit {ROLE_LIMIT},"
        f" {run.client_connections} client connections at most"
    )
    pooled = run.figures.get("pgbouncer")
    if pooled:
        kinds = ", ".join(f"{kind} {count}" for kind, count in sorted(pooled["kinds"].items()))
        lines.append(f"requests by kind: {kinds}")
    lines.extend(run.events)
    lines.extend(f"PROBLEM: {problem}" for problem in run.problems)
    return lines
