"""Clients that send their requests a piece a second: the slow-client tests and benchmarks."""

import socket
import threading
import time
from contextlib import closing

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
