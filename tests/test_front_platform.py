"""The web front on the platform's terms: stopped as a dyno is, started with the stack's PATH,
refusing to start where its budgets cannot hold, and sharing its body slots fairly.

The platform sends SIGTERM to every process of a dyno at once (devenv/dyno.py); what the web
process has in flight at that moment, uploads still arriving and responses still being read,
must finish before it exits.
"""

import os
import resource
import subprocess
import sys
import threading
import time
from contextlib import closing, suppress

import requests

from devenv import dyno
from devenv.inflight import InFlight, connect
from devenv.liveserver import ROOT, free_port, production_environment
from devenv.visitors import Visitor
from front.budgets import (
    ANONYMOUS_BODY_SLOTS,
    BODY_SLOTS,
    BODY_SLOTS_PER_CLIENT,
)
from front.framing import client_address
from front.supervision import NEEDED_DESCRIPTORS
from tests.workers import wait_for


def signed_in(server, number):
    visitor = Visitor(server.url)
    assert visitor.signup(f"p{number}@example.com", f"phone{number}").status == 302
    visitor.get("/mypage")
    return visitor


def test_a_dyno_stopped_as_the_platform_does_finishes_uploads_and_slow_reads_in_flight(live_server):
    server = live_server(workers=2)
    phones = [signed_in(server, number) for number in range(4)]
    _, note_id = phones[0].create_note("A long note", "긴 메모 " * 4000)
    in_flight = InFlight(server.port, phones, f"/notes/{note_id}").start()
    time.sleep(1)  # every upload is under way, every reader has part of its answer
    started = time.monotonic()
    signalled = dyno.terminate(server.mark)
    assert len(signalled) >= 4  # the front, gunicorn's master and its two workers
    assert in_flight.finish() == []
    assert dyno.wait_gone(server.mark, 30), "the dyno outlived the platform's 30 s"
    assert server.process.wait(timeout=5) == 0
    assert time.monotonic() - started < 25


def answers(url):
    with suppress(requests.RequestException):
        return requests.get(url, timeout=2).ok
    return False


def test_the_web_command_serves_with_the_stacks_path_and_refuses_a_dyno_it_cannot_keep(
    postgres, object_store, tmp_path
):
    environ = production_environment(postgres.main_url, object_store.environment())
    port = free_port()
    environ.update(
        PORT=str(port),
        WEB_FRONT_HOST="127.0.0.1",
        WEB_CONCURRENCY="1",
        PATH=dyno.dyno_path(os.path.dirname(sys.executable)),
        PUBLIC_URL=f"http://127.0.0.1:{port}",
    )
    procfile = dict(
        line.split(":", 1) for line in (ROOT / "Procfile").read_text().splitlines() if line
    )
    web = dyno.Dyno("web.1", procfile["web"].strip(), ROOT, environ, tmp_path / "web.log").start()
    try:
        wait_for(
            lambda: answers(f"http://127.0.0.1:{port}/healthz"),
            timeout=30,
            message="the web dyno serving (its log: web.log)",
        )
    finally:
        code, seconds = web.stop()
    assert (code, seconds < 25) == (0, True)

    # A dyno allowing fewer descriptors than the front's connection budget needs.
    def few_descriptors():
        resource.setrlimit(resource.RLIMIT_NOFILE, (1024, 1024))

    refused = subprocess.run(
        ["bash", "-c", f"exec {procfile['web'].strip()}"],
        cwd=ROOT,
        env=environ,
        capture_output=True,
        text=True,
        timeout=60,
        preexec_fn=few_descriptors,  # noqa: PLW1509
    )
    assert refused.returncode != 0
    assert refused.stderr.strip().splitlines() == [
        f"memo: the web front needs {NEEDED_DESCRIPTORS} file descriptors and this dyno "
        "allows 1024: its connection budget would not hold"
    ]


def trickle_body(port, source, stop, statuses):
    """Announce a 1 KiB form body and send it a byte a second until `stop`."""
    with suppress(OSError), closing(connect(port, source)) as sock:
        sock.sendall(
            b"POST /auth/login HTTP/1.1\r\nHost: 127.0.0.1\r\n"
            b"Content-Type: application/x-www-form-urlencoded\r\nContent-Length: 1024\r\n\r\n"
        )
        sock.settimeout(1)
        while not stop.is_set():
            try:
                answer = sock.recv(64)
            except TimeoutError:
                sock.sendall(b"x")
                continue
            statuses.append(answer.split(b" ")[1].decode() if answer else "closed")
            return
        statuses.append("holding")


def hold_bodies(port, sources, stop, statuses):
    """Start a trickled anonymous form from each of `sources`; return the threads."""
    tricklers = [
        threading.Thread(target=trickle_body, args=(port, source, stop, statuses))
        for source in sources
    ]
    for trickler in tricklers:
        trickler.start()
    return tricklers


def test_one_address_trickling_128_bodies_leaves_others_to_save_at_once(live_server):
    server = live_server()
    ann = Visitor(server.url)
    assert ann.signup("ann@example.com", "ann").status == 302
    stop, statuses = threading.Event(), []
    tricklers = hold_bodies(server.port, ["127.0.0.2"] * 128, stop, statuses)
    try:
        wait_for(
            lambda: len(statuses) >= 128 - BODY_SLOTS_PER_CLIENT,
            timeout=20,
            message="the address's bodies past its share refused",
        )
        started = time.monotonic()
        response, note_id = ann.create_note("Saved", "while someone trickles")
        assert note_id is not None, response.status
        assert time.monotonic() - started < 1
        assert statuses.count("429") == 128 - BODY_SLOTS_PER_CLIENT
    finally:
        stop.set()
        for trickler in tricklers:
            trickler.join(timeout=10)


def test_eight_addresses_of_anonymous_forms_leave_signed_in_people_their_bodies(live_server):
    """The issue's attack: 8 addresses x 16 sign-in forms, each trickled, take every slot that
    anonymous forms may; signed-in people still save notes and upload photos at once."""
    server = live_server()
    ann = Visitor(server.url)
    assert ann.signup("ann@example.com", "ann").status == 302
    stop, statuses = threading.Event(), []
    sources = [f"127.0.8.{1 + n // BODY_SLOTS_PER_CLIENT}" for n in range(BODY_SLOTS)]
    tricklers = hold_bodies(server.port, sources, stop, statuses)
    try:
        wait_for(
            lambda: len(statuses) >= BODY_SLOTS - ANONYMOUS_BODY_SLOTS,
            timeout=20,
            message="the anonymous forms past their share refused",
        )
        for number in range(5):
            started = time.monotonic()
            response, note_id = ann.create_note(f"Saved {number}", "while strangers trickle")
            assert note_id is not None, response.status
            assert time.monotonic() - started < 1
        assert statuses.count("429") == BODY_SLOTS - ANONYMOUS_BODY_SLOTS
    finally:
        stop.set()
        for trickler in tricklers:
            trickler.join(timeout=10)


def test_the_client_address_is_the_routers_hop_not_what_the_client_wrote():
    forged = [(b"x-forwarded-for", b"203.0.113.9, 198.51.100.7")]  # the client wrote the first
    assert client_address(1, "10.1.2.3", forged) == "198.51.100.7"
    assert client_address(1, "10.1.2.3", []) == "10.1.2.3"
