#!/usr/bin/env python3
"""Benchmark: Memo's pages under load, beside a bare Flask baseline (`./scripts/bench`).

    ./scripts/bench [--seconds 12] [--connections 32] [--soak-requests 20000] [--profile]

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
import contextlib
import json
import os
import platform
import re
import shutil
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from datetime import UTC, datetime
from pathlib import Path

from devenv import ROOT, services
from devenv.liveserver import (
    Front,
    Gunicorn,
    production_environment,
    program,
)
from devenv.memory import rss_mb
from devenv.visitors import PASSWORD, Visitor

BASELINE = ROOT / "bench" / "baseline"
SCENARIO_SCRIPT = ROOT / "bench" / "wrk" / "scenario.lua"
RESULTS = ROOT / "bench" / "results"
NOTE_LINK = re.compile(r'href="(/notes/\d+)"')
WRK_THREADS = 2
WARM_UP_SECONDS = 3
SOAK_CHUNK_SECONDS = 5
SOAK_MAX_SECONDS = 300
BOOTS = 5
# What a profile of the notes list is split into: the frames a sample's stack holds.
PROFILE_PARTS = [
    ("templates (Jinja, url_for, the CSRF token)", ("render_template (",)),
    ("the login session and its user (one ORM query)", ("load_user (app/models.py",)),
    ("the notes query (ORM, 21 rows)", ("notes_page (",)),
    ("the log line", ("log_request (",)),
]

# TechEmpower's fortunes, the one with markup included: the page must escape it.
FORTUNES = [
    "fortune: No such file or directory",
    "A computer scientist is someone who fixes things that aren't broken.",
    "After enough decimal places, nobody gives a damn.",
    "A bad random number generator: 1, 1, 1, 1, 1, 4.33e+67, 1, 1, 1",
    "A computer program does what you tell it to do, not what you want it to do.",
    "Emacs is a nice operating system, but I prefer UNIX. — Tom Christaensen",
    "Any program that runs right is obsolete.",
    "A list is only as strong as its weakest link. — Donald Knuth",
    "Feature: A bug with seniority.",
    "Computers make very fast, very accurate mistakes.",
    '<script>alert("This should not be displayed in a browser alert box.");</script>',
    "フレームワークのベンチマーク",
]


def say(message):
    """Print a progress line that stands out from the tools' own output."""
    print(f"==> {message}", flush=True)


def ensure_wrk():
    """Return the path of wrk, installing Debian's package when missing and running as root."""
    found = shutil.which("wrk")
    if found:
        return found
    if os.geteuid() == 0 and shutil.which("apt-get"):
        say("Installing the load generator: apt-get install wrk")
        environ = {**os.environ, "DEBIAN_FRONTEND": "noninteractive"}
        install = ["apt-get", "install", "-y", "-q", "wrk"]
        # A machine whose package lists were never fetched knows no wrk yet.
        if subprocess.call(install, env=environ) != 0:
            subprocess.call(["apt-get", "update", "-q"], env=environ)
            subprocess.call(install, env=environ)
        found = shutil.which("wrk")
        if found:
            return found
    sys.exit(
        "memo bench: the load generator wrk is missing. Install it (Debian/Ubuntu: "
        "`sudo apt-get install wrk`; macOS: `brew install wrk`), then run ./scripts/bench again."
    )


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


class Database:
    """The embedded PostgreSQL: Memo's database, the baseline's, and a connection poller."""

    def __init__(self, folder):
        self.server = services.start_postgres(folder / "postgres", cleanup_mode="delete")
        services.ensure_database(self.server.get_uri(), "memo_bench", recreate=True)
        services.ensure_database(self.server.get_uri(), "fortunes_bench", recreate=True)
        self.memo_url = self.server.get_uri("memo_bench")
        self.baseline_url = self.server.get_uri("fortunes_bench")

    def version(self):
        return services.query(self.memo_url, "SHOW server_version")[0][0]

    def stop(self):
        self.server.cleanup()


def seed_fortunes(database):
    """Create and fill the baseline's `fortune` table (TechEmpower's twelve rows)."""
    connection = services.connect(database.baseline_url)
    with connection.cursor() as cursor:
        cursor.execute("CREATE TABLE fortune (id integer PRIMARY KEY, message text NOT NULL)")
        cursor.executemany(
            "INSERT INTO fortune (id, message) VALUES (%s, %s)",
            list(enumerate(FORTUNES, start=1)),
        )
    connection.close()


def seed_user(cursor, email, notes, password_hash):
    """Insert a user with `notes` notes a minute apart, newest now; return the user's id."""
    cursor.execute(
        'INSERT INTO "user" (email, nickname, password_hash, created_at) '
        "VALUES (%s, %s, %s, now()) RETURNING id",
        (email, email.split("@")[0], password_hash),
    )
    user_id = cursor.fetchone()[0]
    cursor.execute(
        "INSERT INTO note (title, content, created_at, updated_at, user_id, completed) "
        "SELECT 'Note number ' || n, repeat('Some words of a benchmark note. ', 12), "
        "  now() - n * interval '1 minute', now() - n * interval '1 minute', %s, n %% 5 = 0 "
        "FROM generate_series(1, %s) AS n",
        (user_id, notes),
    )
    return user_id


def seed_users(database):
    """Seed the benchmark's users; return {name: (email, id)}."""
    from app.models import hasher_for
    from config import Config

    password_hash = hasher_for(**Config.PASSWORD_HASHING).hash(PASSWORD)
    users = {"reader": 100, "writer": 100, "big": 100_000}
    connection = services.connect(database.memo_url)
    seeded = {}
    with connection.cursor() as cursor:
        for name, notes in users.items():
            email = f"{name}@bench.example"
            seeded[name] = (email, seed_user(cursor, email, notes, password_hash))
        cursor.execute("ANALYZE")
    connection.close()
    return seeded


def middle_cursor(database, user_id):
    """Return the `?before=` cursor of the note in the middle of a user's notes."""
    [(micros, note_id)] = services.query(
        database.memo_url,
        "SELECT floor(extract(epoch FROM created_at) * 1000000)::bigint, id FROM note "
        "WHERE user_id = %s ORDER BY created_at DESC, id DESC "
        "OFFSET (SELECT count(*) / 2 FROM note WHERE user_id = %s) LIMIT 1",
        (user_id, user_id),
    )
    return f"{micros}-{note_id}"


def start(server, ready_path="/healthz"):
    """Start a server, or stop the benchmark with the reason it did not start."""
    try:
        return server.start(ready_path)
    except RuntimeError as error:
        sys.exit(f"memo bench: {str(error)[-2000:]}")


def sign_in(visitor, email):
    """Sign in through the login form; return the CSRF token and a note of the notes list."""
    response = visitor.login(email)
    if response.status != 302 or response.location != "/":
        sys.exit(f"memo bench: signing in as {email} failed with status {response.status}")
    page = visitor.get("/")
    if page.status != 200 or "Your notes" not in page.text:
        sys.exit(f"memo bench: the notes list answered {page.status} after signing in")
    return visitor.token, NOTE_LINK.search(page.text).group(1)


class ConnectionPeak:
    """Poll pg_stat_activity in a thread and keep the most connections seen to one database."""

    def __init__(self, database, name):
        self.connection = services.connect(database.server.get_uri("postgres"))
        self.name = name
        self.peak = 0
        self.running = False

    def poll(self):
        with self.connection.cursor() as cursor:
            while self.running:
                # Client backends only: autovacuum workers show up under the database too.
                cursor.execute(
                    "SELECT count(*) FROM pg_stat_activity "
                    "WHERE datname = %s AND backend_type = 'client backend'",
                    (self.name,),
                )
                self.peak = max(self.peak, cursor.fetchone()[0])
                time.sleep(0.02)

    def __enter__(self):
        self.running = True
        self.thread = threading.Thread(target=self.poll, daemon=True)
        self.thread.start()
        return self

    def __exit__(self, *exc):
        self.running = False
        self.thread.join()
        self.connection.close()


class Wrk:
    """wrk with the settings every scenario shares."""

    def __init__(self, wrk, connections, seconds):
        self.wrk, self.connections, self.seconds = wrk, connections, seconds

    def run(self, port, path, seconds, cookie="", script_args=()):
        """Run wrk against one path for `seconds`; return the figures scenario.lua reports."""
        command = [
            self.wrk,
            f"-t{WRK_THREADS}",
            f"-c{self.connections}",
            f"-d{seconds}s",
            "-H",
            "X-Forwarded-Proto: https",
            "-s",
            str(SCENARIO_SCRIPT),
        ]
        if cookie:
            command += ["-H", f"Cookie: {cookie}"]
        command += [f"http://127.0.0.1:{port}{path}", "--", *script_args]
        output = subprocess.run(
            command, capture_output=True, text=True, check=True, timeout=seconds + 60
        ).stdout
        figures = json.loads(output.strip().splitlines()[-1])
        figures["rps"] = figures["requests"] / (figures["duration_us"] / 1e6)
        sockets = sum(figures[kind] for kind in ("connect", "read", "write", "timeout"))
        figures["errors"] = figures["unexpected"] + sockets
        return figures

    def measure(self, database, name, server, path, cookie="", script_args=()):
        """Warm up, then measure one scenario with the database connections polled.

        `cpu_ms` is the CPU the server's processes spent per request: unlike requests/s,
        it hardly depends on what else the machine runs.
        """
        self.run(server.port, path, WARM_UP_SECONDS, cookie, script_args)
        cpu_before = cpu_seconds(server)
        with ConnectionPeak(database, name) as peak:
            figures = self.run(server.port, path, self.seconds, cookie, script_args)
        figures["cpu_ms"] = (cpu_seconds(server) - cpu_before) / figures["requests"] * 1000
        figures["peak_connections"] = peak.peak
        return figures


def cpu_seconds(server):
    """Return the user+system CPU seconds the server's processes have used so far.

    Every process of the tree counts (the front, the gunicorn master, its workers);
    one that exited, recycled by `max_requests` say, counts in its parent's `children_*`.
    """
    import psutil

    total, root = 0.0, psutil.Process(server.process.pid)
    for process in [root, *root.children(recursive=True)]:
        # One that exits meanwhile is counted in its parent's times, read after.
        with contextlib.suppress(psutil.NoSuchProcess):
            total += sum(process.cpu_times()[:4])
    return total


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


def profile(load, server, path, cookie, seconds):
    """Record one worker with py-spy while wrk drives `path`; return (file, summary) or None.

    Only the thread holding the GIL is sampled (`--gil`): the samples show where the
    worker spends CPU in Python, not where its threads wait for the database.
    """
    RESULTS.mkdir(exist_ok=True)
    output = RESULTS / f"profile-notes-list-{datetime.now(UTC):%Y%m%dT%H%M%SZ}.txt"
    command = [program("py-spy"), "record", "--pid", str(server.worker_processes()[0].pid), "--gil"]
    command += ["--duration", str(seconds), "--rate", "200", "--format", "raw"]
    command += ["--output", str(output)]
    spy = subprocess.Popen(command, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
    load.run(server.port, path, seconds, cookie, ("get",))
    _, errors = spy.communicate(timeout=60)
    if spy.returncode != 0 or not output.exists():
        say(f"py-spy could not record (it needs ptrace rights): {errors.strip()[-300:]}")
        return None
    return output, summarize_profile(output)


def summarize_profile(path):
    """Return (all samples, samples inside Flask's request handling, {part: samples})."""
    total, inside = 0, 0
    parts = {name: 0 for name, _ in PROFILE_PARTS}
    for line in path.read_text().splitlines():
        stack, _, count = line.rpartition(" ")
        total += int(count)
        if "Flask.wsgi_app (" not in stack:
            continue  # gunicorn itself: accepting, parsing requests, writing responses
        inside += int(count)
        for name, frames in PROFILE_PARTS:
            if any(frame in stack for frame in frames):
                parts[name] += int(count)
    return total, inside, parts


def profile_lines(profiled):
    """Describe a profile: where the worker's CPU went."""
    path, (total, inside, parts) = profiled
    if not total:
        return [f"Profile {path.name}: no samples."]
    shares = ", ".join(f"{name} {count / total:.0%}" for name, count in parts.items())
    rest = (inside - sum(parts.values())) / total
    return [
        f"Profile of one worker's CPU serving the notes list (py-spy --gil, {total:,} samples, "
        f"{path.relative_to(ROOT)}): gunicorn outside the app {1 - inside / total:.0%}; "
        f"{shares}; the rest of Flask, Werkzeug and Flask-Login (request and app contexts, "
        f"the session cookie, connection checkout, rollback) {rest:.0%}."
    ]


def row(name, figures):
    errors = str(figures["errors"])
    kinds = ("unexpected", "connect", "read", "write", "timeout")
    if figures["errors"]:
        errors += f" ({', '.join(f'{kind} {figures[kind]}' for kind in kinds if figures[kind])})"
    return (
        f"| {name} | {figures['rps']:,.0f} | {figures['p50_us'] / 1000:.1f} | "
        f"{figures['p99_us'] / 1000:.1f} | {errors} | {figures['peak_connections']} | "
        f"{figures['cpu_ms']:.2f} |"
    )


def verdict(met):
    return "met" if met else "**MISSED**"


def report(context, results, boots, samples, profiled=None):
    """Return the Markdown report: the table, the ratios and the targets."""
    lines = [
        f"Machine: {context['machine']}; load average at start {context['load']}",
        f"Commit {context['commit']}, {context['date']}; PostgreSQL {context['postgres']}, "
        f"{context['wrk']}",
        f"Command: `{context['command']}`; wrk -t{WRK_THREADS} -c{context['connections']}, "
        f"{context['seconds']} s per scenario after a {WARM_UP_SECONDS} s warm-up; gunicorn "
        f"{context['workers']} workers x {context['threads']} threads (gthread) for both apps,"
        " Memo behind its front (front/)",
        "",
        "| scenario | requests/s | p50 ms | p99 ms | errors | peak DB connections "
        "| gunicorn CPU ms/request |",
        "|---|---:|---:|---:|---:|---:|---:|",
    ]
    lines += [row(name, figures) for name, figures in results.items()]
    notes_list, baseline = results["notes list `/` (20 of 100 notes)"], results["baseline"]
    ratio = notes_list["rps"] / baseline["rps"]
    note_ratio = results["note page"]["rps"] / baseline["rps"]
    lines += [
        "",
        f"Notes list / baseline: **{ratio:.2f}x** the requests/s (target 0.5x); note page / "
        f"baseline: **{note_ratio:.2f}x** (target 0.7x). In gunicorn CPU per request: "
        f"{baseline['cpu_ms'] / notes_list['cpu_ms']:.2f}x and "
        f"{baseline['cpu_ms'] / results['note page']['cpu_ms']:.2f}x.",
    ]
    checks = [
        ("notes list >= 0.5x baseline requests/s", ratio >= 0.5),
        ("note page >= 0.7x baseline requests/s", note_ratio >= 0.7),
        ("notes list p99 < 100 ms", notes_list["p99_us"] < 100_000),
        ("notes list without errors", notes_list["errors"] == 0),
    ]
    for page, small, big in context["paging"]:
        cost = results[small]["rps"] / results[big]["rps"]
        lines.append(f"{page} with 100,000 notes costs {cost:.2f}x the same page with 100.")
        checks.append((f"{page}: 100,000 notes within 1.5x of 100", cost <= 1.5))
    lines.append(
        f"Worker boot, median of {BOOTS}: {boots['worker_s']:.2f} s after the master's fork "
        f"(import and app factory {boots['import_s']:.2f} s, first request "
        f"{boots['first_request_s']:.2f} s); a whole new process, interpreter and the "
        f"master's imports included: {boots['process_s']:.2f} s."
    )
    checks.append(("worker boot < 1.5 s", boots["worker_s"] < 1.5))
    start, middle, end = samples[0], samples[len(samples) // 2], samples[-1]
    per_worker = end[0] // len(end[1])
    growth = max(b - a for a, b in zip(middle[1], end[1], strict=True))
    lines.append(
        f"Worker RSS (MB, each worker), soak with recycling off: {fmt(start[1])} after warm-up, "
        f"{fmt(middle[1])} at {middle[0]:,} requests, {fmt(end[1])} at {end[0]:,} "
        f"(~{per_worker:,} per worker); growth over the second half at most {growth:+.1f} MB."
    )
    if profiled:
        lines += profile_lines(profiled)
    checks.append(("worker RSS < 150 MB after the soak", max(end[1]) < 150))
    checks.append(("worker RSS not growing (< 5 MB over the second half)", growth < 5))
    lines += ["", "| target | result |", "|---|---|"]
    lines += [f"| {name} | {verdict(met)} |" for name, met in checks]
    return "\n".join(lines)


def fmt(values):
    return "/".join(f"{value:.0f}" for value in values)


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


def production_environ(database, store):
    """Return the environment both apps run under: ProductionConfig, this run's services.

    WEB_CONCURRENCY and WEB_THREADS keep the caller's values, else the documented defaults.
    """
    from config import ProductionConfig

    environ = production_environment(database.memo_url, store.environment())
    settings = ProductionConfig(environ)
    # The baseline reads WEB_THREADS itself; both apps must get the same number.
    environ["WEB_CONCURRENCY"] = str(settings.WEB_CONCURRENCY)
    environ["WEB_THREADS"] = str(settings.WEB_THREADS)
    # The mixed scenario writes hundreds of notes a second as one user: not what is measured.
    environ["NOTE_WRITES_PER_MINUTE"] = str(10**9)
    return environ


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


def main():
    """Run the whole benchmark and print the report."""
    args = parse_args()
    wrk = ensure_wrk()

    folder = Path(tempfile.mkdtemp(prefix="memo-bench-web-"))
    context = {
        "machine": machine(),
        "load": " ".join(f"{value:.2f}" for value in os.getloadavg()),
        "commit": commit(),
        "date": datetime.now(UTC).strftime("%Y-%m-%d %H:%M UTC"),
        "wrk": subprocess.run([wrk, "-v"], capture_output=True, text=True).stdout.split(" [")[0],
        "command": " ".join(["./scripts/bench", *sys.argv[1:]]),
        "connections": args.connections,
        "seconds": args.seconds,
    }
    say(f"Starting PostgreSQL and the object store (logs in {folder})")
    database = Database(folder)
    store = services.ObjectStore("memo-bench").start()
    servers, profiled = [], None
    try:
        context["postgres"] = database.version()
        environ = production_environ(database, store)
        context["workers"], context["threads"] = environ["WEB_CONCURRENCY"], environ["WEB_THREADS"]
        say("Applying migrations; seeding users with 100, 100 and 100,000 notes")
        subprocess.run(
            [program("flask"), "--app", "wsgi", "db", "upgrade"],
            cwd=ROOT,
            env={**environ, "LOG_LEVEL": "WARNING"},
            check=True,
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
    text = report(context, results, boots, samples, profiled)
    print()
    print(text)
    RESULTS.mkdir(exist_ok=True)
    saved = RESULTS / f"web-{datetime.now(UTC):%Y%m%dT%H%M%SZ}.md"
    saved.write_text(text + "\n")
    say(f"Saved to {saved.relative_to(ROOT)}; server logs in {folder}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
