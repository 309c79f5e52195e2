#!/usr/bin/env python3
"""Benchmark (not a test): one account's searches against the search budget; the index's cost.

    .venv/bin/python bench/search_abuse.py [--notes 7500] [--chars 20000] [--seconds 20]

Serves Memo as the Procfile does (gunicorn, 2 workers, ProductionConfig) on an embedded
PostgreSQL, gives one account 7,500 notes of 20,000 characters (words drawn from a
vocabulary of 5,000, so every letter starts many of them), and measures over HTTP:
1. the attack's query `b* c* d* ... z*`, the attack's 66-term one, and the worst the budget
   allows (five two-letter prefixes): status and time of each (target: within 1 s or refused);
2. eight threads of that account running the worst allowed search for `--seconds`, while
   another user's notes list and /healthz are timed (target: both stay fast);
3. the database's bytes per byte of note text, and what they are made of.
Prints Markdown tables.
"""

import argparse
import os
import random
import statistics
import string
import sys
import threading
import time
from collections import Counter
from urllib.parse import urlencode

from bench.seeding import served_memo
from devenv.services import (
    connect,
    execute,
    query,
)
from devenv.visitors import Visitor

ATTACKER, OTHER = "attacker@example.com", "other@example.com"
LETTERS = "bcdefghijklmnopqrstuvwxyz"
QUERIES = {
    "`b* c* ... z*` (the attack, 25 one-letter prefixes)": " ".join(f"{c}*" for c in LETTERS),
    "the attack's 66 terms (`b* c* ...` three times)": " ".join(f"{c}*" for c in LETTERS * 3)[:197],
    "five two-letter prefixes (the worst allowed)": "ba* ca* da* ea* fa*",
    "one common word": "WORD",
}
SIZES = """
SELECT pg_table_size('note') AS table_bytes,
       pg_relation_size(reltoastrelid) AS toast_bytes,
       pg_indexes_size('note') AS index_bytes,
       pg_relation_size('ix_note_search_keys') AS search_index_bytes,
       (SELECT sum(pg_column_size(search_vector)) FROM note) AS vector_bytes,
       (SELECT sum(pg_column_size(content) + pg_column_size(title)) FROM note) AS stored_text_bytes,
       (SELECT sum(octet_length(content) + octet_length(title)) FROM note) AS text_bytes,
       pg_database_size(current_database()) AS database_bytes
  FROM pg_class WHERE relname = 'note'
"""


def vocabulary(size=5000, seed=23):
    """Return `size` made-up words of 3 to 10 letters, starting with every letter."""
    rng = random.Random(seed)
    return [
        "".join(rng.choice(string.ascii_lowercase) for _ in range(rng.randint(3, 10)))
        for _ in range(size)
    ]


def seed_notes(url, email, notes, chars, words):
    """Give the user `notes` notes of about `chars` characters each, straight in the table.

    The search index is dropped meanwhile and built again after: one build is far quicker
    than 7,500 notes' worth of GIN insertions, and the index comes out the same.
    """
    [(index,)] = query(url, "SELECT pg_get_indexdef('ix_note_search_keys'::regclass)")
    with connect(url) as connection, connection.cursor() as cursor:
        cursor.execute("DROP INDEX ix_note_search_keys")
        cursor.execute('SELECT id FROM "user" WHERE email = %s', (email,))
        (user_id,) = cursor.fetchone()
        rng = random.Random(7)
        for start in range(0, notes, 100):
            rows = []
            for number in range(start, min(notes, start + 100)):
                text = " ".join(rng.choice(words) for _ in range(chars // 7))[:chars]
                rows.append((f"note {number}", text, user_id))
            cursor.executemany(
                "INSERT INTO note (title, content, created_at, updated_at, user_id)"
                " VALUES (%s, %s, now(), now(), %s)",
                rows,
            )
            connection.commit()
        cursor.execute("SET maintenance_work_mem = '256MB'")
        cursor.execute(index)
        connection.commit()
    return user_id


def timed(visitor, path, **params):
    """Return (status, seconds) of one GET."""
    started = time.monotonic()
    try:
        status = visitor.get(f"{path}?{urlencode(params)}" if params else path).status
    except OSError:
        status = "no answer"
    return status, time.monotonic() - started


def flood(url, cookies, typed, seconds, threads=8):
    """Run `threads` searchers for `seconds`; return the statuses they got."""
    statuses, stop = Counter(), time.monotonic() + seconds

    def search():
        visitor = Visitor(url, timeout=30, cookies=cookies, behind_router=True)
        while time.monotonic() < stop:
            statuses[timed(visitor, "/search", q=typed)[0]] += 1

    running = [threading.Thread(target=search) for _ in range(threads)]
    for thread in running:
        thread.start()
    return running, statuses


def latencies(visitor, path, until):
    """Time GET `path` every 0.2 s until `until`; return the seconds each took."""
    found = []
    while time.monotonic() < until:
        found.append(timed(visitor, path)[1])
        time.sleep(0.2)
    return found


def print_sizes(url):
    """Print what the database's bytes are made of, against the bytes of note text."""
    execute(url, "VACUUM ANALYZE note")
    [row] = query(url, SIZES)
    names = ["table", "TOAST", "indexes", "ix_note_search_keys", "search_vector", "stored text",
             "text", "database"]  # fmt: skip
    sizes = dict(zip(names, row, strict=True))
    text = sizes["text"]
    print("\n| part | MB | bytes per byte of text |\n|---|---:|---:|")
    for name, value in sizes.items():
        print(f"| {name} | {value / 2**20:,.1f} | {value / text:.2f} |")


def seed_and_time_queries(server, url, options):
    """Sign up the attacker and another user, seed the attacker's notes, time each query;
    return (attacker, other)."""
    attacker, other = (Visitor(server.url, behind_router=True) for _ in range(2))
    for visitor, email in ((attacker, ATTACKER), (other, OTHER)):
        visitor.signup(email, email.split("@")[0])
        assert visitor.get("/").status == 200, f"{email} is not signed in"
    for number in range(20):
        other.create_note(f"other {number}", "words " * 40)
    words = vocabulary()
    print(f"seeding {options.notes:,} notes of {options.chars:,} characters ...", flush=True)
    started = time.monotonic()
    seed_notes(url, ATTACKER, options.notes, options.chars, words)
    print(f"seeded in {time.monotonic() - started:.0f} s", flush=True)
    load = os.getloadavg()[0]
    print(f"\nload average {load:.1f} on {os.cpu_count()} cores (a shared machine)\n")
    print("| query | status | seconds |\n|---|---|---:|")
    for label, typed in QUERIES.items():
        typed = typed.replace("WORD", words[0])
        timed(attacker, "/search", q=typed)  # warm the caches
        status, seconds = timed(attacker, "/search", q=typed)
        print(f"| {label} | {status} | {seconds:.2f} |", flush=True)
    return attacker, other


def flood_and_watch(server, attacker, other, options):
    """Run 8 searches of the worst allowed query at once; print /healthz and another user's
    list, quiet and during."""
    quiet_health = latencies(Visitor(server.url), "/healthz", time.monotonic() + 2)
    quiet_list = latencies(other, "/", time.monotonic() + 2)
    running, statuses = flood(
        server.url,
        attacker.session.cookies.get_dict(),
        QUERIES["five two-letter prefixes (the worst allowed)"],
        options.seconds,
    )
    until = time.monotonic() + options.seconds - 1
    health = []
    health_thread = threading.Thread(
        target=lambda: health.extend(latencies(Visitor(server.url), "/healthz", until))
    )
    health_thread.start()
    busy_list = latencies(other, "/", until)
    health_thread.join()
    for thread in running:
        thread.join()
    print("\n| while 8 searches of the worst allowed query run | p50 ms | max ms |")
    print("|---|---:|---:|")
    for label, values in (
        ("/healthz, quiet", quiet_health),
        ("/healthz, during", health),
        ("another user's notes list, quiet", quiet_list),
        ("another user's notes list, during", busy_list),
    ):
        print(f"| {label} | {statistics.median(values) * 1000:.0f} | "
              f"{max(values) * 1000:.0f} |")  # fmt: skip
    print(f"\nthe 8 searchers' answers: {dict(statuses)}")


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--notes", type=int, default=7500)
    parser.add_argument("--chars", type=int, default=20000)
    parser.add_argument("--seconds", type=int, default=20)
    options = parser.parse_args()
    with served_memo("search") as (server, url):
        attacker, other = seed_and_time_queries(server, url, options)
        flood_and_watch(server, attacker, other, options)
        print_sizes(url)


if __name__ == "__main__":
    sys.exit(main())
