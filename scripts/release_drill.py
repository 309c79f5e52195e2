"""Rehearse a release under load: `./scripts/release-drill [--from COMMIT] [--to COMMIT]`.

Builds both releases from git (a worktree each, with a virtualenv from its pinned
requirements, shared when they are identical) and, on one fresh PostgreSQL and object
store, does what a deploy does: the old release phase, web and worker serve visitors
through a local router; the new release phase runs under that load; the new web and
worker start; the router moves to them; the old ones get SIGTERM. Then the platform
rollback: the old release phase against the new schema, and the old web serving again.

Then, from each earlier commit of main's first-parent line that added a revision within the
last `--older` commits: that release's own release phase makes a database, and the new
release phase must either bring it to the schema of a fresh upgrade (`pg_dump
--schema-only`), or refuse it with the history check's message and change nothing (so the
old release keeps serving as it was).

Exits 1 on any failed request, acknowledged note missing, job never finished, session
refused, release phase failing or process stopping badly, or an older release's database
upgraded wrongly or changed by a refusal. See docs/releases.md.
"""

import argparse
import hashlib
import http.client
import os
import re
import shutil
import statistics
import subprocess
import sys
import tempfile
import threading
import time
import uuid
import venv
from collections import Counter
from collections.abc import Callable
from contextlib import ExitStack, suppress
from dataclasses import dataclass, field
from html.parser import HTMLParser
from pathlib import Path
from urllib.parse import urlsplit

import platformdirs
import requests

from devenv import ROOT, dyno
from devenv.dyno import Dyno, dyno_path
from devenv.history import commits_adding_revisions, main_ref
from devenv.inflight import InFlight
from devenv.liveserver import LOCAL_MAIL_SETTINGS, free_port
from devenv.pictures import jpeg
from devenv.router import Router
from devenv.schema import schema_dump
from devenv.services import ObjectStore, ensure_database, start_postgres, stop_postgres
from devenv.visitors import Visitor

SECRET_KEY = "release-drill-secret-shared-by-both-releases-0123456789"  # noqa: S105
# An older release's virtualenv, by the digest of its requirements: kept in the user's cache
# folder (as pre-commit keeps its hooks' environments), so a new clone does not pay its
# install again.
VENV_CACHE = Path(platformdirs.user_cache_dir("memo")) / "drill-venvs"
VISITORS = 4
THINK_SECONDS = 0.05
STARTUP_SECONDS = 60
SETTLE_SECONDS = 1.0
STOP_SECONDS = 30  # the platform's SIGKILL comes 30 s after SIGTERM
JOB_SECONDS = 60
ROUTE_IDS = re.compile(r"/\d+")
# Requests a per-user limit may decline with a 429 and Retry-After while the worker catches up.
DECLINABLE = {"POST /mypage/photo"}
NOTE_ID = re.compile(r"^/notes/(\d+)$")
JOB_PATH = re.compile(r"^/wordcount/\d+$")


def say(message):
    """Print a progress line."""
    print(f"==> {message}", flush=True)


def git(*args):
    """Run git in the repository and return its output."""
    return subprocess.run(
        ["git", *args], cwd=ROOT, check=True, capture_output=True, text=True
    ).stdout.strip()


def newest_revision_file(commit):
    """Return the path of the head revision's file at `commit`."""
    revisions, parents = {}, set()
    for path in git("ls-tree", "--name-only", commit, "migrations/versions/").splitlines():
        if not path.endswith(".py"):
            continue
        source = git("show", f"{commit}:{path}")
        revision = re.search(r"^revision = [\"']([^\"']+)", source, re.MULTILINE).group(1)
        parent = re.search(r"^down_revision = (.+)$", source, re.MULTILINE).group(1)
        revisions[revision] = path
        parents.add(parent.strip("\"'"))
    (head,) = set(revisions) - parents
    return head, revisions[head]


def default_from(to):
    """Return the commit just before the newest revision was added (on the first-parent line).

    Walked by hand: `git log --first-parent -- path` may follow a merged branch's history.
    """
    _, path = newest_revision_file(to)
    added = None
    for commit in git("rev-list", "--first-parent", to).split():
        if not has_file(commit, path):
            break
        added = commit
    return f"{added}^1"


def has_file(commit, path):
    """Return whether `path` exists in `commit`."""
    found = subprocess.run(
        ["git", "cat-file", "-e", f"{commit}:{path}"], cwd=ROOT, capture_output=True, check=False
    )
    return found.returncode == 0


def requirements_python(requirements):
    """Return the bin folder of a virtualenv with exactly these pinned requirements."""
    digest = hashlib.sha256(requirements.read_bytes()).hexdigest()
    own = hashlib.sha256((ROOT / "requirements.txt").read_bytes()).hexdigest()
    if digest == own:  # this checkout's .venv has them (and the dev tools besides)
        return Path(sys.executable).parent, "this checkout's .venv"
    folder = VENV_CACHE / digest[:16]
    if not (folder / ".complete").exists():
        shutil.rmtree(folder, ignore_errors=True)
        venv.create(folder, with_pip=True)
        pip = [
            str(folder / "bin" / "python"),
            "-m",
            "pip",
            "install",
            "--disable-pip-version-check",
        ]
        subprocess.run([*pip, "-q", "-r", str(requirements)], check=True)
        (folder / ".complete").touch()
        return folder / "bin", f"new virtualenv {folder}"
    return folder / "bin", f"cached virtualenv {folder}"


@dataclass
class Release:
    """One release checked out from git: its folder, virtualenv and Procfile."""

    name: str
    commit: str
    folder: Path
    bin: Path
    procfile: dict
    revision: str

    @classmethod
    def build(cls, name, commit, workdir, bin_folder=None):
        """Check `commit` out into a worktree and find it a virtualenv (or use `bin_folder`)."""
        sha = git("rev-parse", "--verify", f"{commit}^{{commit}}")
        folder = workdir / name
        git("worktree", "add", "--detach", str(folder), sha)
        lines = (folder / "Procfile").read_text().splitlines()
        procfile = {k.strip(): v.strip() for k, v in (line.split(":", 1) for line in lines if line)}
        if bin_folder is None:
            bin_folder, how = requirements_python(folder / "requirements.txt")
        else:
            how = "the new release's virtualenv (release phase only)"
        revision, _ = newest_revision_file(sha)
        processes = ", ".join(procfile)
        say(f"{name} release: {sha[:10]} (revision {revision}), {how}; Procfile: {processes}")
        return cls(name, sha, folder, bin_folder, procfile, revision)

    def environment(self, services, **extra):
        """Return a production dyno's environment for this release, its virtualenv first on PATH."""
        variables = {
            **LOCAL_MAIL_SETTINGS,
            **os.environ,
            **services.store.environment(),
            "APP_SETTINGS": "config.ProductionConfig",
            "SECRET_KEY": SECRET_KEY,
            "DATABASE_URL": services.database_url,
            "WEB_CONCURRENCY": "2",
            # The drill's visitors save notes faster than a person (issue 23's 30 a minute).
            "NOTE_WRITES_PER_MINUTE": "100000",
            "VIRTUAL_ENV": str(self.bin.parent),
            **extra,
        }
        variables["PATH"] = f"{self.bin}{os.pathsep}{variables.get('PATH', '')}"
        return variables

    def start(self, process, services, log_folder):
        """Start a Procfile process as the platform starts a dyno (devenv/dyno.py); return it."""
        port = free_port()
        log = log_folder / f"{self.name}-{process}-{port}.log"
        environ = self.environment(services, PORT=str(port))
        environ["PATH"] = dyno_path(self.bin)
        started = Dyno(f"{process}.1", self.procfile[process], self.folder, environ, log).start()
        return Process(f"{self.name} {process}", started, port, log)

    def release_phase(self, services, log_folder):
        """Run the Procfile's release command; return (exit code, seconds, last line)."""
        code, seconds, lines = self.release_phase_output(services, log_folder)
        return code, seconds, lines[-1].rpartition("] ")[2]

    def release_phase_output(self, services, log_folder):
        """Run the Procfile's release command; return (exit code, seconds, output lines)."""
        log = log_folder / f"{self.name}-release-{time.monotonic_ns()}.log"
        started = time.monotonic()
        result = subprocess.run(
            ["bash", "-c", f"exec {self.procfile['release']}"],
            cwd=self.folder,
            env=self.environment(services),
            stdout=log.open("wb"),
            stderr=subprocess.STDOUT,
            timeout=300,
        )
        lines = log.read_text(errors="replace").strip().splitlines() or [""]
        return result.returncode, time.monotonic() - started, lines


@dataclass
class Process:
    """A process of one release, run as a dyno."""

    name: str
    dyno: Dyno
    port: int
    log: Path

    @property
    def popen(self):
        return self.dyno.popen

    def wait_until_ready(self):
        """Wait until /readyz answers 200 on this web process."""
        deadline = time.monotonic() + STARTUP_SECONDS
        while time.monotonic() < deadline:
            if self.popen.poll() is not None:
                raise DrillError(f"{self.name} exited with {self.popen.returncode}: see {self.log}")
            connection = http.client.HTTPConnection("127.0.0.1", self.port, timeout=2)
            with suppress(OSError, http.client.HTTPException):
                connection.request("GET", "/readyz")
                if connection.getresponse().status == 200:
                    return
            connection.close()
            time.sleep(0.2)
        raise DrillError(f"{self.name} was not ready in {STARTUP_SECONDS} s: see {self.log}")

    def terminate(self):
        """Send SIGTERM to every process of the dyno, as the platform does to one it replaces."""
        self.dyno.terminate()

    def wait(self):
        """Wait until every process of the dyno is gone (SIGKILL after 30 s); (code, seconds)."""
        started = time.monotonic()
        if dyno.wait_gone(self.dyno.mark, STOP_SECONDS):
            code = self.popen.wait(timeout=10)
        else:
            self.kill()
            code = "killed after 30 s"
        return code, time.monotonic() - started

    def kill(self):
        """Kill whatever is left of the dyno."""
        self.dyno.kill()


class DrillError(Exception):
    """A step of the drill could not be done; the message says which and why."""


@dataclass
class Services:
    """The one database and object store both releases use."""

    database_url: str
    store: ObjectStore


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


def lost_notes(load, database_url):
    """Return the confirmed notes that the database does not have as confirmed."""
    import psycopg2

    connection = psycopg2.connect(database_url)
    try:
        with connection.cursor() as cursor:
            cursor.execute("SELECT id, title FROM note WHERE id = ANY(%s)", (list(load.notes),))
            stored = dict(cursor.fetchall())
    finally:
        connection.close()
    return {note_id for note_id, title in load.notes.items() if stored.get(note_id) != title}


def refused_sessions(visitors):
    """Return the visitors whose session (made on the old release) is now refused."""
    refused = []
    for visitor in visitors:
        response = visitor.get("/mypage")
        if response.status != 200 or visitor.email not in response.text:
            refused.append(f"{visitor.email}: {response.status} {response.location}")
    return refused


def percentile(values, share):
    """Return the value below which `share` of `values` lie (nearest rank)."""
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(share * len(ordered)))] if ordered else 0.0


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


class Drill:
    """The steps of one drill, and everything it started (stopped at the end, whatever happens)."""

    def __init__(self, old, new, services, workdir, stack):
        self.old, self.new, self.services = old, new, services
        self.logs = workdir
        self.stack = stack
        self.problems = []
        self.serving = old
        self.router = Router(("127.0.0.1", 1)).start()
        stack.callback(self.router.stop)
        self.load = VisitorLoad(self.router, lambda: "worker" in self.serving.procfile)
        self.visitors = []

    def check(self, condition, problem):
        """Keep `problem` for the verdict unless `condition` holds."""
        if not condition:
            self.problems.append(problem)
            say(f"PROBLEM: {problem}")
        return condition

    def release_phase(self, release, what):
        code, seconds, last = release.release_phase(self.services, self.logs)
        say(f"{what}: `{release.procfile['release']}` exited {code} in {seconds:.1f} s ({last})")
        self.check(code == 0, f"{what} exited {code}: {last}")
        return code == 0

    def start(self, release):
        """Start the release's web (and worker if its Procfile has one); return them."""
        processes = [
            release.start(name, self.services, self.logs)
            for name in ("web", "worker")
            if name in release.procfile
        ]
        for process in processes:
            self.stack.callback(process.kill)
        processes[0].wait_until_ready()
        say(
            f"{release.name} release serving on :{processes[0].port}"
            + (" with its worker" if len(processes) > 1 else " (its Procfile has no worker)")
        )
        return processes

    def stop(self, processes):
        for process in processes:
            process.terminate()
        for process in processes:
            code, seconds = process.wait()
            say(f"{process.name} stopped on SIGTERM: exit {code} after {seconds:.1f} s")
            self.check(code == 0, f"{process.name} exited {code} on SIGTERM")

    def switch(self, release, web):
        rolling_back = self.serving is self.new and release is self.old
        if rolling_back:
            # Visitors start no word count or attachment (flows of several requests) and finish
            # those under way first: the older release may not have the feature, and a flow it
            # does not know fails on a rollback, whatever the release phase does.
            self.load.settling.set()
            time.sleep(SETTLE_SECONDS)
        self.serving = release
        self.router.switch(("127.0.0.1", web.port))
        self.load.settling.clear()
        say(f"Router switched to the {release.name} release (:{web.port})")

    def sign_in_visitors(self):
        for number in range(1, VISITORS + 1):
            visitor = DrillVisitor(self.load, number)
            response = visitor.signup(visitor.email, visitor.nickname)
            if response.status != 302:
                raise DrillError(f"signing up {visitor.email} answered {response.status}")
            self.visitors.append(visitor)
        say(f"{VISITORS} visitors signed up and signed in through the router at {self.router.url}")

    def run_load(self):
        self.load.stop.clear()
        threads = [threading.Thread(target=visit, args=(v,), daemon=True) for v in self.visitors]
        for thread in threads:
            thread.start()
        return threads

    def stop_load(self, threads):
        self.load.stop.set()
        for thread in threads:
            thread.join(timeout=60)

    def phase(self, name, seconds=0.0):
        self.load.phase = name
        say(f"Load: {name}" + (f" ({seconds:.0f} s)" if seconds else ""))
        time.sleep(seconds)

    def deploy(self, seconds):
        """The deploy under load: old serving, new release phase, new processes, switch."""
        old_processes = self.start(self.old)
        self.switch(self.old, old_processes[0])
        self.sign_in_visitors()
        threads = self.run_load()
        self.phase("old release serving", seconds)
        self.phase("new release phase running")
        self.release_phase(self.new, "New release phase (old release serving)")
        self.phase("new release starting")
        new_processes = self.start(self.new)
        self.phase("switched, old release stopping")
        self.switch(self.new, new_processes[0])
        self.stop(old_processes)
        self.phase("new release serving", seconds)
        self.stop_load(threads)
        return new_processes

    def verify_deploy(self):
        """Check what the visitors were told against what the new release has."""
        self.load.phase = "checks on the new release"
        lost = lost_notes(self.load, self.services.database_url)
        say(
            f"Acknowledged writes: {len(self.load.notes)} notes confirmed, "
            f"{len(self.load.notes) - len(lost)} in the database"
        )
        self.check(not lost, f"{len(lost)} confirmed notes are missing: {sorted(lost)[:10]}")
        unfinished = unfinished_jobs(self.load)
        workers = any("worker" in release.procfile for release in (self.old, self.new))
        say(
            f"Jobs: {len(self.load.jobs)} accepted, {len(self.load.jobs) - len(unfinished)} "
            "finished (done or failed)" + ("" if workers else "; neither Procfile has a worker")
        )
        self.check(not unfinished, f"jobs never finished: {unfinished[:5]}")
        refused = refused_sessions(self.visitors)
        say(
            f"Sessions made on the old release: {len(self.visitors) - len(refused)} of "
            f"{len(self.visitors)} accepted by the new release"
        )
        self.check(not refused, f"the new release refused sessions: {refused}")

    def phones(self):
        """Sign up four people through the router (a long note for the first); return them."""
        phones = []
        for number in range(4):
            phone = Visitor(self.router.url)
            email = f"phone-{number}-{uuid.uuid4().hex[:6]}@example.com"
            if phone.signup(email, f"phone{number}{uuid.uuid4().hex[:6]}").status != 302:
                raise DrillError(f"signing up {email} answered no 302")
            phone.get("/mypage")
            phones.append(phone)
        _, note_id = phones[0].create_note("A long note", "긴 메모 " * 4000)
        return phones, f"/notes/{note_id}"

    def rollback(self, new_processes, seconds):
        """The platform rollback: old release phase on the new schema, old web serving again."""
        say("Platform rollback to the old release")
        if not self.release_phase(self.old, "Old release phase on the new schema"):
            return
        phones, long_note = self.phones()
        old_processes = self.start(self.old)
        self.phase("rollback: switched, new release stopping")
        threads = self.run_load()
        self.switch(self.old, old_processes[0])
        # What the new web dyno still serves when the platform stops it must finish: photo
        # uploads still arriving (300 KB over 4 s, as from a phone) and slow readers.
        in_flight = InFlight(new_processes[0].port, phones, long_note).start()
        time.sleep(1)
        self.stop(new_processes)
        # The visitors' own uploads may still hold the dyno's 4 upload slots at the switch.
        problems = in_flight.finish(busy_allowed=True)
        saved = sum(answer.startswith(b"HTTP/1.1 302") for answer in in_flight.uploads)
        say(
            f"In flight on the stopped web dyno: {len(in_flight.uploads)} photo uploads "
            f"({saved} saved, the rest turned away by a full budget before the stop) and "
            f"{len(in_flight.reads)} slow reads; {len(problems)} problems"
        )
        for problem in problems:
            self.check(False, problem)
        self.phase("old release serving again", seconds)
        self.stop_load(threads)
        self.stop(old_processes)


def check_older_releases(drill, postgres, within, skip):
    """From each earlier commit of main that added a revision: its database, this release phase.

    Only release phases run here (no load), on the new release's virtualenv: those commits'
    revisions need nothing newer, and the full drill above covered serving.
    """
    commits = [c for c in commits_adding_revisions(main_ref(), within) if c not in skip]
    say(f"Older releases: {len(commits)} commits of main added a revision in the last {within}")
    if not commits:
        return
    fresh = older_database(postgres, "memo_fresh", drill.services.store)
    code, _, lines = drill.new.release_phase_output(fresh, drill.logs)
    if not drill.check(
        code == 0, f"the new release phase failed on an empty database: {lines[-1]}"
    ):
        return
    fresh_schema = schema_dump(fresh.database_url)
    for commit in commits:
        check_older_release(drill, postgres, commit, fresh_schema)


def older_database(postgres, name, store):
    """Return Services on a new database `name` of the drill's server."""
    ensure_database(postgres.get_uri(), name, recreate=True)
    return Services(postgres.get_uri(name), store)


def check_older_release(drill, postgres, commit, fresh_schema):
    """Make a database with `commit`'s release phase, then run the new one on it."""
    older = Release.build(f"older-{commit[:7]}", commit, drill.logs, drill.new.bin)
    drill.stack.callback(git, "worktree", "remove", "--force", str(older.folder))
    services = older_database(postgres, f"memo_{commit[:7]}", drill.services.store)
    code, _, lines = older.release_phase_output(services, drill.logs)
    if code:
        say(
            f"{older.name}: its own release phase fails, so no database was made by it: {lines[-1]}"
        )
        return
    before = schema_dump(services.database_url)
    code, seconds, lines = drill.new.release_phase_output(services, drill.logs)
    after = schema_dump(services.database_url)
    if code == 0:
        say(f"{older.name}: the new release phase upgraded its database in {seconds:.1f} s")
        drill.check(
            after == fresh_schema, f"{older.name}: upgraded schema differs from a fresh one"
        )
        return
    text = "\n".join(lines)
    what = re.findall(r"revision \w+ ran on top of \w+|Alembic would take [\w, ]+ as applied", text)
    say(
        f"{older.name}: the new release phase refused its database (exit {code}): "
        + ("; ".join(what) or lines[-1])
    )
    drill.check("flask release apply-skipped" in text, f"{older.name}: refused without the way out")
    drill.check(after == before, f"{older.name}: the refused release phase changed the schema")


def run(arguments):
    """Run the drill; return its exit code."""
    started = time.monotonic()
    to = arguments.to
    old_commit = arguments.from_ or default_from(to)
    if git("status", "--porcelain", "--untracked-files=no"):
        say("Releases are built from commits: uncommitted changes here are not in this drill")
    with ExitStack() as stack:
        workdir = Path(tempfile.mkdtemp(prefix="memo-drill-"))
        stack.callback(git, "worktree", "prune")
        old = Release.build("old", old_commit, workdir)
        stack.callback(git, "worktree", "remove", "--force", str(old.folder))
        new = Release.build("new", to, workdir)
        stack.callback(git, "worktree", "remove", "--force", str(new.folder))
        postgres = start_postgres(workdir / "postgres", cleanup_mode="delete")
        stack.callback(stop_postgres, postgres)
        ensure_database(postgres.get_uri(), "memo")
        store = ObjectStore("memo-drill").start()
        stack.callback(store.stop)
        services = Services(postgres.get_uri("memo"), store)
        say(f"Fresh PostgreSQL and object store; logs in {workdir}")
        drill = Drill(old, new, services, workdir, stack)
        try:
            if not drill.release_phase(old, "Old release phase (empty database)"):
                raise DrillError("the old release phase failed on an empty database")
            new_processes = drill.deploy(arguments.seconds)
            drill.verify_deploy()
            drill.rollback(new_processes, arguments.seconds / 2)
            if arguments.older:
                skip = {old.commit, new.commit}
                check_older_releases(drill, postgres, arguments.older, skip)
        except DrillError as error:
            drill.check(False, str(error))
        failed = print_report(drill.load)
        drill.check(failed == 0, f"{failed} requests failed")
    if drill.problems:
        say(f"Logs of every process are kept in {workdir}")
    else:
        shutil.rmtree(workdir, ignore_errors=True)
    verdict = "FAILED: " + "; ".join(drill.problems) if drill.problems else "passed"
    elapsed = time.monotonic() - started
    say(f"Release drill {old.commit[:10]} -> {new.commit[:10]} {verdict} ({elapsed:.0f} s)")
    return 1 if drill.problems else 0


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument(
        "--from",
        dest="from_",
        help="old release (default: the commit before the newest migration revision was added)",
    )
    parser.add_argument("--to", default="HEAD", help="new release (default: HEAD)")
    parser.add_argument(
        "--older",
        type=int,
        default=20,
        help="also check every commit of main that added a revision in the last N (default 20)",
    )
    parser.add_argument(
        "--seconds", type=float, default=6.0, help="load before and after the switch (default 6)"
    )
    try:
        return run(parser.parse_args())
    except subprocess.CalledProcessError as error:
        sys.exit(f"release-drill: {' '.join(error.cmd)} failed: {(error.stderr or '').strip()}")


if __name__ == "__main__":
    sys.exit(main())
