"""The front's budgets and deadlines, driven in memory (tests/frontrig.py) from many loopback
addresses (127.x.y.z): each one reached, and what stays free for everyone else.
"""

import asyncio
import time
from contextlib import suppress

import pytest

from front import budgets
from front.budgets import Slots, Spool
from tests.frontrig import run

FORM = b"POST /auth/login HTTP/1.1\r\nHost: memo\r\nContent-Length: 400000\r\n%b\r\nx"
SIGNED_IN = b"Cookie: session=acct-1\r\n"
UPLOAD = (
    b"POST /mypage/photo HTTP/1.1\r\nHost: memo\r\nCookie: session=%b\r\n"
    b"Content-Length: 9000\r\n\r\nx"
)


async def hold(rig, source, raw):
    """Open a connection from `source`, send `raw` (a body begun, never finished); return it."""
    client = await rig.connect(source)
    await client.send(raw, b"POST")
    return client


async def status_of(rig, source, raw, rest=b""):
    """Send `raw` from `source` (then `rest`, the body's end) and return the answer's status."""
    client = await rig.connect(source)
    await client.send(raw, b"POST")
    if rest:
        await asyncio.sleep(0.05)
        await client.send(rest)
    status, _, _ = await client.response()
    client.close()
    return status


def test_anonymous_forms_cannot_take_the_bodies_kept_for_signed_in_sessions(tmp_path):
    async def scenario(rig):
        holders = [
            await hold(rig, f"127.0.{n // 16}.{1 + n % 16}", FORM % b"")
            for n in range(budgets.ANONYMOUS_BODY_SLOTS)
        ]
        await asyncio.sleep(0.1)
        stranger = await status_of(rig, "127.9.0.1", FORM % b"")
        small = b"POST /notes/1/edit HTTP/1.1\r\nHost: memo\r\nContent-Length: 1\r\n%b\r\n"
        signed_in = await status_of(rig, "127.9.0.2", small % SIGNED_IN, b"x")
        for client in holders:
            client.close()
        return stranger, signed_in, rig.front.anonymous.count

    assert run(scenario, tmp_path) == (429, 200, budgets.ANONYMOUS_BODY_SLOTS)


def test_one_64_holds_one_clients_share_of_bodies(tmp_path):
    async def scenario(rig):
        holders = []
        for n in range(budgets.BODY_SLOTS_PER_CLIENT):  # 16 addresses of one /64
            forwarded = b"X-Forwarded-For: 2001:db8:1:2::%x\r\n" % (n + 1)
            holders.append(await hold(rig, "127.0.0.1", FORM % forwarded))
        await asyncio.sleep(0.1)
        same = b"X-Forwarded-For: 2001:db8:1:2:ffff::1\r\n"
        other = b"X-Forwarded-For: 2001:db8:1:3::1\r\n"
        statuses = [await status_of(rig, "127.0.0.1", FORM % same)]
        holders.append(await hold(rig, "127.0.0.1", FORM % other))
        await asyncio.sleep(0.1)
        held = rig.front.arriving.count
        for client in holders:
            client.close()
        return statuses, held

    statuses, held = run(scenario, tmp_path, TRUSTED_PROXY_HOPS=1)
    assert statuses == [429] and held == budgets.BODY_SLOTS_PER_CLIENT + 1


def test_one_account_from_two_addresses_holds_two_upload_slots_not_all(tmp_path):
    async def scenario(rig):
        holders = [await hold(rig, f"127.0.1.{n}", UPLOAD % b"acct-1") for n in (1, 2)]
        await asyncio.sleep(0.2)
        third = await status_of(rig, "127.0.1.3", UPLOAD % b"acct-1")
        other = await hold(rig, "127.0.1.4", UPLOAD % b"acct-2")
        await asyncio.sleep(0.2)
        held = rig.front.uploads.count
        for client in [*holders, other]:
            client.close()
        return third, held

    assert run(scenario, tmp_path) == (429, 3)


def test_an_anonymous_upload_is_sent_to_sign_in_and_holds_nothing(tmp_path):
    async def scenario(rig):
        client = await rig.connect("127.0.2.1")
        await client.send(UPLOAD % b"nobody", b"POST")
        status, headers, _ = await client.response()
        return status, headers["location"], rig.front.uploads.count, rig.front.bodies.count

    assert run(scenario, tmp_path) == (302, "/auth/login?next=/mypage", 0, 0)


def test_a_share_past_the_form_limit_is_sent_to_a_page_that_says_what_to_do(tmp_path):
    """The share sheet's POST reaches the front only without Memo's service worker: a photo
    past 512 KiB gets a 303 to the new-note form, which says to open Memo once and share
    again; any other form past it, the front's 413. Neither body is read."""
    share = b"POST /notes/shared HTTP/1.1\r\nHost: memo\r\nContent-Length: 4000000\r\n\r\nx"
    chunked = (
        b"POST /notes/shared HTTP/1.1\r\nHost: memo\r\nTransfer-Encoding: chunked\r\n\r\n"
        + b"80000\r\n"
        + b"x" * 0x80000
        + b"\r\n"
        + b"10\r\n"
        + b"x" * 16
        + b"\r\n"
    )
    other = share.replace(b"/notes/shared", b"/notes/new")

    async def scenario(rig):
        answers = []
        for raw in (share, chunked, other):
            client = await rig.connect("127.0.3.1")
            await client.send(raw, b"POST")
            status, headers, _ = await client.response()
            client.close()
            answers.append((status, headers.get("location")))
        return answers, rig.front.bodies.count

    assert run(scenario, tmp_path) == (
        [(303, "/notes/new?left=all"), (303, "/notes/new?left=all"), (413, None)],
        0,
    )


def test_one_address_has_at_most_its_connections_and_others_still_connect(tmp_path):
    async def scenario(rig):
        mine = [await rig.connect("127.0.3.1") for _ in range(budgets.CONNECTIONS_PER_CLIENT)]
        extra = await rig.connect("127.0.3.1")
        refused = await extra.closed(timeout=1)
        other = await rig.connect("127.0.3.2")
        await other.send(b"GET /big?n=1 HTTP/1.1\r\nHost: memo\r\n\r\n", b"GET")
        status, _, _ = await other.response()
        for client in [*mine, other]:
            client.close()
        return refused, status

    assert run(scenario, tmp_path) == (True, 200)


@pytest.mark.parametrize("hops", [1, 0], ids=["behind-the-router", "direct"])
def test_when_the_dynos_connections_are_all_held_the_longest_waiting_one_gives_way(tmp_path, hops):
    """Behind the router every connection comes from its one address: a flood of silent
    connections takes every slot (2,048; 8 here), yet the next client is answered, and the
    connection that waited longest is closed for it. Without a router, 127.0.3.1 and
    127.0.3.2 fill the dyno's slots with their shares."""

    async def scenario(rig):
        rig.front.connections.slots = Slots(8, 8 if hops else 4)
        flood = [await rig.connect(f"127.0.3.{1 + n % 2 * (1 - hops)}") for n in range(8)]
        await asyncio.sleep(0.1)
        other = await rig.connect("127.0.3.9")
        await other.send(b"GET /big?n=1 HTTP/1.1\r\nHost: memo\r\n\r\n", b"GET")
        status, _, _ = await other.response()
        oldest_closed = await flood[0].closed(timeout=1)
        newest_open = not await flood[-1].closed(timeout=0.2)
        held = rig.front.connections.slots.count
        for client in [*flood, other]:
            client.close()
        return status, oldest_closed, newest_open, held

    assert run(scenario, tmp_path, TRUSTED_PROXY_HOPS=hops) == (200, True, True, 8)


def test_connections_with_a_request_in_flight_never_give_way(tmp_path):
    async def scenario(rig):
        rig.front.connections.slots = Slots(8, 8)
        bodies = [await hold(rig, f"127.0.3.{n + 1}", FORM % b"") for n in range(8)]
        await asyncio.sleep(0.1)
        newcomer = await rig.connect("127.0.3.9")
        try:
            await newcomer.send(b"GET /big?n=1 HTTP/1.1\r\nHost: memo\r\n\r\n", b"GET")
            status, _, _ = await newcomer.response()
        except ConnectionError:
            status = None  # aborted before the request was written
        still_open = [not await client.closed(timeout=0.05) for client in bodies]
        for client in [*bodies, newcomer]:
            client.close()
        return status, still_open

    assert run(scenario, tmp_path, TRUSTED_PROXY_HOPS=1) == (None, [True] * 8)


def test_a_new_connection_must_send_its_first_byte_within_the_header_deadline(tmp_path):
    async def scenario(rig):
        silent = await rig.connect()
        started = time.monotonic()
        closed = await silent.closed(timeout=3)
        return closed, time.monotonic() - started

    closed, seconds = run(scenario, tmp_path)  # FRONT_HEADER_SECONDS is 1 here, not 95
    assert closed and seconds < 2


def test_between_requests_a_connection_may_wait_longer_than_the_header_deadline(tmp_path):
    async def scenario(rig):
        client = await rig.connect()
        await client.send(b"GET /big?n=1 HTTP/1.1\r\nHost: memo\r\n\r\n", b"GET")
        await client.response()
        return await client.closed(timeout=1.5)

    assert run(scenario, tmp_path) is False


def test_a_body_trickled_within_each_read_deadline_is_cut_at_its_total_deadline(tmp_path):
    async def scenario(rig):
        client = await rig.connect()
        await client.send(b"POST /x HTTP/1.1\r\nHost: memo\r\nContent-Length: 100\r\n\r\n")
        started = time.monotonic()
        for _ in range(15):  # a byte every 0.4 s: inside the 1 s between reads
            await asyncio.sleep(0.4)
            try:
                await client.send(b"x")
            except ConnectionError:
                break
            if client.reader.at_eof():
                break
        cut = await client.closed(timeout=0.5)
        return cut, time.monotonic() - started, rig.backend.seen

    cut, seconds, seen = run(scenario, tmp_path)
    assert cut and 3 <= seconds < 4.5 and seen == []  # 3 x 1 s + 100 B at 8 KiB/s


def test_responses_past_the_dynos_spool_budget_get_503_and_one_response_is_capped(tmp_path):
    async def scenario(rig):
        rig.front.upstream.spool = Spool(total=12 * 2**20, each=8 * 2**20)
        reader = await rig.connect("127.0.4.1", receive_buffer=4096)
        await reader.send(b"GET /big?n=%d HTTP/1.1\r\nHost: memo\r\n\r\n" % (7 * 2**20), b"GET")
        await asyncio.sleep(0.3)  # the first response is held, fed to a reader who reads nothing
        held = rig.front.upstream.spool.used
        busy = await rig.connect("127.0.4.2")
        await busy.send(b"GET /big?n=%d HTTP/1.1\r\nHost: memo\r\n\r\n" % (6 * 2**20), b"GET")
        over_budget, headers, _ = await busy.response()
        large = await rig.connect("127.0.4.3")
        await large.send(b"GET /big?n=%d HTTP/1.1\r\nHost: memo\r\n\r\n" % (9 * 2**20), b"GET")
        too_large, _, _ = await large.response()
        reader.close()
        await asyncio.sleep(0.2)
        return (
            held,
            over_budget,
            headers.get("retry-after"),
            too_large,
            rig.front.upstream.spool.used,
        )

    held, over_budget, retry, too_large, left = run(scenario, tmp_path)
    assert held == 7 * 2**20
    assert (over_budget, retry, too_large, left) == (503, "30", 503, 0)


def test_a_response_read_within_each_write_deadline_is_let_go_at_its_total_deadline(tmp_path):
    async def scenario(rig):
        # Production's 30 s and then 8 KiB/s, scaled down: 1 s, then 1 MiB/s, so 8 MiB have
        # 9 s in all. The reader takes about 100 KiB/s: never 30 s without a byte.
        rig.front.send_grace, rig.front.send_rate = 1, 2**20
        reader = await rig.connect("127.0.4.1", receive_buffer=4096)
        await reader.send(b"GET /big?n=%d HTTP/1.1\r\nHost: memo\r\n\r\n" % (8 * 2**20), b"GET")
        taken = 0

        async def read_slowly():
            nonlocal taken
            with suppress(ConnectionError, TimeoutError):
                while data := await asyncio.wait_for(reader.reader.read(16 * 1024), 3):
                    taken += len(data)
                    await asyncio.sleep(0.15)

        reading = asyncio.create_task(read_slowly())
        started = time.monotonic()
        await asyncio.sleep(0.5)
        while rig.front.upstream.spool.used or rig.front.connections.open:
            await asyncio.sleep(0.1)
        let_go = time.monotonic() - started
        reading.cancel()
        return taken, let_go

    taken, let_go = run(scenario, tmp_path)
    # the front gave back the connection and the spooled answer long before the reader was done
    assert 8 <= let_go < 15 and taken < 4 * 2**20, (let_go, taken / 2**20)
