#!/usr/bin/env python3
"""Benchmark: what a request costs every process, end to end (`./scripts/bench e2e`, issue #81).

    ./scripts/bench e2e [--seconds 8] [--connections 32] [--accounts 1000] [--profile]
                        [--beside COMMIT ...] [--alone]

One run on this machine, over loopback (an embedded PostgreSQL, an
S3 server, ProductionConfig): Memo as the Procfile serves it (the front before gunicorn), and the
bare fortunes page (bench/baseline/fortunes.py) behind the same front and gunicorn settings.
wrk drives each view at `--connections` connections for `--seconds` after a short warm-up:
fortunes; the notes list and a note page each asked again as a browser does (If-None-Match
with the page's own tag: a 304), asked again without revalidation (kept made before #81), and
made anew (`--accounts` accounts in turn, more than a process keeps pages of). Around each
run, the CPU time of each process kind (utime + stime from /proc/<pid>/stat: the front, the
gunicorn master and workers, the postmaster's children) and the database round trips Memo
counted (app/roundtrips.py) are read and divided by the requests served. b728370's Memo (or
each `--beside` commit's, from a worktree under .dev/) serves the same views in the same run,
with the same accounts signed in; `--alone` leaves it out. `--profile` records one worker with
py-spy making each page anew, after its measure.
Prints one Markdown table, each figure beside the issue's target as a ratio to fortunes.
"""

import argparse
import json
import os
import subprocess
import sys
import tempfile
import time
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, datetime
from pathlib import Path

from app import roundtrips
from bench.end_to_end_report import profile_lines, report
from bench.load_kit import (
    RESULTS,
    WARM_UP_SECONDS,
    WRK_THREADS,
    checkout_of,
    commit,
    ensure_wrk,
    machine,
    memo_server,
)
from bench.seeding import (
    Database,
    production_environ,
    seed_fortunes,
    seed_user,
    start,
)
from devenv import ROOT, say, services
from devenv.flaskdb import flask_db
from devenv.liveserver import Front, program
from devenv.visitors import PASSWORD, Visitor

VIEWS_SCRIPT = ROOT / "bench" / "wrk" / "views.lua"
BASELINE = ROOT / "bench" / "baseline"
SCRIPTS_COOKIE = "memo-scripts=1"  # what app/static/pocket.js sets: the pages carry a tag
NOTES = 20  # an account's notes: the list shows them all
REFERENCE = "b728370"  # main when issue #81 was measured
CLOCK_TICKS = os.sysconf("SC_CLK_TCK")


def process_seconds(pid):
    """Return the user+system CPU seconds of one process (fields 14 and 15 of /proc/pid/stat)."""
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    except FileNotFoundError:
        return 0.0
    return (int(fields[11]) + int(fields[12])) / CLOCK_TICKS


def children(pid):
    """Return the pids of a process's children (from /proc/<pid>/task/*/children)."""
    found = []
    for task in Path(f"/proc/{pid}/task").glob("*"):
        try:
            found += [int(child) for child in (task / "children").read_text().split()]
        except FileNotFoundError:
            continue
    return found


def cpu_by_kind(server, postmaster):
    """Return the CPU seconds used so far by the front, gunicorn (master and workers), and
    PostgreSQL's backends (every child of the postmaster)."""
    master = server.gunicorn_master().pid
    return {
        "front": process_seconds(server.process.pid),
        "gunicorn": sum(map(process_seconds, [master, *children(master)])),
        "postgres": sum(map(process_seconds, children(postmaster))),
    }


class Views:
    """wrk driving views from request files, with each process kind's CPU read around a run."""

    def __init__(self, wrk, connections, seconds, postmaster, folder):
        self.wrk, self.connections, self.seconds = wrk, connections, seconds
        self.postmaster, self.folder = postmaster, folder

    def wrk_run(self, server, lines, status, seconds, start=0):
        """Run wrk over the request lines (path, cookie, tag) for `seconds`, each thread from
        its `start`-th line; return its figures."""
        requests = self.folder / f"requests-{len(lines)}-{abs(hash(tuple(lines)))}.tsv"
        lines = lines * WRK_THREADS if len(lines) == 1 else lines  # each thread takes its share
        requests.write_text("".join("\t".join(line) + "\n" for line in lines))
        command = [
            *(self.wrk, f"-t{WRK_THREADS}", f"-c{self.connections}", f"-d{seconds}s"),
            *("-H", "X-Forwarded-Proto: https", "-s", str(VIEWS_SCRIPT)),
            *(server.url + "/", "--", str(requests), str(status), str(WRK_THREADS), str(start)),
        ]
        output = subprocess.run(
            command, capture_output=True, text=True, check=True, timeout=seconds + 60
        ).stdout
        figures = json.loads(output.strip().splitlines()[-1])
        figures["rps"] = figures["requests"] / (figures["duration_us"] / 1e6)
        sockets = sum(figures[kind] for kind in ("connect", "read", "write", "timeout"))
        figures["errors"] = figures["unexpected"] + sockets
        return figures

    def measure(self, server, lines, status, trips_folder=None):
        """Warm up, then run one view; return its figures, with CPU ms and round trips a request."""
        warm_up = self.wrk_run(server, lines, status, WARM_UP_SECONDS)
        # Made anew: the measured run goes on past the lines the warm-up asked for.
        start = (warm_up["requests"] + self.connections) // WRK_THREADS
        time.sleep(2 * roundtrips.WRITE_SECONDS)
        cpu_before = cpu_by_kind(server, self.postmaster)
        trips_before = roundtrips.read(trips_folder) if trips_folder else None
        figures = self.wrk_run(server, lines, status, self.seconds, start)
        cpu_after = cpu_by_kind(server, self.postmaster)
        # What wrk counted, and the requests in flight when it stopped: the server serves those too.
        served = figures["requests"] + self.connections
        figures["cpu_ms"] = {
            kind: (cpu_after[kind] - cpu_before[kind]) / served * 1000 for kind in cpu_after
        }
        if trips_folder:
            time.sleep(2 * roundtrips.WRITE_SECONDS)
            trips = roundtrips.read(trips_folder)
            trips.subtract(trips_before)
            figures["trips"] = {kind: trips[kind] / served for kind in roundtrips.KINDS}
        return figures


def profiled(views, server, lines, status):
    """Record one worker with py-spy while wrk drives the view again; return the raw file."""
    output = RESULTS / f"profile-e2e-{datetime.now(UTC):%Y%m%dT%H%M%S%fZ}.txt"
    RESULTS.mkdir(exist_ok=True)
    command = [program("py-spy"), "record", "--pid", str(server.worker_processes()[0].pid)]
    command += ["--duration", str(views.seconds), "--rate", "100", "--format", "raw"]
    spy = subprocess.Popen([*command, "--output", str(output)], stdout=subprocess.DEVNULL)
    views.wrk_run(server, lines, status, views.seconds, len(lines) // (2 * WRK_THREADS))
    spy.wait(timeout=60)
    return output if output.exists() else None


def fortunes_server(environ, database, folder):
    """Return the bare fortunes page behind the Procfile's front and the same gunicorn settings."""
    environ = {**environ, "DATABASE_URL": database.baseline_url}
    server = Front(environ, folder / "fortunes.log", int(environ["WEB_CONCURRENCY"]))
    gunicorn = ["gunicorn", "-c", str(ROOT / "gunicorn.conf.py"), "--chdir", str(BASELINE)]
    server.command = [*server.command[:3], *gunicorn, "fortunes:app"]
    return server


def seed_accounts(database, count):
    """Seed `count` accounts with NOTES notes each; return (address, a note's path) of each."""
    from app.models import hasher_for
    from config import ProductionConfig

    password_hash = hasher_for(**ProductionConfig.PASSWORD_HASHING).hash(PASSWORD)
    connection = services.connect(database.memo_url)
    accounts = []
    with connection.cursor() as cursor:
        for number in range(count):
            email = f"account{number}@bench.example"
            user_id = seed_user(cursor, email, NOTES, password_hash)
            cursor.execute("SELECT max(id) FROM note WHERE user_id = %s", (user_id,))
            accounts.append((email, f"/notes/{cursor.fetchone()[0]}"))
        cursor.execute("ANALYZE")
    connection.close()
    return accounts


def signed_in(server, email):
    """Sign in as `email`; return the Cookie header, with the scripts' cookie.

    The page seen after signing in (which puts the CSRF secret in the session, as a browser's
    first page does) is one that no process keeps: each list and note page is first seen
    in the measured views.
    """
    visitor = Visitor(server.url, behind_router=True)
    response = visitor.login(email)
    page = visitor.get("/mypage")
    if response.status != 302 or page.status != 200:
        sys.exit(f"memo bench: signing in as {email} answered {response.status}, {page.status}")
    return f"{visitor.cookie_header()}; {SCRIPTS_COOKIE}"


def sign_in_all(server, accounts):
    """Sign every account in, eight at a time; return their Cookie headers."""
    with ThreadPoolExecutor(8) as pool:
        return list(pool.map(lambda account: signed_in(server, account[0]), accounts))


def tag_of(server, path, cookie):
    """Return the ETag the page at `path` is sent with, to this cookie."""
    visitor = Visitor(server.url, behind_router=True)
    answer = visitor.send("GET", server.url + path, headers={"Cookie": cookie})
    if answer.status_code != 200 or "ETag" not in answer.headers:
        sys.exit(f"memo bench: {path} came without a tag ({answer.status_code})")
    return answer.headers["ETag"], len(answer.content)


def memo_views(server, accounts, cookies):
    """Return [(view, request lines, status)] and the pages' sizes, for the accounts signed in
    with `cookies` (a commit beside this one takes the same: one secret, one database)."""
    cookie, note = cookies[0], accounts[0][1]
    list_tag, list_size = tag_of(server, "/", cookie)
    note_tag, note_size = tag_of(server, note, cookie)
    anew = list(zip(cookies[1:], accounts[1:], strict=True))  # none of their pages seen yet
    views = [
        ("list-304", [("/", cookie, list_tag)], 304),
        ("list-again", [("/", cookie, "")], 200),
        ("list-anew", [("/", each, "") for each, _ in anew], 200),
        ("note-304", [(note, cookie, note_tag)], 304),
        ("note-again", [(note, cookie, "")], 200),
        ("note-anew", [(path, each, "") for each, (_, path) in anew], 200),
    ]
    return views, {"list": list_size, "note": note_size}


def parse_args():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seconds", type=int, default=8, help="measured seconds a view")
    parser.add_argument("--connections", type=int, default=32)
    parser.add_argument("--accounts", type=int, default=1000, help="accounts seen in turn")
    parser.add_argument(
        "--profile", action="store_true", help="and profile a worker making each page anew"
    )
    parser.add_argument(
        "--beside",
        action="append",
        default=[],
        help=f"also measure this commit's Memo (repeatable; {REFERENCE} unless --alone)",
    )
    parser.add_argument("--alone", action="store_true", help="measure this checkout alone")
    args = parser.parse_args()
    args.beside = [] if args.alone else args.beside or [REFERENCE]
    return args


def serve_memo(environ, folder, name, checkout):
    """Start Memo as the Procfile does from `checkout`, counting its round trips."""
    trips = folder / f"trips-{name}"
    trips.mkdir()
    server = memo_server({**environ, roundtrips.SETTING: str(trips)}, folder, name)
    server.cwd = checkout
    return start(server), trips


def main():
    """Run every view of every server and print the table."""
    args = parse_args()
    wrk = ensure_wrk()
    folder = Path(tempfile.mkdtemp(prefix="memo-bench-e2e-"))
    context = {
        "machine": machine(),
        "load": " ".join(f"{value:.2f}" for value in os.getloadavg()),
        "commit": commit(),
        "date": datetime.now(UTC).strftime("%Y-%m-%d %H:%M UTC"),
        "command": " ".join(["./scripts/bench e2e", *sys.argv[1:]]),
    }
    say(f"Starting PostgreSQL and the object store (logs in {folder})")
    database = Database(folder)
    store = services.ObjectStore("memo-bench").start()
    servers, results, cookies, profiles = [], {}, [], {}
    try:
        environ = production_environ(database, store)
        quiet = {**environ, "LOG_LEVEL": "WARNING"}
        flask_db(environ["DATABASE_URL"], "upgrade", check=True, **quiet)
        say(f"Seeding {args.accounts} accounts of {NOTES} notes, and the fortunes")
        accounts = seed_accounts(database, args.accounts)
        seed_fortunes(database)
        views = Views(wrk, args.connections, args.seconds, database.server.get_pid(), folder)
        fortunes = start(fortunes_server(environ, database, folder), "/fortunes")
        servers.append(fortunes)
        checkouts = {context["commit"]: ROOT}
        for beside in args.beside:
            checkouts[beside] = checkout_of(beside)[0]
        for name, checkout in checkouts.items():
            memo, trips = serve_memo(environ, folder, name, checkout)
            servers.append(memo)
            if not cookies:
                say(f"Signing {args.accounts} accounts in")
                cookies = sign_in_all(memo, accounts)
            memo_pages, context["sizes"] = memo_views(memo, accounts, cookies)
            say("Measuring: fortunes")
            results[(name, "fortunes")] = views.measure(fortunes, [("/fortunes", "", "")], 200)
            for view, lines, status in memo_pages:
                say(f"Measuring: {view} ({name})")
                results[(name, view)] = views.measure(memo, lines, status, trips)
                if args.profile and view.endswith("anew") and checkout == ROOT:
                    profiles[view] = profiled(views, memo, lines, status)
            memo.stop()
    finally:
        for server in servers:
            server.stop()
        store.stop()
        database.stop()
    context["load_after"] = " ".join(f"{value:.2f}" for value in os.getloadavg())
    text, missed = report(context, results, args)
    for view, path in profiles.items():
        text += "\n\n" + profile_lines(view, path)
    print()
    print(text)
    RESULTS.mkdir(exist_ok=True)
    (RESULTS / f"e2e-{datetime.now(UTC):%Y%m%dT%H%M%SZ}.md").write_text(text + "\n")
    return 1 if missed else 0


if __name__ == "__main__":
    sys.exit(main())
