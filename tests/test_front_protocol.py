"""The front's HTTP/1.1 framing, driven in memory (tests/frontrig.py): no process, milliseconds.

Each framing the front refuses is answered 400 and the connection closed, and nothing of it
reaches gunicorn (RFC 9112 §6.1: a request with both Content-Length and Transfer-Encoding
"ought to be handled as an error" and the connection closed).
"""

import json
import subprocess
import sys

import pytest

from front.budgets import client_key
from tests.frontrig import run
from tests.languages import FRONT_READERS, TRY_AGAIN

HOST = b"Host: memo\r\n"
HIDDEN = b"POST /notes/new HTTP/1.1\r\nHost: memo\r\nContent-Length: 30\r\n\r\ncontent="


async def refused_unseen(rig, raw):
    """Send `raw`; return the status, whether the front closed, and what gunicorn was sent."""
    client = await rig.connect()
    await client.send(raw, b"POST")
    status, headers, body = await client.response()
    return status, await client.closed(), [seen[1] for seen in rig.backend.seen], body


@pytest.mark.parametrize(
    "raw",
    [
        # The smuggling: framed by Content-Length, the rest is a hidden request.
        b"POST /auth/login HTTP/1.1\r\n" + HOST + b"Content-Length: 5\r\n"
        b"Transfer-Encoding: chunked\r\n\r\n0\r\n\r\n" + HIDDEN,
        b"POST /auth/login HTTP/1.1\r\n" + HOST + b"Transfer-Encoding: chunked\r\n"
        b"Content-Length: 40\r\n\r\n0\r\n\r\n" + HIDDEN,
        # obs-fold on a framing header, and on any header
        b"POST /auth/login HTTP/1.1\r\n" + HOST + b"Transfer-Encoding:\r\n chunked\r\n\r\n"
        b"0\r\n\r\n" + HIDDEN,
        b"GET / HTTP/1.1\r\n" + HOST + b"X-Note: a\r\n\tb\r\n\r\n",
        # bare LF line ends
        b"POST /auth/login HTTP/1.1\n" + HOST + b"Content-Length: 0\n\n" + HIDDEN,
        b"GET / HTTP/1.1\r\nHost: memo\nContent-Length: 0\r\n\r\n",
    ],
    ids=["cl-then-te", "te-then-cl", "obs-fold-te", "obs-fold", "bare-lf", "one-bare-lf"],
)
def test_ambiguous_framing_is_400_and_closes_and_nothing_reaches_gunicorn(tmp_path, raw):
    status, closed, seen, body = run(lambda rig: refused_unseen(rig, raw), tmp_path)
    assert (status, closed, seen) == (400, True, [])
    assert b'<a href="/">' in body


def test_connect_is_400_and_closes(tmp_path):
    raw = b"CONNECT example.com:443 HTTP/1.1\r\nHost: example.com:443\r\n\r\n"
    status, closed, seen, _ = run(lambda rig: refused_unseen(rig, raw), tmp_path)
    assert (status, closed, seen) == (400, True, [])


def test_headers_past_32_kib_are_431(tmp_path):
    raw = b"GET / HTTP/1.1\r\n" + HOST + b"X-Big: " + b"a" * 40_000 + b"\r\n\r\n"
    status, closed, seen, _ = run(lambda rig: refused_unseen(rig, raw), tmp_path)
    assert (status, closed, seen) == (431, True, [])


async def exchange(rig, raw, method=b"GET", hops=None):
    client = await rig.connect()
    await client.send(raw, method)
    status, headers, body = await client.response()
    return status, headers, body, client


def test_100_continue_is_answered_before_the_body_is_read(tmp_path):
    async def scenario(rig):
        client = await rig.connect()
        head = b"POST /x HTTP/1.1\r\n" + HOST + b"Expect: 100-continue\r\nContent-Length: 5\r\n\r\n"
        await client.send(head, b"POST")
        interim = await client.reader.readuntil(b"\r\n\r\n")
        await client.send(b"hello")
        return interim, await client.response()

    interim, (status, _, body) = run(scenario, tmp_path)
    assert interim.startswith(b"HTTP/1.1 100 ")
    assert (status, json.loads(body)["size"]) == (200, 5)


def test_head_gets_the_length_and_no_body_and_the_connection_goes_on(tmp_path):
    async def scenario(rig):
        client = await rig.connect()
        await client.send(b"HEAD /big?n=1000 HTTP/1.1\r\n" + HOST + b"\r\n", b"HEAD")
        head = await client.response()
        await client.send(b"GET /big?n=10 HTTP/1.1\r\n" + HOST + b"\r\n", b"GET")
        return head, await client.response()

    (status, headers, body), after = run(scenario, tmp_path)
    assert (status, headers["content-length"], body) == (200, "1000", b"")
    assert after[0] == 200 and after[2] == b"x" * 10


def test_pipelined_requests_are_answered_in_order(tmp_path):
    async def scenario(rig):
        client = await rig.connect()
        await client.send(
            b"".join(b"GET /big?n=%d HTTP/1.1\r\nHost: m\r\n\r\n" % n for n in (3, 5))
        )
        client.expected += [b"GET", b"GET"]
        return [await client.response(), await client.response()]

    first, second = run(scenario, tmp_path)
    assert (first[2], second[2]) == (b"xxx", b"xxxxx")


def test_http_1_0_is_answered_and_closed(tmp_path):
    async def scenario(rig):
        client = await rig.connect()
        await client.send(b"GET /big?n=2 HTTP/1.0\r\n\r\n")
        return await client.reader.read(65536), await client.closed()

    answer, closed = run(scenario, tmp_path)
    assert answer.startswith(b"HTTP/1.1 200 ") and answer.endswith(b"\r\n\r\nxx")
    assert closed


def test_upgrade_is_not_passed_on_and_the_answer_is_plain(tmp_path):
    raw = b"GET /ws HTTP/1.1\r\n" + HOST + b"Connection: Upgrade\r\nUpgrade: websocket\r\n\r\n"
    status, _, body, _ = run(lambda rig: exchange(rig, raw), tmp_path)
    sent = json.loads(body)["headers"]
    assert status == 200 and "upgrade" not in sent and sent["connection"] == "close"


def test_headers_named_in_connection_are_stripped_but_not_the_forwarding_ones(tmp_path):
    raw = (
        b"GET / HTTP/1.1\r\n" + HOST + b"Connection: keep-alive, X-Secret, X-Forwarded-For\r\n"
        b"X-Secret: 1\r\nX-Kept: 2\r\n\r\n"
    )
    _, _, body, _ = run(lambda rig: exchange(rig, raw), tmp_path)
    sent = json.loads(body)["headers"]
    assert "x-secret" not in sent and sent["x-kept"] == "2"
    assert sent["x-forwarded-for"] == "127.0.0.1"


def test_the_last_x_forwarded_proto_line_is_the_routers_and_no_other_scheme_header_passes(
    tmp_path,
):
    raw = (
        b"GET / HTTP/1.1\r\n" + HOST + b"X-Forwarded-Proto: https\r\nX-Forwarded-Ssl: on\r\n"
        b"X-Forwarded-Protocol: ssl\r\nX-Forwarded-For: 198.51.100.7\r\n"
        b"X-Forwarded-Proto: http\r\n\r\n"
    )
    _, _, body, _ = run(lambda rig: exchange(rig, raw), tmp_path, TRUSTED_PROXY_HOPS=1)
    sent = json.loads(body)["headers"]
    assert sent["x-forwarded-proto"] == "http"
    assert "x-forwarded-ssl" not in sent and "x-forwarded-protocol" not in sent


def test_without_a_router_nobody_may_claim_https(tmp_path):
    raw = b"GET / HTTP/1.1\r\n" + HOST + b"X-Forwarded-Proto: https\r\n\r\n"
    _, _, body, _ = run(lambda rig: exchange(rig, raw), tmp_path)
    assert json.loads(body)["headers"]["x-forwarded-proto"] == "http"


@pytest.mark.parametrize(("accept_language", "cookie", "language"), FRONT_READERS)
def test_the_fronts_own_pages_use_the_apps_language_rule_and_lead_back(
    tmp_path, accept_language, cookie, language
):
    from front.pages import Answer

    headers = [(b"accept-language", accept_language.encode())]
    if cookie:
        headers.append((b"cookie", cookie.encode()))
    answer = Answer.own(429, headers, "/")
    page = answer.body.read(100_000).decode()
    assert dict(answer.headers)[b"Content-Language"] == language.encode()
    assert f'<html lang="{language}">' in page and TRY_AGAIN[language] in page
    assert '<a href="/">' in page and "<style>" in page


def test_the_front_loads_no_flask():
    code = "import sys, front.supervision; print(sorted(m for m in sys.modules if 'flask' in m))"
    loaded = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True)
    assert loaded.stdout.strip() == "[]", loaded.stderr


# The key the front counts a client by, by its address.
CLIENT_KEYS = {
    "2001:db8:1:2:aaaa::1": "2001:db8:1:2::/64",
    "2001:db8:1:2:ffff:ffff:ffff:ffff": "2001:db8:1:2::/64",
    "2001:db8:1:3::1": "2001:db8:1:3::/64",
    "::ffff:192.0.2.1": "192.0.2.1",
    "192.0.2.1": "192.0.2.1",
    "local": "local",
}


@pytest.mark.parametrize(("address", "key"), CLIENT_KEYS.items())
def test_an_ipv6_client_is_its_64(address, key):
    assert client_key(address) == key
