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
import re
import shutil
import subprocess
import sys
import tempfile
import threading
import time
import uuid
from contextlib import ExitStack
from pathlib import Path

from devenv.history import HistoryUnavailable, commits_adding_revisions, git, main_ref
from devenv.inflight import InFlight
from devenv.releases import DrillError, Release, Services, default_from, say
from devenv.router import Router
from devenv.schema import schema_dump
from devenv.services import ObjectStore, ensure_database, start_postgres, stop_postgres
from devenv.visitor_load import Load, LoadVisitor, lost_notes, print_report, unfinished_counts
from devenv.visitors import Visitor

VISITORS = 4
SETTLE_SECONDS = 1.0


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
        # A name, not a literal address, so the form takes it; the job then refuses it (loopback
        # is not public) and the count ends `failed`, which is finished too.
        page_url = f"http://localhost:{self.router.server_address[1]}/healthz"
        self.load = Load("sign-up (old release)", page_url, wait_for_jobs=False)
        self.visitors = []

    def check(self, condition, problem):
        """Keep `problem` for the verdict unless `condition` holds."""
        if not condition:
            self.problems.append(problem)
            say(f"PROBLEM: {problem}")
        return condition

    def release_phase(self, release, what):
        code, seconds, last = release.release_phase(self.services)
        say(f"{what}: `{release.procfile['release']}` exited {code} in {seconds:.1f} s ({last})")
        self.check(code == 0, f"{what} exited {code}: {last}")
        return code == 0

    def start(self, release):
        """Start the release's web (and worker if its Procfile has one); return them."""
        processes = [
            release.start(name, self.services)
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
        self.load.counting = "worker" in release.procfile
        self.router.switch(("127.0.0.1", web.port))
        self.load.settling.clear()
        say(f"Router switched to the {release.name} release (:{web.port})")

    def sign_in_visitors(self):
        for number in range(1, VISITORS + 1):
            visitor = LoadVisitor(self.router.url, number, self.load)
            response = visitor.signup(visitor.email, visitor.nickname)
            if response.status != 302:
                raise DrillError(f"signing up {visitor.email} answered {response.status}")
            self.visitors.append(visitor)
        say(f"{VISITORS} visitors signed up and signed in through the router at {self.router.url}")

    def run_load(self):
        self.load.stop.clear()
        threads = [threading.Thread(target=v.visit, daemon=True) for v in self.visitors]
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
        unfinished = unfinished_counts(self.load, ended=("done", "failed"))
        workers = any("worker" in release.procfile for release in (self.old, self.new))
        say(
            f"Jobs: {len(self.load.counts)} accepted, {len(self.load.counts) - len(unfinished)} "
            "finished (done or failed)" + ("" if workers else "; neither Procfile has a worker")
        )
        self.check(not unfinished, f"jobs never finished: {unfinished[:5]}")
        refused = [
            f"{visitor.email}: {response.status} {response.location}"
            for visitor in self.visitors
            if (response := visitor.get("/mypage")).status != 200
            or visitor.email not in response.text
        ]
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
    code, _, lines = drill.new.release_phase_output(fresh)
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
    code, _, lines = older.release_phase_output(services)
    if code:
        say(
            f"{older.name}: its own release phase fails, so no database was made by it: {lines[-1]}"
        )
        return
    before = schema_dump(services.database_url)
    code, seconds, lines = drill.new.release_phase_output(services)
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
    except HistoryUnavailable as error:
        sys.exit(f"release-drill: {error}")


if __name__ == "__main__":
    sys.exit(main())
