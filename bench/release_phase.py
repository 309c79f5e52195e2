"""Benchmarks of the release phase (not tests): `.venv/bin/python bench/release_phase.py`.

1. A no-op `flask db upgrade` (the database already at head), median of N runs.
2. The note.completed revision on a table of 1,000,000 notes while a load
   generator reads and writes notes as the previous release does: total time of
   the revision, and the longest any load query took (lock waits included).
   Target: no request blocked for more than 250 ms.

Starts its own embedded PostgreSQL in a temporary folder. Prints a Markdown table.
"""

import argparse
import os
import platform
import statistics
import subprocess
import sys
import threading
import time

import psycopg2

from devenv import ROOT, flaskdb
from devenv.liveserver import LOCAL_MAIL_SETTINGS
from devenv.revisions import parent_revision
from devenv.services import connect, ensure_database, query, throwaway_postgres

COMPLETED_REVISION = "0003"


def flask_db(url, *args):
    """Run `flask db ...` against `url` as production does; return seconds taken."""
    settings = {"APP_SETTINGS": "config.ProductionConfig", "DATABASE_URL": url}
    settings["SECRET_KEY"] = "bench-secret-not-the-development-default"
    settings["S3_BUCKET"] = "bench-unused"  # required in production; migrations never touch it
    settings.update(LOCAL_MAIL_SETTINGS)  # required too; migrations send no mail
    started = time.perf_counter()
    flaskdb.flask_db(url, *args, check=True, timeout=None, **settings)
    return time.perf_counter() - started


def bench_noop(url, runs):
    """Return the median seconds of a no-op `flask db upgrade` (the database at head)."""
    flask_db(url, "upgrade")
    return statistics.median(flask_db(url, "upgrade") for _ in range(runs))


# Who owns note n, and what it says: 1,000 users with 1,000 notes each, 20 words a note.
EVEN_OWNERS = "1 + n % 1000"
SHORT_CONTENT = "repeat('word ', 20)"


def seed_notes(url, rows, revision, owner=EVEN_OWNERS, content=SHORT_CONTENT):
    """Bring a fresh database to just before `revision`, with `rows` notes.

    `owner` and `content` are SQL expressions of the note's number `n` (1 to `rows`);
    the users they name exist, 1,000 of them.
    """
    flask_db(url, "upgrade", parent_revision(revision))
    connection = connect(url)
    with connection.cursor() as cursor:
        cursor.execute(
            'INSERT INTO "user" (email, nickname, password_hash, created_at)'
            " SELECT 'user' || n || '@example.com', 'user' || n, 'x', now()"
            " FROM generate_series(1, 1000) AS n"
        )
        cursor.execute(
            "INSERT INTO note (title, content, created_at, updated_at, user_id)"
            f" SELECT 'note ' || n, {content.replace('%', '%%')}, now() - n * interval '1 second',"
            f" now(), {owner.replace('%', '%%')} FROM generate_series(1, %s) AS n",
            (rows,),
        )
        cursor.execute("VACUUM ANALYZE note")
    connection.close()


class QueryLoad:
    """Threads that read a user's notes, add notes and edit notes, timing every query."""

    def __init__(self, url, threads):
        self.url, self.threads = url, threads
        self.stop = threading.Event()
        self.latencies = []
        self.queries = []  # (statement's first word, when it ended) of each latency
        self.errors = 0
        self.lock = threading.Lock()

    def worker(self, number):
        connection = connect(self.url)
        cursor = connection.cursor()
        statements = [
            (
                "SELECT id, title FROM note WHERE user_id = %s"
                " ORDER BY created_at DESC, id DESC LIMIT 20",
                lambda n: (1 + n % 1000,),
            ),
            (
                "INSERT INTO note (title, content, created_at, updated_at, user_id)"
                " VALUES ('load', '', now(), now(), %s)",
                lambda n: (1 + n % 1000,),
            ),
            ("UPDATE note SET title = 'edited', updated_at = now() WHERE id = %s", lambda n: (n,)),
        ]
        n = number * 7919
        while not self.stop.is_set():
            n += 1
            sql, params = statements[n % len(statements)]
            started = time.perf_counter()
            try:
                cursor.execute(sql, params(n * 131 % 1_000_000 + 1))
                if cursor.description:
                    cursor.fetchall()
            except psycopg2.Error:
                with self.lock:
                    self.errors += 1
            ended = time.perf_counter()
            with self.lock:
                self.latencies.append(ended - started)
                self.queries.append((sql.split()[0], ended))
        connection.close()

    def __enter__(self):
        self.pool = [threading.Thread(target=self.worker, args=(i,)) for i in range(self.threads)]
        for thread in self.pool:
            thread.start()
        return self

    def __exit__(self, *exc):
        self.stop.set()
        for thread in self.pool:
            thread.join()


def bench_revision_under_load(url, revision, threads):
    """Run `revision` on a seeded database under load; return its time and the load's latencies."""
    with QueryLoad(url, threads) as load:
        time.sleep(1.0)  # let the load settle
        baseline = len(load.latencies)
        began = time.perf_counter()
        took = flask_db(url, "upgrade", revision)
        during = load.latencies[baseline:]
        slowest = max(range(len(during)), key=during.__getitem__)
        kind, ended = load.queries[baseline + slowest]
    return {
        "seconds": took,
        "queries": len(during),
        "max_ms": during[slowest] * 1000,
        "max_query": f"{kind}, ended {ended - began:.1f} s in",
        "p99_ms": statistics.quantiles(during, n=100)[98] * 1000,
        "errors": load.errors,
    }


def bench_completed_under_load(url, rows, threads):
    seed_notes(url, rows, COMPLETED_REVISION)
    result = bench_revision_under_load(url, COMPLETED_REVISION, threads)
    [(nulls,)] = query(url, "SELECT count(*) FROM note WHERE completed IS NULL")
    return {**result, "nulls": nulls}


def machine():
    """Return a line naming the machine, the versions and the commit measured."""
    commit = subprocess.run(
        ["git", "rev-parse", "--short", "HEAD"], capture_output=True, text=True, cwd=ROOT
    ).stdout.strip()
    return (
        f"Machine: {platform.machine()}, {os.cpu_count()} cores, Python "
        f"{platform.python_version()}, PostgreSQL 16 (pgserver), commit {commit}, "
        f"load average {os.getloadavg()[0]:.1f} at the end"
    )


def print_revision_rows(name, result, options):
    """Print the table rows of a revision run under load."""
    print(f"| {name} on {options.rows:,} notes | {result['seconds']:.1f} s |")
    print(
        f"| load queries during it ({options.threads} threads) | {result['queries']:,}, "
        f"{result['errors']} errors |"
    )
    print(
        f"| longest load query during it (lock waits included) | {result['max_ms']:.0f} ms "
        f"({result['max_query']}) |"
    )
    print(f"| p99 load query during it | {result['p99_ms']:.1f} ms |")


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=10)
    parser.add_argument("--rows", type=int, default=1_000_000)
    parser.add_argument("--threads", type=int, default=4)
    options = parser.parse_args()
    server, folder = throwaway_postgres("memo-bench-")
    try:
        ensure_database(server.get_uri(), "noop")
        ensure_database(server.get_uri(), "load")
        print(f"no-op upgrade, median of {options.runs} runs ...", flush=True)
        noop = bench_noop(server.get_uri("noop"), options.runs)
        print(f"completed revision on {options.rows:,} notes under load ...", flush=True)
        result = bench_completed_under_load(server.get_uri("load"), options.rows, options.threads)
    finally:
        server.cleanup()
    print(f"\n{machine()}\n")
    print("| benchmark | figure |\n|---|---|")
    print(f"| no-op `flask db upgrade` (median) | {noop * 1000:.0f} ms |")
    print_revision_rows("`completed` revision", result, options)
    print(f"| notes left with completed NULL | {result['nulls']} |")
    return 0 if result["max_ms"] < 250 and result["nulls"] == 0 else 1


if __name__ == "__main__":
    sys.exit(main())
