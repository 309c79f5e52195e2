#!/usr/bin/env python3
"""Benchmark: the web front (front/) beside the nginx front it replaced, in one run.

    .venv/bin/python bench/fronts.py [--nginx-from COMMIT] [--seconds 10] [--connections 32]

Serves the same Memo tree (this checkout's app, gunicorn.conf.py, ProductionConfig, one
embedded PostgreSQL) through each front in turn: this checkout's front/, and front.py with
nginx.conf.template as they were at `--nginx-from` (default: the last commit whose front.py ran
nginx), with Debian's nginx. wrk drives `/healthz` (the front's share of a request is largest
there) and the signed-in notes list with 2 threads and `--connections` connections, after a warm-up.
Prints requests/s, p99 and CPU ms per request of the whole web process tree, and of the
front process(es) alone.
"""

import argparse
import os
import subprocess
import sys
import tempfile
from pathlib import Path

import psutil

from bench.seeding import Database, production_environ, seed_users, sign_in, start
from bench.web import machine, memo_server
from bench.web_report import WARM_UP_SECONDS
from bench.wrk_load import Wrk, cpu_seconds, ensure_wrk
from devenv import ROOT, say, services
from devenv.liveserver import Front, program
from devenv.visitors import Visitor


def git(*args):
    return subprocess.run(
        ["git", *args], cwd=ROOT, capture_output=True, text=True, check=True
    ).stdout.strip()


def last_nginx_commit():
    """Return the last commit whose front.py ran nginx: the parent of the one that brought h11."""
    found = git("log", "--reverse", "--format=%H", "-S", "import h11", "--", "front.py")
    return git("rev-parse", f"{found.split()[0]}^")


def nginx_front(environ, folder, commit):
    """Return the web process as `commit` ran it (its front.py and nginx.conf.template)."""
    old = folder / "nginx-front"
    old.mkdir()
    for name in ("front.py", "nginx.conf.template"):
        (old / name).write_text(git("show", f"{commit}:{name}") + "\n")
    environ = {**environ, "PYTHONPATH": str(ROOT)}  # its front.py imports this tree's config
    server = Front(environ, folder / "nginx-front.log", int(environ["WEB_CONCURRENCY"]))
    server.command = [sys.executable, str(old / "front.py"), "gunicorn", "wsgi:app"]
    return server


def front_cpu_seconds(server):
    """CPU seconds of the front's processes alone (the front, and nginx where it runs)."""
    root = psutil.Process(server.process.pid)
    total = sum(root.cpu_times()[:2])
    for child in root.children(recursive=True):
        if "gunicorn" not in " ".join(child.cmdline()):
            total += sum(child.cpu_times()[:2])
    return total


def measure(load, server, path, cookie):
    load.run(server.port, path, WARM_UP_SECONDS, cookie)
    whole, front = cpu_seconds(server), front_cpu_seconds(server)
    figures = load.run(server.port, path, load.seconds, cookie)
    requests = figures["requests"]
    figures["cpu_ms"] = (cpu_seconds(server) - whole) / requests * 1000
    figures["front_cpu_ms"] = (front_cpu_seconds(server) - front) / requests * 1000
    return figures


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--nginx-from", default=None)
    parser.add_argument("--seconds", type=int, default=10)
    parser.add_argument("--connections", type=int, default=32)
    args = parser.parse_args()
    commit = args.nginx_from or last_nginx_commit()
    wrk = ensure_wrk()
    folder = Path(tempfile.mkdtemp(prefix="memo-bench-front-"))
    database = Database(folder)
    store = services.ObjectStore("memo-bench-front").start()
    rows = []
    try:
        environ = production_environ(database, store)
        subprocess.run(
            [program("flask"), "--app", "wsgi", "db", "upgrade"],
            cwd=ROOT,
            env={**environ, "LOG_LEVEL": "WARNING"},
            check=True,
        )
        users = seed_users(database)
        load = Wrk(wrk, args.connections, args.seconds)
        fronts = {
            f"front/ (h11), {git('rev-parse', '--short', 'HEAD')}": memo_server(environ, folder),
            f"nginx 1.22 + front.py, {commit[:7]}": nginx_front(environ, folder, commit),
        }
        for name, server in fronts.items():
            start(server)
            reader = Visitor(server.url, behind_router=True)
            sign_in(reader, users["reader"][0])
            cookie = reader.cookie_header()
            for path, label in (("/healthz", "`/healthz`"), ("/", "notes list `/`")):
                say(f"Measuring {label} through {name}")
                figures = measure(load, server, path, cookie if path == "/" else "")
                rows.append((name, label, figures))
            server.stop()
    finally:
        for server in fronts.values() if "fronts" in locals() else ():
            server.stop()
        store.stop()
        database.stop()
    print(f"\n{machine()}; load {' '.join(f'{v:.2f}' for v in os.getloadavg())}")
    print(f"wrk -t2 -c{args.connections} -d{args.seconds}s; WEB_CONCURRENCY 2, WEB_THREADS 4\n")
    print("| front | page | req/s | p99 ms | errors | CPU ms/request, all | of which the front |")
    print("|---|---|--:|--:|--:|--:|--:|")
    for name, label, f in rows:
        print(
            f"| {name} | {label} | {f['rps']:,.0f} | {f['p99_us'] / 1000:.1f} | {f['errors']} "
            f"| {f['cpu_ms']:.2f} | {f['front_cpu_ms']:.2f} |"
        )
    return 0


if __name__ == "__main__":
    sys.exit(main())
