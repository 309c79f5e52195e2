"""Requests in flight when a dyno is stopped: a phone's photo upload still arriving and a slow
reader still taking its answer, with raw sockets (tests/test_front_platform.py, the release
drill). Each keeps the whole raw answer it got, or the error that cut it.
"""

import os
import select
import socket
import threading
import time
from contextlib import closing, suppress

from PIL import Image

from devenv.pictures import saved_as

BOUNDARY = "memo-test-boundary"


def phone_photo():
    """A JPEG of about 300 KB, as a phone sends (noise does not compress)."""
    image = Image.frombytes("RGB", (400, 300), os.urandom(400 * 300 * 3))
    return saved_as(image, "JPEG", quality=95)


def photo_request(port, visitor, photo):
    """Return the head and body of my page's photo form, as a browser sends it."""
    body = (
        (
            f'--{BOUNDARY}\r\nContent-Disposition: form-data; name="csrf_token"\r\n\r\n'
            f"{visitor.token}\r\n--{BOUNDARY}\r\n"
            'Content-Disposition: form-data; name="photo"; filename="photo.jpg"\r\n'
            "Content-Type: image/jpeg\r\n\r\n"
        ).encode()
        + photo
        + f"\r\n--{BOUNDARY}--\r\n".encode()
    )
    head = (
        f"POST /mypage/photo HTTP/1.1\r\nHost: 127.0.0.1:{port}\r\n"
        f"Cookie: {visitor.cookie_header()}\r\n"
        f"Content-Type: multipart/form-data; boundary={BOUNDARY}\r\n"
        f"Content-Length: {len(body)}\r\nConnection: close\r\n\r\n"
    ).encode()
    return head, body


def connect(port, source="127.0.0.1"):
    sock = socket.socket()
    sock.settimeout(40)
    sock.bind((source, 0))
    sock.connect(("127.0.0.1", port))
    return sock


def read_all(sock, pause=0.0):
    """Read until the server closes; return the bytes (pausing between reads, as a slow phone)."""
    received = b""
    with suppress(OSError):
        while piece := sock.recv(4096):
            received += piece
            time.sleep(pause)
    return received


def trickled_upload(port, source, head, body, seconds, outcome):
    """Send an upload in 20 pieces over `seconds`, then keep what the server answered. An
    answer that comes early (a refusal) ends the sending, as a browser's does: a client
    watches for one while it sends (RFC 9112, section 9.5)."""
    try:
        with closing(connect(port, source)) as sock:
            sock.sendall(head)
            step = len(body) // 20 + 1
            for start in range(0, len(body), step):
                if select.select([sock], [], [], 0)[0]:
                    break
                sock.sendall(body[start : start + step])
                time.sleep(seconds / 20)
            outcome.append(read_all(sock))
    except OSError as error:
        outcome.append(repr(error).encode())


def slow_read(port, cookie, path, outcome):
    """Ask for `path`, then read the answer 4 KiB at a time, 20 reads a second."""
    try:
        sock = socket.socket()
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4096)
        sock.settimeout(40)
        sock.connect(("127.0.0.1", port))
        with closing(sock):
            sock.sendall(
                f"GET {path} HTTP/1.1\r\nHost: 127.0.0.1\r\nCookie: {cookie}\r\n"
                "Connection: close\r\n\r\n".encode()
            )
            outcome.append(read_all(sock, pause=0.05))
    except OSError as error:
        outcome.append(repr(error).encode())


def whole(answer):
    """Return (status, body length, declared length) of a raw HTTP answer."""
    head, _, body = answer.partition(b"\r\n\r\n")
    lines = head.decode("latin-1").split("\r\n")
    declared = next(
        (int(x.split(":")[1]) for x in lines if x.lower().startswith("content-length")), -1
    )
    status = lines[0].split()[1] if lines[0].startswith("HTTP/") else lines[0]
    return status, len(body), declared


class InFlight:
    """Four phones uploading a photo (from four addresses) and two slow readers of `path`,
    started against one web process; `finish()` returns what went wrong, if anything."""

    def __init__(self, port, phones, path, seconds=4):
        self.uploads, self.reads = [], []
        self.threads = [
            threading.Thread(
                target=trickled_upload,
                args=(port, f"127.0.0.{2 + n}", *photo_request(port, phone, phone_photo())),
                kwargs={"seconds": seconds, "outcome": self.uploads},
            )
            for n, phone in enumerate(phones)
        ] + [
            threading.Thread(
                target=slow_read, args=(port, phones[0].cookie_header(), path, self.reads)
            )
            for _ in range(2)
        ]

    def start(self):
        for thread in self.threads:
            thread.start()
        return self

    def finish(self, timeout=40, busy_allowed=False):
        """Wait for every request; return a problem for each that was cut or refused.

        With `busy_allowed` (other people upload on the same dyno, as in the release drill),
        an upload turned away at once by a full budget (429 with Retry-After, before the stop)
        is not a problem, as long as at least two were taken and finished through the stop.
        """
        for thread in self.threads:
            thread.join(timeout=timeout)
        problems, saved = [], 0
        for answer in self.uploads:
            status, _, _ = whole(answer)
            if status == "302":
                saved += 1
            elif not (busy_allowed and status == "429" and b"Retry-After:" in answer):
                problems.append(f"a photo upload in flight got {status or answer[:60]!r}")
        if saved < (2 if busy_allowed else len(self.uploads)):
            problems.append(f"only {saved} of {len(self.uploads)} photo uploads were saved")
        for answer in self.reads:
            status, got, declared = whole(answer)
            if (status, got) != ("200", declared):
                problems.append(f"a slow reader got {status!r} with {got} of {declared} bytes")
        return problems
