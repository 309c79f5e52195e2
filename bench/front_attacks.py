"""Benchmark: the web front's memory and disk under the attacks of issue #48.

    .venv/bin/python bench/front_attacks.py

Starts the Procfile's web process (ProductionConfig, a throwaway PostgreSQL and object store),
then plays each attack from many loopback addresses (127.x.y.z) and prints the front
process's RSS and the bytes of its temporary folder (spooled bodies and responses) at the
peak, with whether /healthz still answered within a second.
"""

import os
import resource
import socket
import threading
import time
from contextlib import suppress
from pathlib import Path

import psutil

from devenv.liveserver import Front, free_port, production_environment, release_phase
from devenv.services import ObjectStore, ensure_database, throwaway_postgres
from devenv.visitors import Visitor


def open_from(port, source, head=b"", receive_buffer=None):
    sock = socket.socket()
    if receive_buffer:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, receive_buffer)
    sock.settimeout(30)
    sock.bind((source, 0))
    with suppress(OSError):
        sock.connect(("127.0.0.1", port))
        sock.sendall(head)
    return sock


def held_bytes(front, folder):
    """Return the bytes of the files under `folder` the front holds open (deleted ones too)."""
    sizes = {}
    for entry in os.scandir(f"/proc/{front.pid}/fd"):
        with suppress(OSError):
            if os.readlink(entry.path).startswith(str(folder)):
                stat = os.stat(entry.path)
                sizes[(stat.st_dev, stat.st_ino)] = stat.st_size
    return sum(sizes.values())


def measure(server, folder, seconds=6):
    """Return the peak RSS (MiB) of the front and of its folder's files, and /healthz's time."""
    front = psutil.Process(server.process.pid)
    peak_rss = peak_disk = 0
    until = time.monotonic() + seconds
    while time.monotonic() < until:
        peak_rss = max(peak_rss, front.memory_info().rss)
        peak_disk = max(peak_disk, held_bytes(front, folder))
        time.sleep(0.25)
    started = time.monotonic()
    try:
        Visitor(server.url, timeout=5).get("/healthz")
        healthz = f"{time.monotonic() - started:.2f} s"
    except OSError as error:
        healthz = f"no answer ({type(error).__name__})"
    return peak_rss / 2**20, peak_disk / 2**20, healthz


def silent_connections(port, _cookie, _path):
    return [open_from(port, "127.0.3.1") for _ in range(2100)]


def anonymous_forms(port, _cookie, _path):
    head = (
        b"POST /auth/login HTTP/1.1\r\nHost: m\r\nContent-Length: 400000\r\n"
        b"Content-Type: application/x-www-form-urlencoded\r\n\r\n" + b"x" * 399_999
    )
    return [open_from(port, f"127.0.8.{1 + n // 16}", head) for n in range(160)]


def slow_readers(port, cookie, path):
    head = f"GET {path} HTTP/1.1\r\nHost: m\r\nCookie: {cookie}\r\n\r\n".encode()
    return [open_from(port, f"127.0.5.{1 + n // 50}", head, 4096) for n in range(300)]


ATTACKS = {
    "none (idle)": lambda *_: [],
    "2,100 silent connections from one address": silent_connections,
    "160 anonymous 400 kB forms from 10 addresses, last byte held": anonymous_forms,
    "300 readers of the notes list (100 notes) reading nothing": slow_readers,
}


def main():
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)  # 2,100 sockets of our own
    resource.setrlimit(resource.RLIMIT_NOFILE, (max(soft, min(hard, 8192)), hard))
    postgres, folder = throwaway_postgres("memo-attacks-")
    ensure_database(postgres.get_uri(), "memo", recreate=True)
    database = postgres.get_uri("memo")
    store = ObjectStore("memo-bench-attacks").start()
    release_phase(database, store.environment())
    temporary = Path(folder) / "t"
    temporary.mkdir(exist_ok=True)
    environ = production_environment(
        database, store.environment(), PORT=str(free_port()), TMPDIR=str(temporary)
    )
    environ["WEB_CONCURRENCY"] = "2"
    server = Front(environ, Path(folder) / "web.log", 2)
    server.start()
    try:
        visitor = Visitor(server.url)
        visitor.signup("bench@example.com", "bench")
        for number in range(100):
            visitor.create_note(f"note {number}", "words " * 200)
        cookie = visitor.cookie_header()
        print("| attack | front RSS, MiB | temporary files, MiB | /healthz after |")
        print("|---|---|---|---|")
        for name, attack in ATTACKS.items():
            sockets = []
            thread = threading.Thread(
                target=lambda a=attack, held=sockets: held.extend(a(server.port, cookie, "/"))
            )
            thread.start()
            rss, disk, healthz = measure(server, temporary)
            thread.join()
            print(f"| {name} | {rss:.0f} | {disk:.1f} | {healthz} |", flush=True)
            for sock in sockets:
                sock.close()
            time.sleep(2)
    finally:
        server.stop()
        store.stop()
        postgres.cleanup()


if __name__ == "__main__":
    main()
