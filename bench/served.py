"""The process bench/instructions.py counts: Memo made as gunicorn's worker makes it, serving
pages in-process when told to, so that callgrind sees the app's work and nothing else.

    python bench/served.py PAGES_JSON      # normally under valgrind, started by instructions.py

PAGES_JSON maps a page's name to [path, its headers (a cookie, a token) or null], or to
[path, headers, "revalidated"]: a browser's visit with the page's tag in If-None-Match, which
must answer 304 (the tag is taken from one request made before each batch: it may hold a
deadline, which a slow start under valgrind could pass), or to [path, headers, "made"]: the
page made anew each time, as the first view after a note's change (the pages an older commit
kept made, given up before each request; this one keeps none), or [path, headers, "new"]: its
frame made anew too, as the first view of a new sign-in or language. The environment is the app's
(ProductionConfig, the bench's database and store). Each request is one call of the WSGI app
with a prepared environ, as a server makes it (no test client, no sockets), its body read
whole and closed. The bench's fortunes blueprint (bench/baseline/blueprint.py) is
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
MADE = {"made": ("kept_pages",), "new": ("kept_pages", "kept_parts")}  # given up each time


def environ_for(path, sent):
    """Return the WSGI environ of a GET of `path` through the router, with the `sent` headers."""
    headers = dict(ROUTER, **(sent or {}))
    builder = EnvironBuilder(path=path, headers=headers, base_url="http://memo.bench.example")
    try:
        return builder.get_environ()
    finally:
        builder.close()


def answered(expected):
    """Return a WSGI start_response that refuses any status but `expected`; it keeps the
    headers of the last answer in its `headers`."""

    def start_response(status, headers, exc_info=None):
        if not status.startswith(expected):
            raise RuntimeError(f"the page answered {status}")
        start_response.headers = dict(headers)

    return start_response


def call(app, environ, start_response):
    """Call the app once with a copy of `environ`, read its body whole and close it."""
    body = app(dict(environ), start_response)
    try:
        for _chunk in body:
            pass
    finally:
        if hasattr(body, "close"):
            body.close()


def serve(app, environ, count, revalidated=False, made=()):
    """Call the app `count` times with a copy of `environ`; return the wall-clock seconds.

    `revalidated`: each call sends the tag of the page as it is now, and must get a 304.
    `made`: the kept pages or parts given up before each call, where an older commit has them.
    A full collection first: each batch starts with the collector in the same state, so a
    full pass falls at the same point of the N and the 2N batches and cancels out."""
    check = answered("200")
    if revalidated:
        environ = {key: value for key, value in environ.items() if key != "HTTP_IF_NONE_MATCH"}
        call(app, environ, check)  # once a batch, in both: it cancels out
        environ["HTTP_IF_NONE_MATCH"] = check.headers["ETag"]
        check = answered("304")
    kept = [app.extensions[name] for name in made if name in app.extensions]
    gc.collect()
    started = time.perf_counter()
    for _ in range(count):
        for pages in kept:
            pages.clear()
        call(app, environ, check)
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
    environs = {name: environ_for(*page[:2]) for name, page in pages.items()}
    revalidated = {name for name, page in pages.items() if page[2:] == ["revalidated"]}
    made = {name: MADE.get(page[2] if page[2:] else None, ()) for name, page in pages.items()}
    answers.write("ready\n")
    for line in sys.stdin:
        command, *words = line.split()
        if command == "quit":
            break
        name, count = words[0], int(words[1])
        seconds = serve(app, environs[name], count, name in revalidated, made[name])
        answers.write(f"done {seconds:.6f}\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
