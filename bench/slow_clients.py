#!/usr/bin/env python3
"""Benchmark: gunicorn's worker classes against slow clients, and the notes list's throughput.

    .venv/bin/python bench/slow_clients.py [--seconds 8] [--connections 16] [asgi gthread ...]

For each option, serves Memo under ProductionConfig (2 workers, WEB_THREADS threads) on an
embedded PostgreSQL and an S3 server, then: 1. starts twelve trickling clients (six send
their headers a line a second, six a body a byte a second; tests/test_slow_clients.py) and
times GET /healthz; 2. drives the notes list of a user with 100 notes with wrk. Options:
`front`, the Procfile's (front/ before gunicorn's threaded worker); `gthread`, that
gunicorn alone; `waitress`, when waitress is installed; `gevent`, when gevent and psycogreen
are installed.
"""

import argparse
import re
import subprocess
import sys
import time
from pathlib import Path

from devenv import ROOT
from devenv.liveserver import (
    free_port,
    procfile_command,
    production_environment,
    release_phase,
)
from devenv.services import ObjectStore, ensure_database, throwaway_postgres
from devenv.trickle import slow_body, slow_headers
from devenv.visitors import Visitor

GUNICORN = str(Path(sys.executable).parent / "gunicorn")
WAITRESS = str(Path(sys.executable).parent / "waitress-serve")
CONFIG = str(ROOT / "gunicorn.conf.py")
OVERRIDES = {
    "gevent": (
        'worker_class = "gevent"\n'
        "def post_fork(server, worker):\n"
        "    from psycogreen.gevent import patch_psycopg\n"
        "    patch_psycopg()\n"
    ),
}


def command(option, folder, port):
    """Return the command line serving Memo on `port` with option `option`."""
    if option == "front":
        return procfile_command("web")
    if option == "waitress":
        # Its defaults, but as many threads as one gunicorn dyno has (2 x WEB_THREADS).
        return [WAITRESS, f"--listen=127.0.0.1:{port}", "--threads=8", "wsgi:app"]
    config = folder / f"{option}.conf.py"
    config.write_text(f"exec(open({CONFIG!r}).read())\n{OVERRIDES.get(option, '')}")
    return [GUNICORN, "-c", str(config), "--bind", f"127.0.0.1:{port}", "wsgi:app"]


def healthz_seconds(url, timeout):
    """Return how long GET /healthz took to answer, or None if it did not within `timeout`."""
    visitor = Visitor(url, timeout=timeout)
    started = time.monotonic()
    try:
        visitor.get("/healthz")
    except OSError:
        return None
    finally:
        visitor.close()
    return time.monotonic() - started


def wait_until_up(url):
    for _ in range(150):
        if healthz_seconds(url, timeout=1) is not None:
            return
        time.sleep(0.2)
    raise RuntimeError(f"{url} did not come up")


def healthz_under_tricklers(port, url):
    """Return the seconds /healthz took while twelve clients trickled (or None past 10 s)."""
    clients = [slow_headers(port) for _ in range(6)] + [slow_body(port) for _ in range(6)]
    for client in clients:
        client.start()
    time.sleep(2)
    waited = healthz_seconds(url, timeout=10)
    for client in clients:
        client.join(60)
    return waited


def notes_list_rate(url, cookie, seconds, connections):
    """Return (requests a second, mean latency) of wrk on the notes list."""
    wrk = ["wrk", "-t2", f"-c{connections}", f"-d{seconds}s", "-H", f"Cookie: {cookie}"]
    output = subprocess.run([*wrk, f"{url}/"], capture_output=True, text=True).stdout
    rate = re.search(r"Requests/sec:\s+([\d.]+)", output)[1]
    latency = re.search(r"Latency\s+(\S+)", output)[1]
    return float(rate), latency


def seeded_cookie(url):
    """Sign up a user with 100 notes; return its cookie header."""
    visitor = Visitor(url)
    visitor.signup("bench@example.com", "bench")
    for number in range(100):
        visitor.create_note(f"note {number}", "words " * 40)
    return "; ".join(f"{name}={value}" for name, value in visitor.cookies.items())


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("options", nargs="*", default=["front", "gthread"])
    parser.add_argument("--seconds", type=int, default=8)
    parser.add_argument("--connections", type=int, default=16)
    args = parser.parse_args()
    postgres, folder = throwaway_postgres("memo-slow-")
    ensure_database(postgres.get_uri(), "memo", recreate=True)
    database = postgres.get_uri("memo")
    store = ObjectStore("memo-bench").start()
    release_phase(database, store.environment())
    cookie = None
    print("| option | /healthz under 12 trickling clients | notes list req/s | mean latency |")
    print("|---|---|---|---|")
    try:
        for option in args.options:
            port = free_port()
            environ = production_environment(
                database, store.environment(), PORT=str(port), WEB_FRONT_HOST="127.0.0.1"
            )
            with (folder / f"{option}.log").open("wb") as log:
                server = subprocess.Popen(
                    command(option, folder, port), cwd=ROOT, env=environ, stdout=log, stderr=log
                )
            url = f"http://127.0.0.1:{port}"
            try:
                wait_until_up(url)
                cookie = cookie or seeded_cookie(url)
                waited = healthz_under_tricklers(port, url)
                rate, latency = notes_list_rate(url, cookie, args.seconds, args.connections)
            finally:
                server.terminate()
                server.wait(30)
            shown = "no answer in 10 s" if waited is None else f"{waited * 1000:.0f} ms"
            print(f"| {option} | {shown} | {rate:.0f} | {latency} |", flush=True)
    finally:
        store.stop()
        postgres.cleanup()


if __name__ == "__main__":
    main()
