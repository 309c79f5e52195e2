"""The visitors of a release drill: what they do through the router, and what they were told.

scripts/release_drill.py runs them while one release replaces another (see docs/releases.md);
what the database kept of their notes, and the percentiles, are devenv/formation_load.py's.
"""

import http.client
import re
import statistics
import threading
import time
import uuid
from collections import Counter
from collections.abc import Callable
from contextlib import suppress
from dataclasses import dataclass, field
from html.parser import HTMLParser
from urllib.parse import urlsplit

import requests

from devenv.formation_load import percentile
from devenv.pictures import jpeg
from devenv.router import Router
from devenv.visitors import Visitor

THINK_SECONDS = 0.05
JOB_SECONDS = 60
ROUTE_IDS = re.compile(r"/\d+")
# Requests a per-user limit may decline with a 429 and Retry-After while the worker catches up.
DECLINABLE = {"POST /mypage/photo"}
JOB_PATH = re.compile(r"^/wordcount/\d+$")


@dataclass
class Record:
    """One request (or one check of what it answered) in a phase; `failure` None if fine."""

    phase: str
    kind: str
    seconds: float
    failure: str | None


@dataclass
class VisitorLoad:
    """Visitors using the service through the router, and what they were told."""

    router: Router
    jobs_enabled: Callable[[], bool]
    phase: str = "sign-up (old release)"
    records: list = field(default_factory=list)
    notes: dict = field(default_factory=dict)  # id -> title, every note the server confirmed
    jobs: list = field(default_factory=list)  # (visitor, path) of every job the server accepted
    declined: Counter = field(default_factory=Counter)  # kind -> 429s with a Retry-After
    stop: threading.Event = field(default_factory=threading.Event)
    settling: threading.Event = field(default_factory=threading.Event)  # a rollback is coming

    def record(self, phase, kind, seconds, failure=None):
        self.records.append(Record(phase, kind, seconds, failure))

    def fail(self, kind, failure):
        self.record(self.phase, kind, 0.0, failure)


class DrillVisitor(Visitor):
    """A Visitor whose every request is recorded in the load, under the phase it began in."""

    def __init__(self, load, number):
        super().__init__(load.router.url)
        self.load = load
        self.email = f"drill-{number}-{uuid.uuid4().hex[:6]}@example.com"
        self.nickname = f"drill{number}{uuid.uuid4().hex[:6]}"
        self.notes = []
        self.attached_in = set()  # the phases this visitor attached a file in
        self.writes = 0
        self.turn = 0
        self.wait_until = 0.0  # a 429's Retry-After: no photo before then

    def request(self, method, path, **kwargs):
        phase, kind = self.load.phase, f"{method} {ROUTE_IDS.sub('/<id>', path.split('?')[0])}"
        started = time.monotonic()
        try:
            response = super().request(method, path, **kwargs)
        except (OSError, http.client.HTTPException) as error:
            self.load.record(phase, kind, time.monotonic() - started, type(error).__name__)
            raise
        failure = f"HTTP {response.status}" if response.status >= 400 else None
        if kind in DECLINABLE and response.status == 429 and response.headers.get("Retry-After"):
            # A limit answering as designed ("your earlier photos are still being processed"),
            # not a failed request: the visitor waits as told before trying again.
            failure = None
            self.load.declined[kind] += 1
            self.wait_until = time.monotonic() + float(response.headers["Retry-After"])
        self.load.record(phase, kind, response.ended - response.started, failure)
        return response


def expect(visitor, kind, response, condition, failure):
    """Record a failure unless `condition` holds (an HTTP error is recorded already)."""
    if not condition and response.status < 400:
        visitor.load.fail(kind, failure)
    return condition


def list_notes(visitor):
    """Open my notes."""
    response = visitor.get("/")
    failure = f"{response.status} to {response.location}"
    expect(visitor, "GET /", response, response.status == 200, failure)


def write_note(visitor):
    """Write a note; keep its id once the server confirmed it."""
    visitor.writes += 1
    title = f"{visitor.nickname} note {visitor.writes}"
    response, note_id = visitor.create_note(title, "the quick brown fox jumps over the lazy dog")
    if expect(visitor, "POST /notes/new", response, note_id is not None, response.status):
        visitor.load.notes[note_id] = title
        visitor.notes.append(note_id)


def read_note(visitor):
    """Read one of my notes (and attach a file once per phase when the page offers it)."""
    if not visitor.notes:
        return write_note(visitor)
    note_id = visitor.notes[visitor.turn % len(visitor.notes)]
    response = visitor.get(f"/notes/{note_id}")
    title = visitor.load.notes[note_id]
    expect(visitor, "GET /notes/<id>", response, title in response.text, "no title")
    settling = visitor.load.settling.is_set()
    if (
        not settling
        and visitor.load.phase not in visitor.attached_in
        and UploadForm.find(response.text)
    ):
        visitor.attached_in.add(visitor.load.phase)
        attach_file(visitor, note_id, response.text)


def count_note_words(visitor):
    """Count the words of my newest note."""
    if not visitor.notes:
        return write_note(visitor)
    response = visitor.get(f"/notes/{visitor.notes[-1]}/wordcount")
    expect(visitor, "GET /notes/<id>/wordcount", response, "fox" in response.text, "no counts")


def upload_photo(visitor):
    """Change my profile photo (unless a 429 said to wait: then open my notes)."""
    if time.monotonic() < visitor.wait_until:
        return list_notes(visitor)
    response = visitor.upload_photo(jpeg((120, 80)))
    expect(visitor, "POST /mypage/photo", response, response.location == "/mypage", response.status)


def count_page_words(visitor):
    """Ask for a page's word count, a job for the worker; remember it to check it finished."""
    if visitor.load.settling.is_set() or not visitor.load.jobs_enabled():
        return list_notes(visitor)
    visitor.get("/wordcount")
    # A name, not a literal address, so the form takes it; the job then refuses it (loopback
    # is not public) and the count ends `failed`, which is finished too.
    router_port = urlsplit(visitor.load.router.url).port
    response = visitor.post("/wordcount", {"url": f"http://localhost:{router_port}/healthz"})
    if expect(visitor, "POST /wordcount", response, JOB_PATH.match(response.location), "no job"):
        visitor.load.jobs.append((visitor, response.location))


ACTIONS = [list_notes, write_note, read_note, count_note_words, write_note, count_page_words]


def visit(visitor):
    """Do the visitor's round of actions until the load stops; a photo every tenth turn."""
    while not visitor.load.stop.is_set():
        visitor.turn += 1
        action = upload_photo if visitor.turn % 10 == 0 else ACTIONS[visitor.turn % len(ACTIONS)]
        with suppress(OSError, http.client.HTTPException):  # recorded by request()
            action(visitor)
        time.sleep(THINK_SECONDS)


class UploadForm(HTMLParser):
    """The first multipart form with a file input on a page: its action and fields."""

    def __init__(self):
        super().__init__()
        self.action, self.fields, self.file_field, self.inside = None, {}, None, False

    @classmethod
    def find(cls, page):
        parser = cls()
        parser.feed(page)
        return parser if parser.file_field else None

    def handle_starttag(self, tag, attrs):
        attrs = dict(attrs)
        if tag == "form" and self.file_field is None:
            self.inside = attrs.get("enctype") == "multipart/form-data"
            self.action, self.fields = attrs.get("action"), {}
        elif tag == "input" and self.inside:
            if attrs.get("type") == "file":
                self.file_field = attrs.get("name")
            elif attrs.get("name"):
                self.fields[attrs["name"]] = attrs.get("value") or ""

    def handle_endtag(self, tag):
        if tag == "form":
            self.inside = False


ATTACHMENT = b"attached during a release\n"
ATTACHMENT_LINK = re.compile(r'href="/attachments/(\d+)"')


def attach_file(visitor, note_id, page):
    """Attach a file as a browser without scripts does, then download it from the note."""
    form = UploadForm.find(page)
    file = {form.file_field: ("drill.txt", ATTACHMENT, "text/plain")}
    if urlsplit(form.action).hostname:  # the form posts straight to the object store
        answer = requests.post(
            form.action, data=form.fields, files=file, allow_redirects=False, timeout=30
        )
        location = answer.headers.get("Location")
    else:
        location = visitor.request("POST", form.action, data=form.fields, files=file).location
    while location:  # back through the router to the note, as the browser follows them
        target = urlsplit(location)
        response = visitor.get(target.path + (f"?{target.query}" if target.query else ""))
        location = response.headers.get("Location") if response.status in (302, 303) else None
    response = visitor.get(f"/notes/{note_id}")
    links = [int(found) for found in ATTACHMENT_LINK.findall(response.text)]
    if expect(visitor, "attachment", response, links, "the note lists no attachment"):
        download = visitor.get(f"/attachments/{max(links)}").headers.get("Location", "")
        answer = requests.get(download, timeout=30) if download else None
        data = answer.content if answer is not None else b""
        status = answer.status_code if answer is not None else None
        expect(visitor, "attachment", response, data == ATTACHMENT, f"download: {status}")


def job_status(visitor, path):
    """Return a job's status from its JSON page (the contract's `status`)."""
    answer = visitor.session.get(
        visitor.base_url + path,
        headers={"Accept": "application/json"},
        allow_redirects=False,
        timeout=10,
    )
    if answer.status_code != 200:
        return f"HTTP {answer.status_code}"
    return answer.json().get("status")


def unfinished_jobs(load):
    """Wait for every accepted job to be done or failed; return those that never were."""
    deadline = time.monotonic() + JOB_SECONDS
    waiting = list(load.jobs)
    while waiting and time.monotonic() < deadline:
        waiting = [job for job in waiting if job_status(*job) not in ("done", "failed")]
        if waiting:
            time.sleep(0.5)
    return [(path, job_status(visitor, path)) for visitor, path in waiting]


def refused_sessions(visitors):
    """Return the visitors whose session (made on the old release) is now refused."""
    refused = []
    for visitor in visitors:
        response = visitor.get("/mypage")
        if response.status != 200 or visitor.email not in response.text:
            refused.append(f"{visitor.email}: {response.status} {response.location}")
    return refused


def print_report(load):
    """Print requests, failures and latency per phase; return the number of failures."""
    phases = list(dict.fromkeys(record.phase for record in load.records))
    print(f"{'phase':<42}{'requests':>9}{'failed':>8}{'p50 ms':>9}{'p99 ms':>9}")
    for phase in phases:
        records = [record for record in load.records if record.phase == phase]
        timed = [record.seconds * 1000 for record in records if record.seconds]
        failed = sum(record.failure is not None for record in records)
        print(
            f"{phase:<42}{sum(r.seconds > 0 for r in records):>9}{failed:>8}"
            f"{statistics.median(timed) if timed else 0:>9.0f}{percentile(timed, 0.99):>9.0f}"
        )
    kinds = Counter(record.kind for record in load.records if record.seconds)
    print(
        "requests by kind: " + ", ".join(f"{kind} {count}" for kind, count in sorted(kinds.items()))
    )
    failures = Counter(f"{r.kind}: {r.failure}" for r in load.records if r.failure is not None)
    for kind, count in failures.most_common():
        print(f"  failed {count} x {kind}")
    for kind, count in load.declined.most_common():
        print(f"  declined {count} x {kind}: 429 with Retry-After (a limit, not a failure)")
    if not failures:
        print("failures by kind: none")
    return sum(failures.values())
