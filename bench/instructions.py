#!/usr/bin/env python3
"""Benchmark: instructions per request of Memo's pages under callgrind, beside a bare page.

    ./scripts/bench --instructions [--requests 60] [--sizes 1000 10000 100000]
    .venv/bin/python bench/instructions.py --keep    # keep the dumps for callgrind_annotate

Wall-clock time on a shared 2-core machine moves with whoever else runs; the instructions a
request executes hardly do (two runs here differed by 0.8 % at most). One embedded PostgreSQL
holds Memo's database, migrated; a reader with 100 notes whose newest are pinned, tagged and
carry checklists (the list shows 20), users with none (the list's frame alone) and with
1,000, 10,000 and 100,000 such notes, and
TechEmpower's twelve fortunes. bench/served.py makes the app as gunicorn's worker does
(wsgi.py, ProductionConfig behind a pretend HTTPS router), registers the bench's fortunes
blueprint on it (bench/baseline/blueprint.py: one query, one small template, through the
same factory and middleware), and serves each page in-process, signed in with the session
cookie of a real login. It runs twice: plainly, for the wall-clock milliseconds (best of
five batches, secondary), then under `valgrind --tool=callgrind`, where for each page,
after a warm-up, `callgrind_control` zeroes the counters and dumps them after N and after
2N more requests: (I(2N) - I(N)) / N, so start-up and the dumps themselves cancel out
(bench/callgrind.py). PostgreSQL's work is not counted (another process): the table is the
app's own. Then the front's own work a list request, counted by bench/front_cpu.py against
the same database (`--front-requests 0` skips it), joins the table.
"""

import argparse
import json
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

from bench.callgrind import Callgrind
from bench.front_cpu import front_of
from bench.seeding import ROUTER, Database, memo_app, seed_fortunes, sign_in_through_the_router
from devenv import ROOT, services
from devenv.visitors import PASSWORD, RouterBrowser

START_SECONDS = 900  # Python and the app's imports under callgrind
PINNED = (3, 8, 15)  # among the newest 20: the list shows them first
CONTENT = (
    "Some words of a benchmark note, with **bold** and a [link](https://example.com). "
    "#work #ideas\n\n- [x] write the outline\n- [ ] ask for review\n- [ ] send it\n\n"
    + "More words of the benchmark note. "
    * 6
)


def seed_account(cursor, email, notes, password_hash):
    """Insert a user with `notes` notes a minute apart, their tags, summaries and HTML as the
    app writes them, three of the newest 20 pinned; return the user's id."""
    from app.markdown import render_stored, summary
    from app.tags import note_tags

    cursor.execute(
        'INSERT INTO "user" (email, nickname, password_hash, created_at) '
        "VALUES (%s, %s, %s, now()) RETURNING id",
        (email, email.split("@")[0], password_hash),
    )
    user_id = cursor.fetchone()[0]
    made = summary(CONTENT)
    cursor.execute(
        "INSERT INTO note (title, content, created_at, updated_at, user_id, completed, pinned, "
        "  tags, preview, tasks_done, tasks_total, rendered, rendered_version) "
        "SELECT 'Note number ' || n, %s, now() - n * interval '1 minute', "
        "  now() - n * interval '1 minute', %s, n %% 5 = 0, n = ANY(%s), %s, %s, %s, %s, %s, 1 "
        "FROM generate_series(1, %s) AS n",
        (
            CONTENT,
            user_id,
            list(PINNED),
            note_tags("", CONTENT),
            made.preview,
            made.tasks_done,
            made.tasks_total,
            render_stored(CONTENT),
            notes,
        ),
    )
    return user_id


def seed(database, sizes):
    """Seed the fortunes and the accounts; return {account name: email}."""
    from app.models import hasher_for
    from config import Config

    seed_fortunes(database, database.memo_url)
    password_hash = hasher_for(**Config.PASSWORD_HASHING).hash(PASSWORD)
    accounts = {"reader": 100, "empty": 0, **{f"list-{size // 1000}k": size for size in sizes}}
    connection = services.connect(database.memo_url)
    with connection.cursor() as cursor:
        for name, notes in accounts.items():
            seed_account(cursor, f"{name}@bench.example", notes, password_hash)
    connection.autocommit = True
    with connection.cursor() as cursor:
        cursor.execute("VACUUM ANALYZE")
    connection.close()
    return {name: f"{name}@bench.example" for name in accounts}


def session_cookie(app, email):
    """Sign in with the login form, through the router; return the session cookie."""
    client = app.test_client()
    browser = RouterBrowser(client, address=ROUTER["X-Forwarded-For"])
    assert browser.login(email).status_code == 302, email
    assert browser.get("/").status_code == 200, email  # adds the CSRF secret to the session
    return {"Cookie": f"session={client.get_cookie('session').value}"}


def api_token(app, email):
    """Make a read token of `email`'s account, as /mypage/tokens does; return its header."""
    from sqlalchemy import select

    from app.extensions import db
    from app.features.tokens.service import make_token
    from app.models import User

    with app.app_context():
        user = db.session.scalar(select(User).where(User.email == email))
        _, secret = make_token(user, "bench", "read", 30)
        db.session.commit()
    return {"Authorization": f"Bearer {secret}"}


def pages_to_serve(app, accounts):
    """Sign every account in; return {page: [path, headers]} and check what the list shows."""
    from app.revalidation import SCRIPTS_COOKIE

    cookie, note_path = sign_in_through_the_router(app, accounts["reader"])
    # A browser that runs Memo's scripts gets the list and a note tagged (app/revalidation.py).
    scripts = {"Cookie": f"{cookie}; {SCRIPTS_COOKIE}=1"}
    cookie = {"Cookie": cookie}
    pages = {
        "fortunes": ["/bench/fortunes", None],
        "fortunes-signed-in": ["/bench/fortunes", cookie],
        "list": ["/", cookie],
        "list-made": ["/", cookie, "made"],
        "list-new": ["/", cookie, "new"],
        "list-tagged": ["/", scripts],
        "list-304": ["/", scripts, "revalidated"],
        "api-list": ["/api/v1/notes", api_token(app, accounts["reader"])],
        "note": [note_path, cookie],
        "note-made": [note_path, cookie, "made"],
        "note-new": [note_path, cookie, "new"],
        "note-tagged": [note_path, scripts],
        "note-304": [note_path, scripts, "revalidated"],
        "search": ["/search?q=benchmark", cookie],
    }
    # The frame alone and the list's growth: made anew, as a first view makes them.
    for name, email in accounts.items():
        if name != "reader":
            pages[name] = ["/", session_cookie(app, email), "new"]
    return pages


class Served:
    """bench/served.py in a child process, under `wrapper` (valgrind's command, or none)."""

    def __init__(self, pages, wrapper=(), timeout=60):
        command = [*wrapper, sys.executable, str(ROOT / "bench" / "served.py"), json.dumps(pages)]
        self.process = subprocess.Popen(
            command, cwd=ROOT, stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True
        )
        self.expect("ready", timeout)

    def expect(self, word, timeout):
        line = self.process.stdout.readline()  # the child answers or dies: no deadline needed
        if not line.startswith(word):
            raise RuntimeError(f"bench/served.py answered {line!r} (exit {self.process.poll()})")
        return line.split()[1:]

    def serve(self, name, count):
        """Have the child serve page `name` `count` times; return its wall-clock seconds."""
        self.process.stdin.write(f"serve {name} {count}\n")
        self.process.stdin.flush()
        return float(self.expect("done", None)[0])

    def stop(self):
        if self.process.poll() is None:
            self.process.stdin.write("quit\n")
            self.process.stdin.close()
            self.process.wait(timeout=120)


def milliseconds(pages, requests, batches=5):
    """Return {page: the best batch's wall-clock ms per request}, served plainly."""
    served = Served(pages)
    try:
        for name in pages:
            served.serve(name, requests)  # warm up
        best = dict.fromkeys(pages, float("inf"))
        for _ in range(batches):
            for name in pages:
                best[name] = min(best[name], served.serve(name, requests) / requests * 1000)
        return best
    finally:
        served.stop()


def instructions(pages, requests, folder):
    """Return {page: (instructions per request, the 2N dump's path)}, counted by callgrind."""
    counter = Callgrind(folder, "served")
    served = Served(pages, counter.wrapper(), START_SECONDS)
    try:
        return {
            name: counter.per_request(
                served.process.pid,
                name,
                lambda count, name=name: served.serve(name, count),
                requests,
                max(5, requests // 4),
            )
            for name in pages
        }
    finally:
        served.stop()


def report(pages, counts, wall, requests, sizes, front=None):
    """Return the two Markdown tables: the pages beside fortunes (and the front's own work a
    list request, `front`, when counted), and the list's growth."""
    base, signed_in = counts["fortunes"][0], counts["fortunes-signed-in"][0]
    labels = {
        "fortunes": "fortunes (bench blueprint, anonymous)",
        "fortunes-signed-in": "fortunes, signed in (the session and its user loaded)",
        "list": "notes list `/` (20 of 100 notes, 3 pinned, tags, checklists), seen again",
        "list-made": "the same, made anew (the first view after a note's change: its frame kept)",
        "list-new": "the same, its frame made too (the first view of a sign-in or language)",
        "list-tagged": "the same, to a browser running Memo's scripts (tagged, to keep)",
        "list-304": "the same again, its tag in If-None-Match: 304",
        "api-list": "the API's notes list `/api/v1/notes` (the same 20 notes, JSON, a token)",
        "note": "note page, seen again",
        "note-made": "note page, made anew (the first view after a change: its frame kept)",
        "note-new": "note page, its frame made too",
        "note-tagged": "note page, tagged",
        "note-304": "note page again: 304",
        "search": "search `?q=benchmark` (100 matches, 10 shown)",
        "empty": "notes list of an account with no notes (the page's frame), made anew",
    }
    lines = [
        f"Instructions per request, (I(2N) - I(N)) / N with N = {requests}; wall clock: the best",
        "of five batches, served plainly in another process",
        "",
        "| page | M instructions / request | × fortunes | × fortunes signed in | wall-clock ms |",
        "|---|--:|--:|--:|--:|",
    ]
    for name, label in labels.items():
        figure = counts[name][0]
        lines.append(
            f"| {label} | {figure / 1e6:.2f} | {figure / base:.2f}× | {figure / signed_in:.2f}× "
            f"| {wall[name]:.2f} |"
        )
    if front is not None:
        figure, count = front
        lines.append(
            f"| the front (front/), its own work a notes list request, N = {count} "
            f"| {figure / 1e6:.2f} | {figure / base:.2f}× | {figure / signed_in:.2f}× | – |"
        )
    lines += ["", "| target (issue #65), a repeated view | figure | result |", "|---|--:|---|"]
    for name, most in (("list", 2.0), ("note", 2.5)):
        ratio = counts[name][0] / base
        verdict = "met" if ratio <= most else "**MISSED**"
        lines.append(f"| {labels[name]}: at most {most:.1f}× fortunes | {ratio:.2f}× | {verdict} |")
    made = counts["list-new"][0]
    per_row = (made - counts["empty"][0]) / 20
    lines += ["", f"The list's 20 rows, made: {per_row / 1e6:.3f} M instructions each."]
    lines += ["", "| notes in the account | list made, M instructions / request | × 100 notes |"]
    lines.append("|--:|--:|--:|")
    lines.append(f"| 100 | {made / 1e6:.2f} | 1.00× |")
    for size in sizes:
        figure = counts[f"list-{size // 1000}k"][0]
        lines.append(f"| {size:,} | {figure / 1e6:.2f} | {figure / made:.2f}× |")
    return "\n".join(lines)


def parse_args(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--requests", type=int, default=60, help="N")
    parser.add_argument("--sizes", type=int, nargs="*", default=[1000, 10_000, 100_000])
    parser.add_argument(
        "--front-requests",
        type=int,
        default=200,
        help="N for the front's own count (bench/front_cpu.py); 0: not counted",
    )
    parser.add_argument("--keep", action="store_true", help="keep callgrind's dumps")
    return parser.parse_args(argv)


def main(argv=None):
    args = parse_args(argv)
    if not shutil.which("valgrind"):
        sys.exit("memo bench: valgrind is needed (Debian: apt-get install valgrind)")
    folder = Path(tempfile.mkdtemp(prefix="memo-bench-instructions-"))
    database = Database(folder)
    try:
        app = memo_app(database, "INFO")
        pages = pages_to_serve(app, seed(database, args.sizes))
        wall = milliseconds(pages, args.requests)
        counts = instructions(pages, args.requests, folder)
        front = None
        if args.front_requests:
            email, count = "reader@bench.example", args.front_requests
            front = front_of(database.memo_url, email, count, folder), count
    finally:
        database.stop()
    print(report(pages, counts, wall, args.requests, args.sizes, front))
    if args.keep:
        print(f"\ncallgrind_annotate --inclusive=yes {counts['list'][1]}   # the list's 2N")
        print(f"callgrind_annotate --inclusive=yes {counts['note'][1]}   # the note page's 2N")
    else:
        shutil.rmtree(folder, ignore_errors=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
