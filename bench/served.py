"""The process bench/instructions.py counts: Memo made as gunicorn's worker makes it, serving
pages in-process when told to, so that callgrind sees the app's work and nothing else.

    python bench/served.py PAGES_JSON      # normally under valgrind, started by instructions.py

PAGES_JSON maps a page's name to [path, its headers (a cookie, a token) or null]. The
environment is the app's (ProductionConfig, the bench's database and store). Each request is one
call of the WSGI app with a prepared environ, as a server makes it (no test client, no sockets),
its body read whole and closed. The bench's fortunes blueprint (bench/baseline/blueprint.py) is
registered before the first request. Commands come one a line on stdin, answers go to the
original stdout (the request log goes where it goes under gunicorn, here /dev/null):

    serve NAME COUNT   ->  "done SECONDS" (wall clock, meaningless under valgrind)
    quit
"""

import gc
import json
import os
import sys
import time

from werkzeug.test import EnvironBuilder

ROUTER = {"X-Forwarded-Proto": "https", "X-Forwarded-For": "203.0.113.9"}


def environ_for(path, sent):
    """Return the WSGI environ of a GET of `path` through the router, with the `sent` headers."""
    headers = dict(ROUTER, **(sent or {}))
    builder = EnvironBuilder(path=path, headers=headers, base_url="http://memo.bench.example")
    try:
        return builder.get_environ()
    finally:
        builder.close()


def start_response(status, headers, exc_info=None):
    if not status.startswith("200"):
        raise RuntimeError(f"the page answered {status}")


def serve(app, environ, count):
    """Call the app `count` times with a copy of `environ`; return the wall-clock seconds.

    A full collection first: each batch starts with the collector in the same state, so a
    full pass falls at the same point of the N and the 2N batches and cancels out."""
    gc.collect()
    started = time.perf_counter()
    for _ in range(count):
        body = app(dict(environ), start_response)
        try:
            for _chunk in body:
                pass
        finally:
            if hasattr(body, "close"):
                body.close()
    return time.perf_counter() - started


def main():
    pages = json.loads(sys.argv[1])
    answers = os.fdopen(os.dup(1), "w", buffering=1)
    null = os.open(os.devnull, os.O_WRONLY)
    os.dup2(null, 1)
    sys.stdout = open(os.devnull, "w")  # noqa: SIM115  (for the life of the process)
    from bench.baseline.blueprint import bp
    from wsgi import app

    app.register_blueprint(bp)
    environs = {name: environ_for(path, sent) for name, (path, sent) in pages.items()}
    answers.write("ready\n")
    for line in sys.stdin:
        command, *words = line.split()
        if command == "quit":
            break
        name, count = words[0], int(words[1])
        answers.write(f"done {serve(app, environs[name], count):.6f}\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
