"""The issue's attacks on the Procfile's web process (the front before gunicorn and the app),
for what only a process shows: gunicorn's own answers, and the disk bodies really take.
"""

import resource
import socket
from contextlib import closing, suppress
from functools import partial
from pathlib import Path

from front.budgets import ANONYMOUS_BODY_SLOTS, BODY_SLOTS_PER_CLIENT, MAX_CONNECTIONS
from front.serving import FORM_LIMIT
from tests.webprocess import answer_of, healthz_seconds, held_on_disk, tempfile_folder

MiB = 1024 * 1024


def test_a_clients_own_scheme_headers_never_reach_gunicorn_which_would_answer_a_bare_400(
    live_server,
):
    server = live_server()
    with closing(socket.create_connection(("127.0.0.1", server.port), timeout=10)) as sock:
        sock.sendall(
            b"GET /auth/login HTTP/1.1\r\nHost: 127.0.0.1\r\nX-Forwarded-Ssl: on\r\n"
            b"X-Forwarded-Protocol: ssl\r\nAccept-Language: ko\r\n\r\n"
        )
        status, _, body = answer_of(sock)
    assert status == "200" and "로그인" in body.decode()


def send_form_then_hold(port, source, size, stop):
    """Send an anonymous sign-in form of `size` bytes but its last byte, then hold on."""
    head = (
        "POST /auth/login HTTP/1.1\r\nHost: 127.0.0.1\r\n"
        "Content-Type: application/x-www-form-urlencoded\r\n"
        f"Content-Length: {size}\r\n\r\n"
    ).encode()
    with suppress(OSError), closing(socket.socket()) as sock:
        sock.settimeout(30)
        sock.bind((source, 0))
        sock.connect(("127.0.0.1", port))
        sock.sendall(head + b"x" * (size - 1))
        stop.wait(60)


def test_form_bodies_really_read_from_many_addresses_hold_bounded_disk(live_server, tmp_path):
    """Forms just under the limit from 10 addresses x 16: the front reads every one it admits
    (96 anonymous bodies, about 48 MiB), and no more."""
    folder = Path(tempfile_folder(tmp_path))
    server = live_server(TMPDIR=str(folder), FRONT_BODY_SECONDS="20")
    size = FORM_LIMIT - 1024
    sources = [f"127.0.9.{1 + n // BODY_SLOTS_PER_CLIENT}" for n in range(160)]
    senders = [partial(send_form_then_hold, server.port, source, size) for source in sources]
    peak, healthz = held_on_disk(server, folder, senders, seconds=8)
    read = ANONYMOUS_BODY_SLOTS * size
    assert 0.5 * read < peak <= read + MiB, f"{peak / MiB:.0f} MiB of temporary files"
    assert healthz < 1


def test_a_flood_of_silent_connections_from_one_address_leaves_healthz_to_another(live_server):
    """Issue #48's 2,100 silent connections from one address, against the production front
    (behind a router, where every connection comes from the router's address): /healthz from
    another address is answered while every one of them is still open on the client's side."""
    server = live_server()
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    resource.setrlimit(resource.RLIMIT_NOFILE, (max(soft, min(hard, 4 * MAX_CONNECTIONS)), hard))
    flood = []
    try:
        for _ in range(MAX_CONNECTIONS + 52):
            sock = socket.socket()
            flood.append(sock)
            sock.settimeout(10)
            sock.bind(("127.0.3.1", 0))
            with suppress(OSError):
                sock.connect(("127.0.0.1", server.port))
        assert healthz_seconds(server) < 3
    finally:
        for sock in flood:
            sock.close()
