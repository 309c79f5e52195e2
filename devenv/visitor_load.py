"""Signed-in visitors who use Memo through a router and record what they were told.

The formation run (devenv/formation.py) and the release drill (scripts/release_drill.py)
drive the same visitors: note lists, writes, reads, searches and word counts; now and then a
page's word count (a job), a file attached through the store and downloaded back, a photo.
What the database kept of their notes is lost_notes's to check, their jobs unfinished_counts's.
"""

import http.client
import json
import re
import statistics
import threading
import time
import uuid
from collections import Counter
from contextlib import suppress
from dataclasses import dataclass, field

import requests

from devenv.pictures import jpeg
from devenv.services import query
from devenv.uploads import FILENAME_FIELD, back_from_store, send_to_store, upload_form
from devenv.visitors import Visitor

THINK_SECONDS = 0.05
ROUTE_IDS = re.compile(r"/\d+")
COUNT_LOCATION = re.compile(r"^/wordcount/\d+$")
PHOTO = re.compile(r'<img id="profile-image" src="([^"]+)"')
ATTACHMENT_LINK = re.compile(r'href="/attachments/(\d+)"')
CONTENT = "harbour pelicans glide over the quiet words"


@dataclass
class Record:
    """One request (or one check of what it answered): when it started, how long it took, the
    web process that served it (when the router names it), what went wrong (None if nothing)."""

    phase: str
    kind: str
    started: float
    seconds: float
    served_by: int | None
    failure: str | None


@dataclass
class Load:
    """What the visitors asked for and were told; `phase` names what the next records are of."""

    phase: str
    page_url: str  # the page whose words they ask the worker to count
    wait_for_jobs: bool = True  # wait until a word count ends and a new photo shows
    counting: bool = True  # start word counts (the drill: while a worker serves)
    records: list = field(default_factory=list)
    notes: dict = field(default_factory=dict)  # id -> title, every note the server confirmed
    counts: list = field(default_factory=list)  # (visitor, path) of every word count accepted
    photos: int = 0  # new photos seen on my page (when waiting for jobs)
    attachments: int = 0  # files attached and downloaded back whole
    declined: int = 0  # photo uploads a limit answered with 429 and Retry-After
    stop: threading.Event = field(default_factory=threading.Event)
    # A rollback is coming: start no flow of several requests the older release may not know.
    settling: threading.Event = field(default_factory=threading.Event)


class LoadVisitor(Visitor):
    """A signed-in person whose every request is recorded in the load, under its phase."""

    def __init__(self, base_url, number, load=None):
        super().__init__(base_url)
        self.email = f"visitor-{number}-{uuid.uuid4().hex[:6]}@example.com"
        self.nickname = f"visitor{number}{uuid.uuid4().hex[:6]}"
        self.load = load
        self.notes = []
        # People are at different points of their routine: the rarer actions (a word count
        # every 9th turn, an attachment every 23rd, a photo every 31st) start within seconds.
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
            # The front's upload slots per dyno, or the unfinished-photo limit: answered as
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
        """Record a failure (what the person saw was wrong) unless `condition` holds.

        An answer that was an HTTP error (`response`) is recorded already, with its server.
        """
        answered_error = response is not None and response.status >= 400
        if not condition and not answered_error and self.load is not None:
            self.load.records.append(
                Record(self.load.phase, kind, time.monotonic(), 0.0, None, failure)
            )
        return condition

    # --- what a person does -----------------------------------------------------------------

    def list_notes(self):
        response = self.get("/")
        failure = f"{response.status} to {response.location}"  # a 302: the session refused
        self.check("GET /", response.status == 200, failure, response)

    def write_note(self):
        """Write a note; keep and return its id once the server confirmed it."""
        title = f"{self.nickname} note {uuid.uuid4().hex[:8]}"
        response, note_id = self.create_note(title, CONTENT)
        if self.check("POST /notes/new", note_id is not None, f"{response.status}", response):
            self.load.notes[note_id] = title
            self.notes.append(note_id)
        return note_id

    def read_note(self):
        if not self.notes:
            return self.write_note()
        note_id = self.notes[self.turn % len(self.notes)]
        response = self.get(f"/notes/{note_id}")
        title = self.load.notes.get(note_id, "")
        self.check("GET /notes/<id>", title in response.text, "no title", response)

    def count_note_words(self):
        if not self.notes:
            return self.write_note()
        response = self.get(f"/notes/{self.notes[-1]}/wordcount")
        counted = "pelicans" in response.text
        self.check("GET /notes/<id>/wordcount", counted, "no counts", response)

    def search(self):
        response = self.get("/search?q=pelicans")
        self.check("GET /search", response.status == 200, "search", response)

    def count_page(self):
        """Ask for a word count of the load's page (a job); wait until it ends if the load does."""
        if self.load.settling.is_set() or not self.load.counting:
            return self.list_notes()
        self.get("/wordcount")
        response = self.post("/wordcount", {"url": self.load.page_url})
        location = COUNT_LOCATION.match(response.location)
        if self.check("POST /wordcount", location, "no job", response):
            self.load.counts.append((self, response.location))
            if self.load.wait_for_jobs:
                self.wait_for_count(response.location, seconds=30)

    def wait_for_count(self, path, seconds):
        """Poll a word count's JSON until it ends; return its status."""
        deadline, status = time.monotonic() + seconds, None
        while time.monotonic() < deadline:
            answer = self.request("GET", path, headers={"Accept": "application/json"})
            status = answer.status == 200 and json.loads(answer.text).get("status")
            if status in ("done", "failed"):
                break
            time.sleep(0.2)
        return status

    def upload_photo(self):
        """Change my photo; if the load waits for jobs, until my page shows the new one."""
        if time.monotonic() < self.photo_after:
            return self.list_notes()
        before = PHOTO.findall(self.get("/mypage").text)
        response = self.post_file(
            "/mypage/photo", "photo", ("me.jpg", jpeg((120, 80)), "image/jpeg")
        )
        ok = self.check("POST /mypage/photo", response.location == "/mypage", "no upload", response)
        if not (ok and self.load.wait_for_jobs):
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
        """Attach a file to a new note as a browser without scripts does, then download it."""
        if self.load.settling.is_set():
            return self.list_notes()
        note_id = self.write_note()  # a note of its own: never one at its attachment limit
        if note_id is None:
            return
        page = self.get(f"/notes/{note_id}")
        form = upload_form(page.text)
        if not self.check("attachment", form, "no upload form", page):
            return
        data = f"attached by {self.nickname} {uuid.uuid4().hex}".encode()
        url, fields = form
        answer = send_to_store(url, {**fields, FILENAME_FIELD: "load.txt"}, data, "load.txt")
        if not self.check("attachment", answer.status_code == 303, f"store: {answer.status_code}"):
            return
        if self.get(back_from_store(answer)).status >= 400:  # recorded, with its web process
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

    ACTIONS = ("list_notes", "write_note", "read_note", "search", "write_note", "count_note_words")
    RARE = ((9, "count_page"), (23, "attach"), (31, "upload_photo"))

    def visit(self):
        """Act until the load stops: reads, writes and searches; now and then a job or a file."""
        while not self.load.stop.is_set():
            self.turn += 1
            rare = [name for every, name in self.RARE if self.turn % every == 0]
            action = getattr(self, (rare or [self.ACTIONS[self.turn % len(self.ACTIONS)]])[0])
            with suppress(OSError, http.client.HTTPException):  # recorded by request()
                action()
            time.sleep(THINK_SECONDS)


def percentile(values, share):
    """Return the value below which `share` of `values` lie (nearest rank)."""
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(share * len(ordered)))] if ordered else 0.0


def lost_notes(load, database_url):
    """Return the confirmed notes that the database does not hold as confirmed."""
    rows = query(database_url, "SELECT id, title FROM note WHERE id = ANY(%s)", (list(load.notes),))
    stored = dict(rows)
    return {note_id for note_id, title in load.notes.items() if stored.get(note_id) != title}


def unfinished_counts(load, ended=("done",)):
    """Wait for every accepted word count to end; return those whose status is not in `ended`."""
    return [
        (path, status)
        for visitor, path in load.counts
        if (status := visitor.wait_for_count(path, seconds=60)) not in ended
    ]


def print_report(load):
    """Print requests, failures and latency per phase; return the number of failures."""
    print(f"{'phase':<42}{'requests':>9}{'failed':>8}{'p50 ms':>9}{'p99 ms':>9}")
    for phase in dict.fromkeys(record.phase for record in load.records):
        records = [record for record in load.records if record.phase == phase]
        timed = [record.seconds * 1000 for record in records if record.seconds]
        failed = sum(record.failure is not None for record in records)
        print(
            f"{phase:<42}{len(timed):>9}{failed:>8}"
            f"{statistics.median(timed) if timed else 0:>9.0f}{percentile(timed, 0.99):>9.0f}"
        )
    kinds = Counter(record.kind for record in load.records if record.seconds)
    print("requests by kind: " + ", ".join(f"{kind} {n}" for kind, n in sorted(kinds.items())))
    failures = Counter(f"{r.kind}: {r.failure}" for r in load.records if r.failure is not None)
    for kind, count in failures.most_common():
        print(f"  failed {count} x {kind}")
    if load.declined:
        print(f"  declined {load.declined} x POST /mypage/photo: 429 with Retry-After (a limit)")
    if not failures:
        print("failures by kind: none")
    return sum(failures.values())
