"""Slow clients under gunicorn as the Procfile runs it: they hold no thread that others need.

Twelve connections trickle: six send their request headers one line a second, six send
their headers at once and then a form body one byte a second. Meanwhile /healthz must answer
within a second, and the trickling clients still get their answers once they finish.
"""

import socket
import threading
import time
import urllib.request
from contextlib import closing

TRICKLING = 12
BODY_BYTES = 12


class Trickler(threading.Thread):
    """One client sending its request a piece a second, then reading the status line."""

    def __init__(self, port, pieces):
        super().__init__(daemon=True)
        self.port = port
        self.pieces = pieces
        self.status_line = None
        self.error = None
        self.connected = threading.Event()

    def run(self):
        try:
            with closing(socket.create_connection(("127.0.0.1", self.port), timeout=60)) as sock:
                self.connected.set()
                for piece in self.pieces:
                    sock.sendall(piece)
                    time.sleep(1)
                self.status_line = sock.makefile("rb").readline().decode().strip()
        except OSError as error:
            self.error = error
            self.connected.set()


def slow_headers(port):
    """GET /healthz with its request line and headers sent one line a second."""
    lines = [
        "GET /healthz HTTP/1.1\r\n",
        f"Host: 127.0.0.1:{port}\r\n",
        "User-Agent: trickle\r\n",
        "Accept: */*\r\n",
        "X-Slow-1: a\r\n",
        "X-Slow-2: b\r\n",
        "Connection: close\r\n",
        "\r\n",
    ]
    return Trickler(port, [line.encode() for line in lines])


def slow_body(port):
    """POST a form to the login page, its body sent one byte a second."""
    head = (
        "POST /auth/login HTTP/1.1\r\n"
        f"Host: 127.0.0.1:{port}\r\n"
        "Content-Type: application/x-www-form-urlencoded\r\n"
        f"Content-Length: {BODY_BYTES}\r\n"
        "Connection: close\r\n\r\n"
    )
    body = b"email=x&pa=y"
    assert len(body) == BODY_BYTES
    return Trickler(port, [head.encode(), *(body[i : i + 1] for i in range(len(body)))])


def healthz_seconds(url):
    """Return how long GET /healthz took to answer 200 (at most 5 s)."""
    started = time.monotonic()
    with urllib.request.urlopen(f"{url}/healthz", timeout=5) as response:
        assert response.status == 200
    return time.monotonic() - started


def test_trickling_clients_hold_no_thread_that_healthz_needs(live_server):
    server = live_server()  # 2 workers, as many threads as WEB_THREADS: fewer than 12
    port = server.port
    clients = [slow_headers(port) for _ in range(6)] + [slow_body(port) for _ in range(6)]
    for client in clients:
        client.start()
    for client in clients:
        assert client.connected.wait(5)
    time.sleep(2)  # every client has sent its first bytes and is trickling the rest
    waits = [healthz_seconds(server.url) for _ in range(3)]
    assert max(waits) < 1, waits
    for client in clients:
        client.join(timeout=60)
    assert [client.error for client in clients] == [None] * TRICKLING
    statuses = [client.status_line.split()[1] for client in clients]
    # The login form carries no CSRF token: 400, but answered, as /healthz is.
    assert statuses == ["200"] * 6 + ["400"] * 6, statuses


def test_a_body_over_the_limit_is_refused_with_413_not_buffered(live_server):
    server = live_server()
    body = b"email=" + b"x" * (11 * 1024 * 1024)  # MAX_CONTENT_LENGTH is 10 MB
    head = (
        "POST /auth/login HTTP/1.1\r\n"
        f"Host: 127.0.0.1:{server.port}\r\n"
        "Content-Type: application/x-www-form-urlencoded\r\n"
        "Transfer-Encoding: chunked\r\n"
        "Connection: close\r\n\r\n"
    )
    with closing(socket.create_connection(("127.0.0.1", server.port), timeout=30)) as sock:
        sock.sendall(head.encode())
        try:
            for start in range(0, len(body), 1024 * 1024):
                piece = body[start : start + 1024 * 1024]
                sock.sendall(b"%x\r\n%s\r\n" % (len(piece), piece))
            sock.sendall(b"0\r\n\r\n")
        except OSError:
            pass  # the server may answer and close before the whole body is sent
        status_line = sock.makefile("rb").readline().decode()
    assert status_line.split()[1] == "413", status_line
    assert server.answers("/healthz")
