"""The request front's own instructions per request: the front under callgrind, gunicorn outside.

    .venv/bin/python bench/front_cpu.py [--requests 200]

The Procfile's web process (the front before one gunicorn worker, ProductionConfig) runs with the
front under `valgrind --tool=callgrind`; valgrind does not follow gunicorn, a child process, so
only the front's work is counted: reading a request whole, passing it to gunicorn over its Unix
socket, taking the response whole and sending it. A signed-in visitor asks for the notes list
through it, kept alive; `callgrind_control` zeroes the counters, then dumps them after N and
after 2N more requests: (I(2N) - I(N)) / N, so start-up cancels out. Run it in two checkouts to
compare two fronts. Needs Debian's valgrind.
"""

import argparse
import tempfile
from pathlib import Path

from bench.callgrind import Callgrind
from bench.seeding import Database, seed_users, sign_in
from devenv import services
from devenv.liveserver import LiveServer, release_phase
from devenv.visitors import Visitor

START_SECONDS = 300  # the front's imports and start, instrumented from the first instruction


def serve(visitor, requests):
    for _ in range(requests):
        response = visitor.get("/")
        assert response.status == 200, response.status


def front_per_request(database_url, store_environment, email, requests, folder):
    """Return the front's instructions per request of the signed-in notes list."""
    counter = Callgrind(folder, "front")
    server = LiveServer(database_url, store_environment, folder / "front.log", workers=1)
    server.command = [*counter.wrapper(), *server.command]
    server.start(timeout=START_SECONDS)
    try:
        visitor = Visitor(server.url, timeout=120, behind_router=True)
        sign_in(visitor, email)
        return counter.per_request(
            server.process.pid, "front", lambda count: serve(visitor, count), requests, 2 * requests
        )[0]
    finally:
        server.stop()


def front_of(database_url, email, requests, folder):
    """Return the front's instructions per request of `email`'s notes list, against a migrated
    database, with an object store of its own (bench/instructions.py's row of the front)."""
    store = services.ObjectStore("memo-bench").start()
    try:
        return front_per_request(database_url, store.environment(), email, requests, folder)
    finally:
        store.stop()


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--requests", type=int, default=200)
    options = parser.parse_args()
    folder = Path(tempfile.mkdtemp(prefix="memo-front-cpu-"))
    database = Database(folder)
    store = services.ObjectStore("memo-bench").start()
    try:
        release_phase(database.memo_url, store.environment())
        email, _ = seed_users(database)["reader"]
        per_request = front_per_request(
            database.memo_url, store.environment(), email, options.requests, folder
        )
        print(f"the front's own instructions per request: {per_request / 1e6:.2f} M")
    finally:
        store.stop()
        database.stop()


if __name__ == "__main__":
    main()
