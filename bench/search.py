"""Benchmarks of search (not tests): `.venv/bin/python bench/search.py`.

1. Migration 0011 on 1,000,000 notes while a load generator reads and writes notes as
   the previous release does (bench/release_phase.py's harness): total time of the
   revision, and the longest any load query took, lock waits included. Target: no
   request blocked for more than 250 ms.
   The later revisions follow (0017 bounds long notes' vectors: none here is long),
   timed under the same load.
2. Then, as the new release: searches by a user who owns 100,000 of those notes (one
   in ten, spread through the table), first page, each query run N times: a common
   word (in about 10% of notes), a rare one (about 0.01%), a Korean word that matches
   with its particle, and a phrase. Timed in-process through
   app.features.search.query.search_notes (normalizing the words, ranking, highlighting), not
   the HTTP round trip or the template. Target: p99 under 50 ms.

Each note is 40 words drawn from a vocabulary of 5,000, skewed so that some words are
common, plus the planted words. Starts its own embedded PostgreSQL in a temporary
folder, or in `--keep FOLDER`, which a later run with the same folder reuses: it then
times the searches only (the revisions' rows say "reused"). Prints a Markdown table;
exits 1 when a target is missed.
"""

import argparse
import os
import statistics
import sys
import time
from pathlib import Path

from bench.release_phase import (
    bench_revision_under_load,
    flask_db,
    machine,
    print_revision_rows,
    seed_notes,
)
from devenv.liveserver import LOCAL_MAIL_SETTINGS
from devenv.services import (
    ensure_database,
    query,
    start_postgres,
    throwaway_postgres,
)

REVISION = "0011"
SEARCHER = 1
# One note in ten is the searcher's; the others are spread over 999 more users.
OWNERS = f"CASE WHEN n % 10 = 0 THEN {SEARCHER} ELSE 2 + n % 999 END"
# The random words' subquery names n, so that PostgreSQL runs it for every note.
CONTENT = (
    "(SELECT string_agg('w' || (1 + floor(5000 * random() ^ 2))::int, ' ')"
    " FROM generate_series(1, 40 + 0 * n))"
    " || CASE WHEN n::bigint * 7919 % 97 < 10 THEN ' the meeting' ELSE '' END"
    " || CASE WHEN n * 31 % 89 < 9 THEN ' 오늘 회의 메모를 정리' ELSE '' END"
    " || CASE WHEN n % 10007 = 0 THEN ' zanzibar' ELSE '' END"
)
QUERIES = {
    "common word `meeting`": "meeting",
    "rare word `zanzibar`": "zanzibar",
    "Korean word by its prefix, `메모` for 메모를": "메모",
    'phrase `"회의 메모"`': '"회의 메모"',
}
TARGET_BLOCKED_MS = 250
TARGET_SEARCH_P99_MS = 50


def production_app(url):
    """Return Memo's app under ProductionConfig on the benchmark's database."""
    os.environ.update(APP_SETTINGS="config.ProductionConfig", DATABASE_URL=url)
    os.environ["SECRET_KEY"] = "bench-secret-not-the-development-default"
    os.environ["S3_BUCKET"] = "bench-unused"  # required in production; search never touches it
    os.environ.update(LOCAL_MAIL_SETTINGS)  # required too; search sends no mail
    from app import create_app

    return create_app()


def time_searches(url, runs):
    """Return {label: (p50 ms, p99 ms, matches)} for each query, first page, `runs` times."""
    from app.extensions import db
    from app.features.search.query import search_notes

    app = production_app(url)
    figures = {}
    with app.app_context():
        for label, query in QUERIES.items():
            timings = []
            for run in range(runs + 5):
                started = time.perf_counter()
                results = search_notes(SEARCHER, query, 1, 20)
                db.session.rollback()  # the end of a request
                if run >= 5:  # the first few warm the caches
                    timings.append((time.perf_counter() - started) * 1000)
            p99 = statistics.quantiles(timings, n=100)[98]
            figures[label] = (statistics.median(timings), p99, results.total)
        db.engine.dispose()
    return figures


def unfilled(url):
    """Return how many notes have no search vector."""
    [(count,)] = query(url, "SELECT count(*) FROM note WHERE search_vector IS NULL")
    return count


def report(options, revisions, searches, load_average):
    """Print the figures as a Markdown table; return whether every target was met.

    `revisions`: (0011's figures, the later revisions'), or None when the database was reused.
    """
    print(f"\n{machine()}, {load_average:.1f} at the start\n")
    print("| benchmark | figure |\n|---|---|")
    blocked_ms, unfilled_notes = 0, 0
    if revisions is None:
        print(f"| revisions | reused: the database of a previous run in {options.keep} |")
    else:
        revision, later = revisions
        print_revision_rows(f"revision {REVISION}", revision, options)
        print_revision_rows("the later revisions, to head,", later, options)
        print(f"| notes left without a search vector | {revision['unfilled']} |")
        blocked_ms = max(revision["max_ms"], later["max_ms"])
        unfilled_notes = revision["unfilled"]
    for label, (p50, p99, total) in searches.items():
        print(
            f"| search, {label} ({total:,} of the user's notes match): p50 / p99 of "
            f"{options.runs} | {p50:.1f} / {p99:.1f} ms |"
        )
    slowest = max(p99 for _, p99, _ in searches.values())
    return blocked_ms < TARGET_BLOCKED_MS and unfilled_notes == 0 and slowest < TARGET_SEARCH_P99_MS


def prepare(url, options):
    """Seed the notes and run the revisions under load; return their figures."""
    print(f"seeding {options.rows:,} notes ...", flush=True)
    seed_notes(url, options.rows, REVISION, owner=OWNERS, content=CONTENT)
    print(f"revision {REVISION} under load ...", flush=True)
    revision = bench_revision_under_load(url, REVISION, options.threads)
    revision["unfilled"] = unfilled(url)
    print("the later revisions under load ...", flush=True)
    return revision, bench_revision_under_load(url, "heads", options.threads)


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=1_000_000)
    parser.add_argument("--threads", type=int, default=4)
    parser.add_argument("--runs", type=int, default=200)
    parser.add_argument("--keep", type=Path, help="a folder for the database, reused if there")
    options = parser.parse_args()
    load_average = os.getloadavg()[0]
    if options.keep:
        reused = (options.keep / "postgres").exists()
        server = start_postgres(options.keep / "postgres")
    else:
        reused = False
        server, _ = throwaway_postgres("memo-bench-search-")
    try:
        ensure_database(server.get_uri(), "search")
        url = server.get_uri("search")
        if reused:
            flask_db(url, "upgrade", "heads")  # revisions added since, if any
        revisions = None if reused else prepare(url, options)
        print(f"searches, {options.runs} runs each ...", flush=True)
        searches = time_searches(url, options.runs)
    finally:
        server.cleanup()
    return 0 if report(options, revisions, searches, load_average) else 1


if __name__ == "__main__":
    sys.exit(main())
