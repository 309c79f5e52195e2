"""Slow clients under gunicorn as the Procfile runs it: they hold no thread that others need.

Twelve connections trickle: six send their request headers one line a second, six send
their headers at once and then a form body one byte a second. Meanwhile /healthz must answer
within a second, and the trickling clients still get their answers once they finish.
"""

import socket
import time
import urllib.request
from contextlib import closing

from devenv.trickle import slow_body, slow_headers

TRICKLING = 12


def healthz_seconds(url):
    """Return how long GET /healthz took to answer 200 (at most 5 s)."""
    started = time.monotonic()
    with urllib.request.urlopen(f"{url}/healthz", timeout=5) as response:
        assert response.status == 200
    return time.monotonic() - started


def test_trickling_clients_hold_no_thread_that_healthz_needs(live_server):
    server = live_server(workers=2)  # 2 workers, as many threads as WEB_THREADS: fewer than 12
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
