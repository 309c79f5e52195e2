#!/usr/bin/env python3
"""Benchmark (not a test): 8 hostile conflicting saves at once, and another account's note page.

    .venv/bin/python bench/conflicts.py [--saves 8] [--rounds 3]

Serves Memo as the Procfile does (the front before gunicorn, 2 workers, ProductionConfig) on
an embedded PostgreSQL. One account saves, from a stale edit form, `--saves` notes at once
(each `--rounds` times): each save's text and the saved one are 10,000 unique one-character
lines, interleaved, difflib's worst case (issue #47: 43 s for one diff, other pages 504 for
about 3 minutes). While each round's saves run, another account's note page is fetched every
0.2 s (and for 2 s before, quiet). Reports the
conflict pages' statuses and times, the note page's latency (target: under 1 s throughout),
and the CPU seconds the web processes (front, gunicorn master and workers) spent.
Prints JSON; bench/README.md has the figures of a run.
"""

import argparse
import json
import os
import re
import statistics
import sys
import threading
import time

import psutil

from bench.seeding import served_memo
from devenv.visitors import Visitor

UNIQUE = [chr(0xAC00 + number) for number in range(10_000)]
OLD, NEW = "\n".join(UNIQUE), "\n".join(UNIQUE[::2] + UNIQUE[1::2])
VERSION = re.compile(r'name="version"[^>]*value="(\d+)"')


def cpu_seconds(server):
    """Return the user and system CPU seconds of the server's process tree so far."""
    root = psutil.Process(server.process.pid)
    total = 0.0
    for process in [root, *root.children(recursive=True)]:
        try:
            times = process.cpu_times()
            total += times.user + times.system
        except psutil.NoSuchProcess:
            pass
    return total


def stale_notes(visitor, count):
    """Write `count` notes of OLD, each saved again once after its form was read; return
    (note id, the stale version) of each."""
    stale = []
    for number in range(count):
        _, note_id = visitor.create_note(f"hostile {number}", OLD)
        form = visitor.get(f"/notes/{note_id}/edit").text
        version = VERSION.search(form).group(1)
        saved = visitor.post(
            f"/notes/{note_id}/edit",
            {
                "title": f"hostile {number}",
                "content": OLD.replace(UNIQUE[0], "z"),
                "version": version,
            },
        )
        if saved.status != 302:
            sys.exit(f"memo bench: the second save answered {saved.status}")
        stale.append((note_id, version))
    return stale


def hostile_save(url, cookies, token, note_id, version, answers):
    visitor = Visitor(url, timeout=120, cookies=cookies, behind_router=True)
    visitor.token = token
    started = time.monotonic()
    form = {"title": "hostile", "content": NEW, "version": version}
    status = visitor.post(f"/notes/{note_id}/edit", form).status
    answers.append((status, time.monotonic() - started))


def timed_reads(visitor, path, stop):
    found = []
    while not stop.is_set():
        started = time.monotonic()
        status = visitor.get(path).status
        found.append((status, time.monotonic() - started))
        time.sleep(0.2)
    return found


def run_all(threads):
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()


def read_while(visitor, path, action):
    """Fetch `path` every 0.2 s while `action` runs; return (status, seconds) of each."""
    stop, reads = threading.Event(), []
    reading = threading.Thread(target=lambda: reads.extend(timed_reads(visitor, path, stop)))
    reading.start()
    action()
    stop.set()
    reading.join()
    return reads


def report(reads, answers, quiet, spent):
    """Print the run's figures as JSON."""
    times = sorted(seconds for _, seconds in reads)
    print(
        json.dumps(
            {
                "load_average": round(os.getloadavg()[0], 2),
                "conflicting_saves": len(answers),
                "statuses": sorted({status for status, _ in answers}),
                "save_seconds_max": round(max(seconds for _, seconds in answers), 2),
                "web_cpu_seconds_per_save": round(spent / len(answers), 3),
                "note_page_quiet_max_ms": round(max(t for _, t in quiet) * 1000),
                "note_page_reads": len(reads),
                "note_page_statuses": sorted({status for status, _ in reads}),
                "note_page_p50_ms": round(statistics.median(times) * 1000),
                "note_page_max_ms": round(times[-1] * 1000),
            },
            indent=2,
        )
    )


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--saves", type=int, default=8)
    parser.add_argument("--rounds", type=int, default=5)
    options = parser.parse_args()
    with served_memo("conflicts", NOTE_WRITES_PER_MINUTE="1000") as (server, url):
        attacker, reader = (Visitor(server.url, behind_router=True) for _ in range(2))
        attacker.signup("attacker@example.com", "attacker")
        reader.signup("reader@example.com", "reader")
        _, note_id = reader.create_note("Reader's note", "words " * 40)
        note = f"/notes/{note_id}"
        reader.get(note)
        quiet = read_while(reader, note, lambda: time.sleep(2))
        reads, answers, spent = [], [], 0.0
        for _ in range(options.rounds):
            stale = stale_notes(attacker, options.saves)
            cookies = attacker.session.cookies.get_dict()
            saves = [
                threading.Thread(
                    target=hostile_save,
                    args=(server.url, cookies, attacker.token, note_id, version, answers),
                )
                for note_id, version in stale
            ]
            before = cpu_seconds(server)
            reads += read_while(reader, note, lambda threads=saves: run_all(threads))
            spent += cpu_seconds(server) - before
        report(reads, answers, quiet, spent)


if __name__ == "__main__":
    sys.exit(main())
