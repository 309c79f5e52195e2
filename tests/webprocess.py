"""A served web process seen from outside: its answers on a raw socket, how soon /healthz
answers, and the bytes its temporary files hold while clients send bodies.

Shared by the front's tests (tests/test_front.py, tests/test_front_attacks.py).
"""

import os
import threading
import time
from contextlib import suppress
from pathlib import Path

import psutil

from devenv.visitors import Visitor


def answer_of(sock, timeout=10):
    """Return the status code, header lines and body of the answer on `sock`."""
    sock.settimeout(timeout)
    received = b""
    with suppress(OSError):
        while b"\r\n\r\n" not in received:
            piece = sock.recv(4096)
            if not piece:
                break
            received += piece
    head, _, body = received.partition(b"\r\n\r\n")
    status, *lines = head.decode("latin-1").split("\r\n")
    length = next((int(line[15:]) for line in lines if line.startswith("Content-Length:")), 0)
    with suppress(OSError):
        while len(body) < length:
            piece = sock.recv(4096)
            if not piece:
                break
            body += piece
    return (status.split()[1] if status else ""), lines, body


def healthz_seconds(server):
    """Return how long /healthz takes to answer 200 on `server`."""
    started = time.monotonic()
    visitor = Visitor(server.url, timeout=5)
    assert visitor.get("/healthz").status == 200
    return time.monotonic() - started


def tempfile_folder(tmp_path):
    """Return a short folder for the web process's temporary files (socket paths are short)."""
    folder = tmp_path / "t"
    folder.mkdir()
    return folder


def temporary_bytes(server, folder):
    """Return the bytes the web process tree holds in files under `folder`, deleted ones too."""
    root = psutil.Process(server.process.pid)
    held = {}
    for process in [root, *root.children(recursive=True)]:
        with suppress(psutil.Error):
            for entry in os.scandir(f"/proc/{process.pid}/fd"):
                with suppress(OSError):
                    if os.readlink(entry.path).startswith(str(folder)):
                        stat = os.stat(entry.path)
                        held[(stat.st_dev, stat.st_ino)] = stat.st_size
    on_disk = sum(p.stat().st_size for p in Path(folder).rglob("*") if p.is_file())
    return max(sum(held.values()), on_disk)


def held_on_disk(server, folder, senders, seconds):
    """Run `senders` (each called with a stop event) for `seconds`; return the peak bytes the
    web process's temporary files held beyond those before, and /healthz's seconds at the end."""
    before = temporary_bytes(server, folder)
    stop = threading.Event()
    threads = [threading.Thread(target=send, args=(stop,)) for send in senders]
    for thread in threads:
        thread.start()
    try:
        peak = 0
        deadline = time.monotonic() + seconds
        while time.monotonic() < deadline:
            peak = max(peak, temporary_bytes(server, folder) - before)
            time.sleep(0.5)
        return peak, healthz_seconds(server)
    finally:
        stop.set()
        for thread in threads:
            thread.join(timeout=30)
