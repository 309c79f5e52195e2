#!/usr/bin/env python3
"""Benchmark: what grows with an account's data, on the list, search and export.

    .venv/bin/python bench/growth.py [--sizes 1000 10000 100000] [--requests 30]

Seeds one user per size (bench/web.py's notes: a title and 384 characters of text, a
minute apart, every note containing the word "benchmark" and three of them "zanzibar"),
then, in-process with Flask's test client (bench/seeding.py, `memo_app`: ProductionConfig behind a
pretend HTTPS router, signed in through the login form), times for each user:

- the notes list's first page and its last (`/?after=0-0`);
- a search for a word in every note ("benchmark": as many matches as notes) and for a
  rare one ("zanzibar", 3 matches), through the search page with its budget;
- the export's archive (`write_archive`, the job's work without the upload), written to
  a temporary file: its seconds, its size, and the growth of this process's peak RSS.

Pages report the median and the slowest of `--requests` wall-clock times (the database's
time included: that is what grows with data) and the app's median CPU. NOTES_PER_USER
caps an account at 10,000 notes; the 100,000-note user is seeded past it, to show the
trend. Prints one Markdown table.
"""

import argparse
import resource
import statistics
import sys
import tempfile
import time
from pathlib import Path

from bench.seeding import ROUTER, Database, memo_app, seed_user, sign_in_through_the_router
from devenv import services
from devenv.visitors import PASSWORD

COMMON_WORD = "benchmark"
RARE_WORD = "zanzibar"


def seed(database, sizes):
    """Seed one user per size; return {size: (email, id)}."""
    from app.models import hasher_for
    from config import Config

    password_hash = hasher_for(**Config.PASSWORD_HASHING).hash(PASSWORD)
    connection = services.connect(database.memo_url)
    users = {}
    with connection.cursor() as cursor:
        for size in sizes:
            email = f"notes{size}@bench.example"
            user_id = seed_user(cursor, email, size, password_hash)
            cursor.execute(
                "UPDATE note SET content = content || %s WHERE id IN "
                "(SELECT id FROM note WHERE user_id = %s ORDER BY id LIMIT 3)",
                (f" {RARE_WORD}", user_id),
            )
            users[size] = (email, user_id)
        cursor.execute("VACUUM ANALYZE")
    connection.close()
    return users


def time_page(client, path, headers, requests):
    """Serve `path` `requests` times (after one warm-up); return wall and CPU ms figures."""
    assert client.get(path, headers=headers).status_code == 200, path
    walls, cpus = [], []
    for _ in range(requests):
        wall, cpu = time.perf_counter(), time.process_time()
        response = client.get(path, headers=headers)
        cpus.append((time.process_time() - cpu) * 1000)
        walls.append((time.perf_counter() - wall) * 1000)
        assert response.status_code == 200, (path, response.status_code)
    return {"median": statistics.median(walls), "max": max(walls), "cpu": statistics.median(cpus)}


def time_export(app, user_id):
    """Write the user's archive to a temporary file; return seconds, MB and peak RSS growth."""
    from app.extensions import db
    from app.models import User
    from app.mypage.export import write_archive

    with app.app_context(), tempfile.TemporaryFile() as file:
        user = db.session.get(User, user_id)
        peak_before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
        started = time.perf_counter()
        write_archive(user, file)
        seconds = time.perf_counter() - started
        growth = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss - peak_before
        size = file.tell()
        db.session.remove()
    return {"seconds": seconds, "mb": size / 2**20, "peak_growth_mb": growth / 1024}


def measure(app, users, requests):
    """Return {size: {figure: value}} for every seeded user."""
    figures = {}
    for size, (email, user_id) in users.items():
        client = app.test_client(use_cookies=False)
        cookie, _ = sign_in_through_the_router(app, email)
        headers = {**ROUTER, "Cookie": cookie}
        figures[size] = {
            "list, first page": time_page(client, "/", headers, requests),
            "list, last page": time_page(client, "/?after=0-0", headers, requests),
            f"search `{COMMON_WORD}` (every note)": time_page(
                client, f"/search?q={COMMON_WORD}", headers, requests
            ),
            f"search `{RARE_WORD}` (3 notes)": time_page(
                client, f"/search?q={RARE_WORD}", headers, requests
            ),
            "export": time_export(app, user_id),
        }
    return figures


def report(figures, args):
    """Return the Markdown table, one column per size."""
    sizes = list(figures)
    header = "| figure | " + " | ".join(f"{size:,} notes" for size in sizes) + " |"
    lines = [
        f"Wall ms median / slowest of {args.requests} (app CPU ms median), in-process",
        "",
        header,
        "|---|" + "---:|" * len(sizes),
    ]
    for name in figures[sizes[0]]:
        if name == "export":
            continue
        cells = [
            f"{f['median']:.1f} / {f['max']:.1f} ({f['cpu']:.1f})"
            for f in (figures[size][name] for size in sizes)
        ]
        lines.append(f"| {name} | " + " | ".join(cells) + " |")
    exports = [figures[size]["export"] for size in sizes]
    lines.append(
        "| export archive: seconds / zip MB / peak RSS growth MB | "
        + " | ".join(
            f"{e['seconds']:.2f} / {e['mb']:.2f} / {e['peak_growth_mb']:.1f}" for e in exports
        )
        + " |"
    )
    return "\n".join(lines)


def parse_args():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", type=int, nargs="+", default=[1_000, 10_000, 100_000])
    parser.add_argument("--requests", type=int, default=30, help="timed requests per page")
    return parser.parse_args()


def main():
    args = parse_args()
    database = Database(Path(tempfile.mkdtemp(prefix="memo-bench-growth-")))
    try:
        app = memo_app(database, "WARNING")
        users = seed(database, sorted(args.sizes))
        figures = measure(app, users, args.requests)
    finally:
        database.stop()
    print(report(figures, args))
    return 0


if __name__ == "__main__":
    sys.exit(main())
