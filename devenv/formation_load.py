"""The formation run's people and pages: signed-in users who drive mixed load and record what
they were told, the router that spreads them over web processes, and the page they count.

devenv/formation.py runs them (see its docstring).
"""

import http.client
import json
import random
import re
import statistics
import threading
import time
import uuid
from collections import Counter, defaultdict
from contextlib import suppress
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import urlsplit

import procrastinate
import requests

from devenv.pictures import jpeg
from devenv.router import Router, RouterHandler
from devenv.services import query
from devenv.visitors import Visitor

THINK_SECONDS = 0.05
ROUTE_IDS = re.compile(r"/\d+")
COUNT_LOCATION = re.compile(r"^/wordcount/(\d+)$")
PHOTO = re.compile(r'<img id="profile-image" src="([^"]+)"')
ATTACHMENT_LINK = re.compile(r'href="/attachments/(\d+)"')
UPLOAD_FORM = re.compile(r'<form class="upload"[^>]*action="([^"]+)".*?</form>', re.DOTALL)
HIDDEN = re.compile(r'<input type="hidden" name="([^"]+)" value="([^"]*)">')
PAGE = b"<html><body><p>" + b"pelicans glide over the quiet harbour " * 50 + b"</p></body></html>"


class BalancingHandler(RouterHandler):
    """Like the platform's router: each client connection sticks to one live web process."""

    served_by = None

    def upstream(self):
        """Return this connection's web process while it is live, else one picked at random."""
        upstreams = self.server.upstreams
        chosen = self.connected_to
        if chosen not in upstreams:
            chosen = random.choice(upstreams)  # noqa: S311 (spreading load)
        self.served_by = chosen[1]
        return chosen

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
        response = self.post_file(
            "/mypage/photo", "photo", ("me.jpg", jpeg((120, 80)), "image/jpeg")
        )
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
