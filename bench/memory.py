#!/usr/bin/env python3
"""Resident memory: a web worker after serving, and the word counter's fork server.

    .venv/bin/python bench/memory.py [--requests 3000]

1. The web as the Procfile runs it (front/ before gunicorn, ProductionConfig) against an
   embedded PostgreSQL and a local S3 server: a user signs in and walks the pages a person
   uses (the list, a note, search, my page, tags), `--requests` in all across the workers;
   then each gunicorn worker's RSS (VmRSS) is read. (What a web worker imports is checked by
   tests/test_layout.py: neither the release phase nor the worker's runtime.)
2. A process that loads the app as `flask worker` does and counts one page through the
   word counter's sandbox: the RSS of that process, of multiprocessing's fork server and of
   its resource tracker.
Prints JSON; bench/README.md has the figures of a run.
"""

import argparse
import json
import os
import subprocess
import sys
import tempfile
from pathlib import Path

import psutil

from bench.seeding import Database, production_environ, seed_users, sign_in, start
from devenv import ROOT, services
from devenv.flaskdb import flask_db
from devenv.liveserver import Front
from devenv.memory import rss_mb
from devenv.visitors import Visitor

# Run in a fresh interpreter, so that this script's own imports do not count.
WORKER_LIKE = """
import json, os
from app import create_app
app = create_app("config.TestingConfig")  # never connects: nothing here queries
from app.fetcher.client import Page
from app.features.wordcount.sandbox import count_limited
page = Page("https://example.com/", "text/html", b"<p>Memo counts these words, these too.</p>",
            "text/html; charset=utf-8")
every_word, without_stop_words = count_limited(page, cpu_seconds=5)
print(json.dumps({"pid": os.getpid(), "top": without_stop_words["top"][:2]}), flush=True)
input()  # stay alive while the parent reads the processes' memory
"""


def fork_server():
    """Return the RSS of a worker-like process, its fork server and its resource tracker."""
    process = subprocess.Popen(
        [sys.executable, "-c", WORKER_LIKE],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        text=True,
        cwd=ROOT,
        env={**os.environ, "TEST_DATABASE_URL": "postgresql://memo@127.0.0.1:1/unused"},
    )
    try:
        started = json.loads(process.stdout.readline())
        worker = psutil.Process(started["pid"])
        figures = {"worker_like_mb": round(rss_mb(worker.pid), 1)}
        for child in worker.children(recursive=True):
            command = " ".join(child.cmdline())
            kind = "resource_tracker" if "resource_tracker" in command else "fork_server"
            figures[f"{kind}_mb"] = round(rss_mb(child.pid), 1)
        return figures
    finally:
        process.communicate("\n", timeout=30)


def web_workers(requests):
    """Serve `requests` page views through the Procfile's web; return each worker's RSS."""
    folder = Path(tempfile.mkdtemp(prefix="memo-bench-memory-"))
    database = Database(folder)
    store = services.ObjectStore("memo-bench-memory").start()
    try:
        environ = production_environ(database, store)
        flask_db(
            environ["DATABASE_URL"], "upgrade", check=True, **{**environ, "LOG_LEVEL": "WARNING"}
        )
        users = seed_users(database)
        web = Front({**environ, "LOG_LEVEL": "WARNING"}, folder / "web.log", 2)
        start(web)
        try:
            visitor = Visitor(web.url, behind_router=True)
            _, note_path = sign_in(visitor, users["reader"][0])
            pages = ["/", note_path, "/search?q=words", "/mypage", "/tags", "/?page=3"]
            for number in range(requests):
                response = visitor.get(pages[number % len(pages)])
                assert response.status == 200, (pages[number % len(pages)], response.status)
            return {
                "requests": requests,
                "web_workers_mb": [round(rss_mb(w.pid), 1) for w in web.worker_processes()],
            }
        finally:
            web.stop()
    finally:
        store.stop()
        database.stop()


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--requests", type=int, default=3000)
    args = parser.parse_args()
    print(json.dumps({**fork_server(), **web_workers(args.requests)}))
    return 0


if __name__ == "__main__":
    sys.exit(main())
