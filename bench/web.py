#!/usr/bin/env python3
"""Benchmark: Memo's pages under load, beside a bare Flask baseline (`./scripts/bench load`).

    ./scripts/bench load [--seconds 12] [--connections 32] [--soak-requests 20000] [--profile]

One run on this machine, all over loopback:
1. Starts an embedded PostgreSQL and an S3 server (moto), applies the migrations,
   seeds users with 100 and 100,000 notes, and fills the baseline's `fortune` table.
2. Serves Memo as the Procfile does (front/ before `gunicorn wsgi:app`,
   gunicorn.conf.py) under ProductionConfig, and the baseline (bench/baseline/fortunes.py)
   with the same gunicorn.conf.py, no front. Both bind 127.0.0.1 only.
3. Signs users in with a real login POST (CSRF token, `X-Forwarded-Proto: https` as
   the platform's router sends it, so the Secure session cookie is issued) and drives
   each scenario with wrk (2 threads, 32 connections: a short warm-up, then
   `--seconds`), polling pg_stat_activity for the peak number of database connections.
4. Times worker boots (import, app factory, first request) in fresh processes that
   first do what gunicorn's master does before it forks, and soaks a fresh server with
   recycling off until each worker has served about `--soak-requests` requests,
   sampling the workers' RSS from /proc. With `--profile`, py-spy records one worker's
   CPU while it serves the notes list, and the report says where it went.

Prints one Markdown table with the machine, commit and date, and the targets (bench/README.md)
met or missed; keeps a copy in bench/results/ (not committed).
"""

import argparse
import json
import os
import platform
import re
import statistics
import subprocess
import sys
import tempfile
import time
from datetime import UTC, datetime
from pathlib import Path

from bench.seeding import (
    FORTUNES,
    Database,
    middle_cursor,
    production_environ,
    seed_fortunes,
    seed_users,
    sign_in,
    start,
)
from bench.web_report import (
    BOOTS,
    RESULTS,
    WARM_UP_SECONDS,
    profile,
    report,
)
from bench.wrk_load import Wrk, ensure_wrk
from devenv import ROOT, say, services
from devenv.flaskdb import flask_db
from devenv.liveserver import (
    Front,
    Gunicorn,
    program,
)
from devenv.memory import rss_mb
from devenv.visitors import Visitor

BASELINE = ROOT / "bench" / "baseline"
SOAK_CHUNK_SECONDS = 5
SOAK_MAX_SECONDS = 300
# TechEmpower's fortunes, the one with markup included: the page must escape it.


def machine():
    """Describe the machine: CPU model, cores, memory, OS."""
    model = platform.processor() or "unknown CPU"
    cpuinfo = Path("/proc/cpuinfo")
    if cpuinfo.exists():
        for line in cpuinfo.read_text().splitlines():
            if line.startswith("model name"):
                model = line.split(":", 1)[1].strip()
                break
    memory = os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES") / 2**30
    system = f"{platform.system()} {platform.release()}"
    return f"{model}, {os.cpu_count()} cores, {memory:.0f} GiB, {system}"


def commit():
    """Return the current commit, marked `-dirty` when the work tree has changes."""
    run = {"cwd": ROOT, "capture_output": True, "text": True}
    head = subprocess.run(["git", "rev-parse", "--short", "HEAD"], **run).stdout.strip()
    dirty = subprocess.run(["git", "status", "--porcelain"], **run).stdout.strip()
    return f"{head}-dirty" if dirty else head or "unknown"


def time_boots(environ, cookie):
    """Boot BOOTS fresh processes; return the medians of their timings, in seconds.

    `worker` is a worker's own boot (import, app factory, first request); `process` is
    the whole process from exec, interpreter and the master's imports included.
    """
    runs = []
    for _ in range(BOOTS):
        started = time.perf_counter()
        output = subprocess.run(
            [sys.executable, str(ROOT / "bench" / "boot_probe.py"), cookie],
            cwd=ROOT,
            env={**environ, "LOG_LEVEL": "WARNING"},
            capture_output=True,
            text=True,
            check=True,
            timeout=60,
        ).stdout
        figures = json.loads(output.strip().splitlines()[-1])
        figures["process_s"] = time.perf_counter() - started
        figures["worker_s"] = figures["import_s"] + figures["first_request_s"]
        runs.append(figures)
    return {key: statistics.median(run[key] for run in runs) for key in runs[0]}


def soak(load, server, cookie, token, note_path, per_worker):
    """Drive the mixed scenario until each worker served about `per_worker` requests.

    Returns [(requests so far, [RSS of each worker in MB])], the first after a warm-up.
    """
    workers = server.worker_processes()
    load.run(server.port, "/", WARM_UP_SECONDS, cookie, ("mixed", token, note_path))
    samples = [(0, [rss_mb(worker.pid) for worker in workers])]
    served, deadline = 0, time.monotonic() + SOAK_MAX_SECONDS
    target = per_worker * len(workers)
    while served < target and time.monotonic() < deadline:
        figures = load.run(
            server.port, "/", SOAK_CHUNK_SECONDS, cookie, ("mixed", token, note_path)
        )
        served += figures["requests"]
        if figures["errors"]:
            say(f"soak: {figures['errors']} errors in the last {SOAK_CHUNK_SECONDS} s")
        samples.append((served, [rss_mb(worker.pid) for worker in workers]))
    if server.worker_pids() != {worker.pid for worker in workers}:
        sys.exit("memo bench: a worker was replaced during the soak; its RSS would mislead")
    return samples


def parse_args():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seconds", type=int, default=12, help="measured seconds per scenario")
    parser.add_argument("--connections", type=int, default=32, help="concurrent connections")
    parser.add_argument(
        "--soak-requests", type=int, default=20_000, help="requests per worker in the soak"
    )
    parser.add_argument(
        "--profile",
        action="store_true",
        help="also record a worker serving the notes list with py-spy, and summarize it",
    )
    return parser.parse_args()


def memo_server(environ, folder, name="memo", options=""):
    """Return Memo's web process as the Procfile starts it, bound to loopback only."""
    workers = int(environ["WEB_CONCURRENCY"])
    return Front(environ, folder / f"{name}.log", workers, options=options)


def baseline_server(environ, database, folder):
    """Return the baseline app under the same gunicorn.conf.py, bound to loopback only."""
    command = [program("gunicorn"), "-c", str(ROOT / "gunicorn.conf.py"), "--chdir", str(BASELINE)]
    environ = {**environ, "DATABASE_URL": database.baseline_url}
    workers = int(environ["WEB_CONCURRENCY"])
    return Gunicorn([*command, "fortunes:app"], environ, folder / "baseline.log", workers, BASELINE)


def check_baseline(server):
    """Make sure the baseline does the whole job: every row, the extra one, escaped, sorted."""
    response = Visitor(server.url).get("/fortunes")
    status, page = response.status, response.text
    messages = re.findall(r"<tr><td>\d+</td><td>(.*?)</td></tr>", page)
    escaped = "&lt;script&gt;alert(&#34;This should not be displayed"
    if status != 200 or len(messages) != len(FORTUNES) + 1 or escaped not in page:
        sys.exit(f"memo bench: the baseline's page is wrong (status {status}):\n{page}")
    if messages != sorted(messages, key=lambda message: message.replace("&lt;", "<")):
        sys.exit("memo bench: the baseline's fortunes are not sorted by message")


def run_scenarios(load, database, users, memo, baseline):
    """Sign the users in and measure every scenario.

    Returns the figures by scenario, the pairs of paging scenarios to compare, the
    reader's cookie, and the writer's (cookie, CSRF token, note path) for the soak.
    """
    reader, writer, big = (Visitor(memo.url, behind_router=True) for _ in range(3))
    _, note_path = sign_in(reader, users["reader"][0])
    token, writer_note = sign_in(writer, users["writer"][0])
    sign_in(big, users["big"][0])
    reader_cookie, writer_cookie, big_cookie = (
        visitor.cookie_header() for visitor in (reader, writer, big)
    )
    small_middle = f"/?before={middle_cursor(database, users['reader'][1])}"
    big_middle = f"/?before={middle_cursor(database, users['big'][1])}"
    memo_db, get_only = "memo_bench", ("get",)
    scenarios = {
        "baseline": (baseline.port, "/fortunes", "", get_only, "fortunes_bench"),
        "notes list `/` (20 of 100 notes)": (memo.port, "/", reader_cookie, get_only, memo_db),
        "note page": (memo.port, note_path, reader_cookie, get_only, memo_db),
        "`/healthz`": (memo.port, "/healthz", "", get_only, memo_db),
        "last page `/?after=0-0`, 100 notes": (memo.port, "/?after=0-0", reader_cookie),
        "middle page `?before=`, 100 notes": (memo.port, small_middle, reader_cookie),
        "notes list `/`, 100,000 notes": (memo.port, "/", big_cookie),
        "last page `/?after=0-0`, 100,000 notes": (memo.port, "/?after=0-0", big_cookie),
        "middle page `?before=`, 100,000 notes": (memo.port, big_middle, big_cookie),
        "mixed: 70% list, 20% note page, 10% new note": (
            memo.port,
            "/",
            writer_cookie,
            ("mixed", token, writer_note),
            memo_db,
        ),
    }
    results = {}
    servers = {memo.port: memo, baseline.port: baseline}
    for name, (port, path, cookie, *rest) in scenarios.items():
        script_args, db_name = rest if rest else (get_only, memo_db)
        say(f"Measuring: {name}")
        results[name] = load.measure(database, db_name, servers[port], path, cookie, script_args)
    paging = [
        ("The first page", "notes list `/` (20 of 100 notes)", "notes list `/`, 100,000 notes"),
        (
            "The last page",
            "last page `/?after=0-0`, 100 notes",
            "last page `/?after=0-0`, 100,000 notes",
        ),
        (
            "A middle page",
            "middle page `?before=`, 100 notes",
            "middle page `?before=`, 100,000 notes",
        ),
    ]
    return results, paging, reader_cookie, (writer_cookie, token, writer_note)


def run_context(args, wrk):
    """Return what the report says of this run: machine, load, commit, date, tools, command."""
    return {
        "machine": machine(),
        "load": " ".join(f"{value:.2f}" for value in os.getloadavg()),
        "commit": commit(),
        "date": datetime.now(UTC).strftime("%Y-%m-%d %H:%M UTC"),
        "wrk": subprocess.run([wrk, "-v"], capture_output=True, text=True).stdout.split(" [")[0],
        "command": " ".join(["./scripts/bench load", *sys.argv[1:]]),
        "connections": args.connections,
        "seconds": args.seconds,
    }


def save(text):
    """Print the report and keep a copy in bench/results/; return its path."""
    print()
    print(text)
    RESULTS.mkdir(exist_ok=True)
    saved = RESULTS / f"web-{datetime.now(UTC):%Y%m%dT%H%M%SZ}.md"
    saved.write_text(text + "\n")
    return saved


def main():
    """Run the whole benchmark and print the report."""
    args = parse_args()
    wrk = ensure_wrk()

    folder = Path(tempfile.mkdtemp(prefix="memo-bench-web-"))
    context = run_context(args, wrk)
    say(f"Starting PostgreSQL and the object store (logs in {folder})")
    database = Database(folder)
    store = services.ObjectStore("memo-bench").start()
    servers, profiled = [], None
    try:
        context["postgres"] = database.version()
        environ = production_environ(database, store)
        context["workers"], context["threads"] = environ["WEB_CONCURRENCY"], environ["WEB_THREADS"]
        say("Applying migrations; seeding users with 100, 100 and 100,000 notes")
        flask_db(
            environ["DATABASE_URL"], "upgrade", check=True, **{**environ, "LOG_LEVEL": "WARNING"}
        )
        users = seed_users(database)
        seed_fortunes(database)
        say("Starting Memo (Procfile web command) and the baseline under gunicorn.conf.py")
        memo, baseline = memo_server(environ, folder), baseline_server(environ, database, folder)
        servers += [memo, baseline]
        start(memo)
        start(baseline, "/fortunes")
        check_baseline(baseline)
        load = Wrk(wrk, args.connections, args.seconds)
        results, paging, reader_cookie, writer = run_scenarios(
            load, database, users, memo, baseline
        )
        context["paging"] = paging
        if args.profile:
            say("Profiling a worker serving the notes list (py-spy)")
            profiled = profile(load, memo, "/", reader_cookie, args.seconds)
        memo.stop()
        baseline.stop()
        say(f"Timing {BOOTS} worker boots (import, app factory, first request)")
        boots = time_boots(environ, reader_cookie)
        say(f"Soak: ~{args.soak_requests:,} mixed requests per worker, recycling off")
        soaked = memo_server(environ, folder, "memo-soak", "--max-requests 0")
        servers.append(soaked)
        start(soaked)
        samples = soak(load, soaked, *writer, args.soak_requests)
        soaked.stop()
    finally:
        for server in servers:
            server.stop()
        store.stop()
        database.stop()
    saved = save(report(context, results, boots, samples, profiled))
    say(f"Saved to {saved.relative_to(ROOT)}; server logs in {folder}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
