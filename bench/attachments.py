#!/usr/bin/env python3
"""Benchmark: the web process's CPU and memory per attachment, from 1 MB to 25 MB files.

    .venv/bin/python bench/attachments.py [--runs 5] [--sizes 1,5,10,25]

Starts an embedded PostgreSQL and a local S3 server (moto over HTTP) in this process,
migrates, and serves Memo with gunicorn as the Procfile does (ProductionConfig, one
worker). For each size it attaches `--runs` files to a note as a browser without
JavaScript does: the note's page (the signed form), the POST of the file straight to
the store (sent by this process, not the web process), and the confirm request. It
reads the gunicorn worker's CPU time (user + system) and resident memory from /proc
before and after each size, and prints them per attachment (and the median wall time of
the two requests): flat means the web process never carries the bytes.
"""

import argparse
import os
import statistics
import sys
import tempfile
import time
from pathlib import Path

from devenv.memory import rss_mb

MIB = 1024 * 1024


def worker_process(server):
    """Return the psutil Process of the server's only gunicorn worker."""
    import psutil

    (pid,) = server.worker_pids()
    return psutil.Process(pid)


def cpu_seconds(process):
    """Return the CPU time (user + system) a process has used so far."""
    times = process.cpu_times()
    return times.user + times.system


def attach(visitor, note_id, data, name):
    """Attach one file as a browser without JavaScript does; return the two requests' times."""
    from devenv.uploads import FILENAME_FIELD, back_from_store, send_to_store, upload_form

    page = visitor.get(f"/notes/{note_id}")
    url, fields = upload_form(page.text)
    # S3 fills in ${filename}; moto does not, so the name goes in as S3 would put it.
    answer = send_to_store(url, fields, data, name, **{FILENAME_FIELD: name})
    assert answer.status_code == 303, answer.text
    confirmed = visitor.get(back_from_store(answer))
    assert confirmed.status == 302 and confirmed.location == f"/notes/{note_id}", confirmed.text
    return confirmed.ended - confirmed.started, page.ended - page.started


def measure(server, visitor, size_mb, runs):
    """Attach `runs` files of `size_mb` to a new note; return the worker's figures."""
    process = worker_process(server)
    _, note_id = visitor.create_note(f"{size_mb} MB files")
    data = b"%PDF-1.7\n" + os.urandom(size_mb * MIB - 9)
    cpu_before = cpu_seconds(process)
    times = [attach(visitor, note_id, data, f"file {number}.pdf") for number in range(runs)]
    return {
        "size_mb": size_mb,
        "cpu_ms": (cpu_seconds(process) - cpu_before) * 1000 / runs,
        "confirm_ms": statistics.median(confirm for confirm, _ in times) * 1000,
        "page_ms": statistics.median(page for _, page in times) * 1000,
        "rss_mb": rss_mb(process.pid),
        "peak_mb": rss_mb(process.pid, peak=True),
    }


def run(sizes, runs, folder):
    """Start the services and Memo, attach files of each size, and return the figures."""
    from devenv.liveserver import LiveServer, release_phase
    from devenv.services import ObjectStore, ensure_database, start_postgres
    from devenv.visitors import Visitor

    postgres = start_postgres(folder / "postgres", cleanup_mode="delete")
    store = ObjectStore("memo-bench").start()
    server = None
    try:
        ensure_database(postgres.get_uri(), "memo_bench", recreate=True)
        database_url = postgres.get_uri("memo_bench")
        release_phase(database_url, store.environment())
        server = LiveServer(
            database_url, store.environment(), folder / "gunicorn.log", workers=1
        ).start()
        visitor = Visitor(server.url)
        assert visitor.signup("bench@example.com", "bench").status == 302
        measure(server, visitor, 1, 2)  # warm-up: first-use imports, the S3 client
        return [measure(server, visitor, size, runs) for size in sizes]
    finally:
        if server is not None:
            server.stop()
        store.stop()
        postgres.cleanup()


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=5, help="attachments per size (max 10)")
    parser.add_argument("--sizes", default="1,5,10,25", help="file sizes in MB")
    args = parser.parse_args()
    sizes = [int(size) for size in args.sizes.split(",")]
    started = time.monotonic()
    figures = run(sizes, min(args.runs, 10), Path(tempfile.mkdtemp(prefix="memo-bench-")))
    print(f"attachments per size: {min(args.runs, 10)} (after a warm-up of 2)")
    print("size MB | web CPU ms/attachment | page ms | confirm ms | worker RSS MB | peak MB")
    for row in figures:
        print(
            f"{row['size_mb']:7d} | {row['cpu_ms']:21.1f} | {row['page_ms']:7.0f} "
            f"| {row['confirm_ms']:10.0f} | {row['rss_mb']:13.0f} | {row['peak_mb']:7.0f}"
        )
    print(f"run took {time.monotonic() - started:.0f} s")


if __name__ == "__main__":
    sys.exit(main())
