"""An outsider's attempts to make the front and a proxy before it read different requests
(request smuggling), driven in memory (tests/frontrig.py). Each ambiguous framing is answered
400 and the connection closed, and nothing of it, or of what was pipelined after it, reaches
gunicorn; what is unambiguous is passed on re-framed with the front's own Content-Length.
"""

import json

import pytest

from front.budgets import CONNECTIONS_PER_CLIENT, Connections, client_key
from tests.frontrig import run

POST = b"POST /x HTTP/1.1\r\nHost: memo\r\n"
CHUNKED = POST + b"Transfer-Encoding: chunked\r\n\r\n"
NEXT = b"GET /big?n=1 HTTP/1.1\r\nHost: memo\r\n\r\n"  # pipelined: must never be smuggled in

REFUSED = {
    "cl-plus-sign": POST + b"Content-Length: +5\r\n\r\nhello" + NEXT,
    "cl-negative": POST + b"Content-Length: -1\r\n\r\n" + NEXT,
    "cl-list-differing": POST + b"Content-Length: 5, 50\r\n\r\nhello" + NEXT,
    "cl-twice-differing": POST + b"Content-Length: 5\r\nContent-Length: 6\r\n\r\nhello!" + NEXT,
    "cl-hex": POST + b"Content-Length: 0x5\r\n\r\nhello" + NEXT,
    "te-chunked-identity": POST + b"Transfer-Encoding: chunked, identity\r\n\r\n0\r\n\r\n" + NEXT,
    "te-identity-chunked": POST + b"Transfer-Encoding: identity, chunked\r\n\r\n0\r\n\r\n" + NEXT,
    "te-twice": POST + b"Transfer-Encoding: chunked\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\n",
    "te-space-before-colon": POST + b"Transfer-Encoding : chunked\r\n\r\n0\r\n\r\n" + NEXT,
    "te-xchunked": POST + b"Transfer-Encoding: xchunked\r\n\r\n0\r\n\r\n" + NEXT,
    "http-1.0-te-keep-alive": b"POST /x HTTP/1.0\r\nHost: memo\r\nConnection: keep-alive\r\n"
    b"Transfer-Encoding: chunked\r\n\r\n5\r\nhello\r\n0\r\n\r\n" + NEXT,
    "chunk-ext-lone-cr": CHUNKED + b"5;a\rb\r\nhello\r\n0\r\n\r\n" + NEXT,
    "chunk-ext-nul": CHUNKED + b"5;a\x00\r\nhello\r\n0\r\n\r\n" + NEXT,
    "chunk-ext-lf": CHUNKED + b"5;a\nb\r\nhello\r\n0\r\n\r\n" + NEXT,
    "chunk-size-bare-lf": CHUNKED + b"5\nhello\r\n0\r\n\r\n" + NEXT,
    "chunk-data-unended": CHUNKED + b"5\r\nhelloXX0\r\n\r\n" + NEXT,
    "chunk-size-overlong": CHUNKED + b"0" * 30 + b"5\r\nhello\r\n0\r\n\r\n" + NEXT,
    "chunk-size-negative": CHUNKED + b"-5\r\nhello\r\n0\r\n\r\n" + NEXT,
    "last-chunk-bare-lf": CHUNKED + b"5\r\nhello\r\n0\r\n\n" + NEXT,
    "trailer": CHUNKED + b"5\r\nhello\r\n0\r\nX-Trailer: 1\r\n\r\n" + NEXT,
    "trailer-bare-lf": CHUNKED + b"5\r\nhello\r\n0\r\nX-A: 1\nX-B: 2\r\n\r\n" + NEXT,
    "lone-cr-in-value": b"GET / HTTP/1.1\r\nHost: memo\r\nX-A: a\rb\r\n\r\n" + NEXT,
    "lone-cr-line-end": b"GET / HTTP/1.1\r\nHost: memo\r\nX-A: a\rContent-Length: 5\r\n\r\n",
    "nul-in-value": b"GET / HTTP/1.1\r\nHost: memo\r\nX-A: a\x00b\r\n\r\n" + NEXT,
    "nul-in-target": b"GET /a\x00b HTTP/1.1\r\nHost: memo\r\n\r\n" + NEXT,
    "space-in-name": b"GET / HTTP/1.1\r\nHost: memo\r\nX A: b\r\n\r\n" + NEXT,
    "first-line-folded": b"GET / HTTP/1.1\r\n X-A: b\r\nHost: memo\r\n\r\n" + NEXT,
    "http-2-preface": b"PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n",
    "http-0.9": b"GET /\r\n\r\n",
    "413-then-pipelined": POST + b"Content-Length: 99999999\r\n\r\n" + NEXT,
}


async def sent(rig, raw, answers=1):
    """Send `raw` on one connection; return the statuses read, whether the front closed, and
    the (target, body size, Content-Length) of each request gunicorn was sent."""
    client = await rig.connect()
    await client.send(raw, *[b"POST"] * answers)
    statuses = [(await client.response())[0] for _ in range(answers)]
    closed = await client.closed(timeout=1.5)
    seen = rig.backend.seen
    seen = [(target, size, fields.get("content-length")) for _, target, fields, size in seen]
    return statuses, closed, seen


@pytest.mark.parametrize("raw", REFUSED.values(), ids=REFUSED.keys())
def test_ambiguous_framing_is_refused_and_nothing_reaches_gunicorn(tmp_path, raw):
    statuses, closed, seen = run(lambda rig: sent(rig, raw), tmp_path)
    expected = 413 if raw.startswith(POST + b"Content-Length: 99") else 400
    assert (statuses, closed, seen) == ([expected], True, [])


PASSED_ON = {
    "cl-leading-zeros": POST + b"Content-Length: 005\r\n\r\nhello",
    "cl-list-equal": POST + b"Content-Length: 5, 5\r\n\r\nhello",
    "cl-twice-equal": POST + b"Content-Length: 5\r\nContent-Length: 5\r\n\r\nhello",
    "chunk-ext-token": CHUNKED + b"5;name=value\r\nhello\r\n0\r\n\r\n",
    "chunk-ext-quoted": CHUNKED + b'3;a="b c";d\r\nhel\r\n2\r\nlo\r\n0;e\r\n\r\n',
}


@pytest.mark.parametrize("raw", PASSED_ON.values(), ids=PASSED_ON.keys())
def test_unambiguous_lengths_reach_gunicorn_re_framed_by_the_front(tmp_path, raw):
    statuses, closed, seen = run(lambda rig: sent(rig, raw + NEXT, answers=2), tmp_path)
    assert statuses == [200, 200] and not closed
    assert seen == [(b"/x", 5, "5"), (b"/big?n=1", 0, None)]


def test_an_absolute_form_target_is_passed_on_as_sent_with_the_hosts_header(tmp_path):
    """RFC 9112 §3.2.2 asks an origin to take the host from an absolute-form target. The
    front frames nothing by it: gunicorn gets the target as sent (it serves the path) and the
    Host line as sent, the only host the app reads, as every client can write."""
    raw = b"GET http://evil.example/x HTTP/1.1\r\nHost: memo\r\n\r\n"

    async def scenario(rig):
        client = await rig.connect()
        await client.send(raw, b"GET")
        _, _, body = await client.response()
        return json.loads(body)["headers"]["host"], rig.backend.seen[0][1]

    assert run(scenario, tmp_path) == ("memo", b"http://evil.example/x")


def test_addresses_of_one_64_share_one_clients_connections():
    """2^64 IPv6 addresses are one client: 64 connections from one /64 in all, and another
    /64 still connects (without a router; behind one, clients are counted per request)."""
    connections = Connections(per_address=True)
    addresses = [f"2001:db8:1:2::{n + 1:x}" for n in range(CONNECTIONS_PER_CLIENT + 1)]
    taken = [connections.take(object(), client_key(address)) for address in addresses]
    other = connections.take(object(), client_key("2001:db8:1:3::1"))
    assert taken == [True] * CONNECTIONS_PER_CLIENT + [False] and other
