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
import re
import subprocess
import tempfile
import time
from pathlib import Path

from bench.seeding import Database, seed_users, sign_in
from devenv import services
from devenv.liveserver import LiveServer, release_phase
from devenv.visitors import Visitor

DUMP = re.compile(r"^desc: Trigger: .*?(front \d+)", re.MULTILINE)
# A dump's `summary` counts what ran since the last zero or dump; its `totals` line, in the first
# dump after a zero, also carries the frames already running then (bench/instructions.py).
SUMMARY = re.compile(r"^summary: (\d+)", re.MULTILINE)
START_SECONDS = 300  # the front's imports and start, instrumented from the first instruction


def control(pid, *options):
    """Send callgrind_control's `options` to the valgrind run `pid`."""
    subprocess.run(["callgrind_control", *options, str(pid)], check=True, capture_output=True)


def dumps(folder):
    """Return {dump name: instructions} of the front's dumps in `folder`."""
    found = {}
    for path in folder.glob("front.out*"):
        text = path.read_text(errors="replace")
        name, summary = DUMP.search(text), SUMMARY.search(text)
        if name and summary:
            found[name[1]] = int(summary[1])
    return found


def dump(pid, folder, name, seconds=120):
    """Have valgrind write the dump `name`, and wait until it has."""
    control(pid, f"--dump={name}")
    deadline = time.monotonic() + seconds
    while name not in dumps(folder):
        if time.monotonic() > deadline:
            raise RuntimeError(f"callgrind wrote no dump {name!r}")
        time.sleep(0.2)


def serve(visitor, requests):
    for _ in range(requests):
        response = visitor.get("/")
        assert response.status == 200, response.status


def front_per_request(database_url, store_environment, email, requests, folder):
    """Return the front's instructions per request of the signed-in notes list."""
    server = LiveServer(database_url, store_environment, folder / "front.log", workers=1)
    server.command = [
        "valgrind",
        "--tool=callgrind",
        f"--callgrind-out-file={folder / 'front.out'}",
        f"--log-file={folder / 'front-valgrind.log'}",
        *server.command,
    ]
    server.start(timeout=START_SECONDS)
    try:
        visitor = Visitor(server.url, timeout=120, behind_router=True)
        sign_in(visitor, email)
        serve(visitor, 2 * requests)  # warm up
        control(server.process.pid, "--zero")
        serve(visitor, requests)
        dump(server.process.pid, folder, f"front {requests}")
        serve(visitor, 2 * requests)
        dump(server.process.pid, folder, f"front {2 * requests}")
    finally:
        server.stop()
    counted = dumps(folder)
    return (counted[f"front {2 * requests}"] - counted[f"front {requests}"]) / requests


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
