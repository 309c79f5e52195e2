#!/usr/bin/env python3
"""Benchmark: CPU milliseconds per request of Memo's hot pages, beside the bare baseline.

    .venv/bin/python bench/cpu.py [--requests 300] [--batches 7] [--log-level INFO]
    .venv/bin/python bench/cpu.py --profile "note page"   # where that page's CPU goes

Throughput on a shared machine depends on who else runs; the CPU a request costs
does not, much. This serves each page in-process with Flask's test client (no
gunicorn, no sockets), under ProductionConfig behind a pretend HTTPS router, signed
in through the real login form, against an embedded PostgreSQL seeded like
bench/web.py's reader (100 notes). Each page is served `--batches` times
`--requests` times; a batch's CPU is this process's user+system time
(time.process_time: PostgreSQL's own CPU is not counted, nor any waiting), and the
report keeps the cheapest batch, the one least disturbed by other processes.
The PostgreSQL server's CPU in the same batch (its processes' user+system time, read
with psutil) is reported beside it: on a machine that also runs the database, every
statement and round trip costs there too. `--log-level WARNING` measures the pages
without the per-request log line. `--profile PAGE` then serves that page (a name of the
table, or its start) `--requests` times more under cProfile (CPU time) and prints where it went.
"""

import argparse
import cProfile
import io
import os
import pstats
import sys
import tempfile
import time
from contextlib import suppress
from pathlib import Path

import psutil

from bench.baseline import fortunes
from bench.seeding import NOTE_LINK, Database, seed_fortunes, seed_user
from devenv import ROOT, services
from devenv.liveserver import LOCAL_MAIL_SETTINGS
from devenv.visitors import PASSWORD, RouterBrowser

ROUTER = {"X-Forwarded-Proto": "https", "X-Forwarded-For": "203.0.113.9"}


def seed(database):
    """Fill the baseline's table and give the reader 100 notes; return the reader's email."""
    from app.models import hasher_for
    from config import Config

    seed_fortunes(database)
    connection = services.connect(database.memo_url)
    with connection.cursor() as cursor:
        seed_user(
            cursor,
            "reader@bench.example",
            100,
            hasher_for(**Config.PASSWORD_HASHING).hash(PASSWORD),
        )
        cursor.execute("ANALYZE")
    connection.close()
    return "reader@bench.example"


def memo_app(database, log_level):
    """Return Memo under ProductionConfig (wsgi.py's app), migrated, logging to /dev/null."""
    from flask_migrate import upgrade

    from app import migrating

    os.environ.update(
        APP_SETTINGS="config.ProductionConfig",
        SECRET_KEY="benchmark-secret-key-0123456789-abcdefghijklmnop",  # noqa: S106
        DATABASE_URL=database.memo_url,
        # The note page signs an upload form: keys and an endpoint are all signing needs
        # (nothing here talks to the store). Without keys it would show "store down".
        S3_BUCKET="memo-bench",
        S3_ENDPOINT_URL="http://127.0.0.1:9",
        **services.LOCAL_CREDENTIALS,
        LOG_LEVEL=log_level,
        **LOCAL_MAIL_SETTINGS,
    )
    # The request log goes to stdout, as under gunicorn; formatting it still costs CPU.
    sys.stdout = open(os.devnull, "w")  # noqa: SIM115  (for the life of the process)
    from wsgi import app  # made as gunicorn's workers make it, with what wsgi.py does after

    migrating.init_app(app)  # only to migrate: gunicorn's workers set up no Flask-Migrate
    with app.app_context():
        upgrade(directory=str(ROOT / "migrations"))
    sys.stdout = sys.__stdout__
    return app


def sign_in(app, email):
    """Sign in with the login form, as through the router; return the session cookie and a note.

    The measured requests then send that cookie themselves (a client without a cookie jar).
    """
    client = app.test_client()
    browser = RouterBrowser(client, address=ROUTER["X-Forwarded-For"])
    response = browser.login(email)
    assert response.status_code == 302, response.status_code
    page = browser.get("/").get_data(as_text=True)
    note_path = NOTE_LINK.search(page).group(1)
    note_page = browser.get(note_path).get_data(as_text=True)
    assert 'class="upload"' in note_page, "the note page shows no upload form to measure"
    # The first page adds the CSRF secret to the session: the cookie is taken after it, as a
    # browser keeps the one it was last sent (with the login's cookie, every page re-signed it).
    cookie = f"session={client.get_cookie('session').value}"
    return cookie, note_path


def postgres_cpu_seconds(folder):
    """Return the user+system CPU seconds of the PostgreSQL server whose data is in `folder`."""
    total = 0.0
    for process in psutil.process_iter(["cmdline"]):
        if str(folder) in " ".join(process.info["cmdline"] or []):
            with suppress(psutil.NoSuchProcess):
                for member in [process, *process.children(recursive=True)]:
                    times = member.cpu_times()
                    total += times.user + times.system
    return total


def serve(client, path, headers, requests):
    """Serve `path` `requests` times; return the CPU seconds it took (this process's)."""
    started = time.process_time()
    for _ in range(requests):
        response = client.get(path, headers=headers)
        assert response.status_code == 200, (path, response.status_code)
    return time.process_time() - started


def measure(pages, requests, batches, folder):
    """Serve every page `requests` times a batch; return {page: (app, PostgreSQL) CPU ms}.

    The pages take turns batch by batch, so a busy moment of the machine costs them
    alike. The app's figure is a page's cheapest batch. PostgreSQL's is the mean over
    the page's batches: the kernel counts a process's CPU in 10 ms ticks, too coarse
    for one batch.
    """
    app_best = dict.fromkeys(pages, float("inf"))
    database_total = dict.fromkeys(pages, 0.0)
    for _ in range(batches):
        for name, (client, path, headers) in pages.items():
            database_started = postgres_cpu_seconds(folder)
            app_best[name] = min(app_best[name], serve(client, path, headers, requests))
            database_total[name] += postgres_cpu_seconds(folder) - database_started
    return {
        name: (app_best[name] / requests * 1000, database_total[name] / batches / requests * 1000)
        for name in pages
    }


def baseline_client(database):
    """Return a test client of the baseline app, connected to its database."""
    os.environ["DATABASE_URL"] = database.baseline_url  # read at its first query
    return fortunes.app.test_client()


def parse_args():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--requests", type=int, default=300, help="requests per batch")
    parser.add_argument("--batches", type=int, default=7, help="batches per page; best kept")
    parser.add_argument("--log-level", default="INFO", help="Memo's LOG_LEVEL")
    parser.add_argument("--profile", metavar="PAGE", help="also profile the page named so")
    parser.add_argument("--sort", default="cumulative", help="the profile's order (pstats)")
    return parser.parse_args()


def main():
    """Measure each page and print one Markdown table."""
    args = parse_args()
    folder = Path(tempfile.mkdtemp(prefix="memo-bench-cpu-"))
    database = Database(folder)
    try:
        app = memo_app(database, args.log_level)
        email = seed(database)
        memo = app.test_client(use_cookies=False)
        cookie, note_path = sign_in(app, email)
        signed_in = {**ROUTER, "Cookie": cookie}
        pages = {
            "baseline (fortunes)": (baseline_client(database), "/fortunes", {}),
            "`/healthz`": (memo, "/healthz", ROUTER),
            "notes list `/` (20 of 100 notes)": (memo, "/", signed_in),
            "note page": (memo, note_path, signed_in),
        }
        figures = measure(pages, args.requests, args.batches, folder)
        if args.profile:
            [name] = [name for name in pages if name.strip("`").startswith(args.profile)]
            profile_text = profile(pages[name], args.requests, args.sort)
    finally:
        database.stop()
    print(report(figures, args))
    if args.profile:
        print(f"\nProfile of {name}, {args.requests} requests:\n{profile_text}")
    return 0


def profile(page, requests, order):
    """Serve `page` `requests` times under cProfile; return its busiest functions as text."""
    client, path, headers = page
    profiler = cProfile.Profile(time.process_time)  # CPU, as the table: not waits
    profiler.runcall(serve, client, path, headers, requests)
    out = io.StringIO()
    pstats.Stats(profiler, stream=out).sort_stats(order).print_stats(60)
    return out.getvalue()


def report(figures, args):
    """Return the Markdown table: CPU ms a request, the app's and PostgreSQL's, and ratios."""
    baseline_app, baseline_database = figures["baseline (fortunes)"]
    lines = [
        f"CPU per request, best of {args.batches} x {args.requests}, LOG_LEVEL={args.log_level}",
        "",
        "| page | app CPU ms | PostgreSQL CPU ms | baseline's app / page's | "
        "baseline's app+PostgreSQL / page's |",
        "|---|---:|---:|---:|---:|",
    ]
    for name, (app_ms, database_ms) in figures.items():
        both = (baseline_app + baseline_database) / (app_ms + database_ms)
        lines.append(
            f"| {name} | {app_ms:.3f} | {database_ms:.3f} | {baseline_app / app_ms:.2f} | "
            f"{both:.2f} |"
        )
    return "\n".join(lines)


if __name__ == "__main__":
    sys.exit(main())
