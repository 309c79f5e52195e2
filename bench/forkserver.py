#!/usr/bin/env python3
"""The word counter's fork server: how much memory it holds beside a worker.

    .venv/bin/python bench/forkserver.py

A worker counts a page in a child forked from multiprocessing's fork server, which imports
the counting child's module (app/wordcount/child.py) once. This starts a process that loads
the app as `flask worker` does (create_app, then the word counter's sandbox), counts one page
through the sandbox, and reports the resident memory (VmRSS) of the worker-like process, the
fork server and multiprocessing's resource tracker. Nothing else is needed: no database, no
store (the page is made here).
"""

import json
import os
import subprocess
import sys

import psutil

from devenv.memory import rss_mb

# Run in a fresh interpreter, so that this script's own imports do not count.
WORKER_LIKE = """
import json, os
from app import create_app
app = create_app("config.TestingConfig")  # never connects: nothing here queries
from app.fetcher import Page
from app.wordcount.sandbox import count_limited
page = Page("https://example.com/", "text/html", b"<p>Memo counts these words, these too.</p>",
            "text/html; charset=utf-8")
counts = count_limited(page, cpu_seconds=5)
every_word, without_stop_words = counts
print(json.dumps({"pid": os.getpid(), "top": without_stop_words["top"][:2]}), flush=True)
input()  # stay alive while the parent reads the processes' memory
"""


def main():
    """Start the worker-like process, count a page, read its family's memory, print it."""
    process = subprocess.Popen(
        [sys.executable, "-c", WORKER_LIKE],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        text=True,
        env={**os.environ, "TEST_DATABASE_URL": "postgresql://memo@127.0.0.1:1/unused"},
    )
    try:
        started = json.loads(process.stdout.readline())
        worker = psutil.Process(started["pid"])
        figures = {"worker_mb": round(rss_mb(worker.pid), 1)}
        for child in worker.children(recursive=True):
            command = " ".join(child.cmdline())
            kind = "fork_server" if "forkserver" in command else "resource_tracker"
            if "resource_tracker" in command:
                kind = "resource_tracker"
            figures[f"{kind}_mb"] = round(rss_mb(child.pid), 1)
        figures["counted"] = started["top"]
        print(json.dumps(figures))
    finally:
        process.communicate("\n", timeout=30)
    return 0


if __name__ == "__main__":
    sys.exit(main())
