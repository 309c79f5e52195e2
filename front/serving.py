"""The client's side of the front: whole requests read within deadlines and budgets, whole
responses fed back however slowly they are read. h11 does the framing; front/framing.py adds
the checks it lacks.
"""

import asyncio
import sys
from contextlib import suppress

import h11

from front import budgets
from front.bodies import Cut, Malformed, TooLarge, read_body, read_end, read_some
from front.budgets import Connections, Held, Slots, body_deadline, client_key, send_deadline
from front.framing import client_address, framing_fault, response_headers
from front.pages import Answer
from front.upstream import CHUNK, PARSED, Upstream

KEEPALIVE_SECONDS = 95  # the router keeps idle connections up to 90 s: stay open longer
# A client that takes nothing of the response for 30 s is dropped, and one that takes it
# slower than budgets.SEND_BYTES_PER_SECOND once the whole answer's deadline has passed.
SEND_SECONDS = 30
STOP_SECONDS = 25  # the platform's SIGKILL comes at 30 s
LINGER_SECONDS = 5  # after refusing a body: read and drop what still comes, so the answer is seen
MAX_HEADER_BYTES = 32 * 1024
FORM_LIMIT = 512 * 1024  # a 20,000-character note in any script is under 240 KiB


def warn(message):
    """Log one line to stderr as the app logs (logfmt), for the platform's log stream."""
    text = message.replace('"', "'")
    print(f'at=WARNING logger=memo.front msg="{text}"', file=sys.stderr, flush=True)


class Front:
    """The HTTP side: whole requests to gunicorn's socket, whole responses back."""

    def __init__(self, settings, socket_path):
        self.hops = settings.TRUSTED_PROXY_HOPS
        self.header_seconds = settings.FRONT_HEADER_SECONDS
        self.body_seconds = settings.FRONT_BODY_SECONDS
        self.upload_limit = settings.MAX_CONTENT_LENGTH + 64 * 1024  # the form around the file
        self.upload_paths = {path.encode() for path in settings.FRONT_UPLOAD_PATHS}
        self.probe_path = settings.FRONT_SESSION_PROBE.encode()
        self.sign_in_url = settings.FRONT_SIGN_IN_URL.encode()
        self.home = settings.FRONT_HOME_URL
        self.too_large_pages = {
            path.encode(): page.encode() for path, page in settings.FRONT_TOO_LARGE_PAGES.items()
        }
        self.upstream = Upstream(socket_path, self.hops, warn)
        # An answer of n bytes has SEND_SECONDS + n / SEND_BYTES_PER_SECOND in all.
        self.send_grace, self.send_rate = SEND_SECONDS, budgets.SEND_BYTES_PER_SECOND
        self.connections = Connections(per_address=not self.hops)
        # The dyno's bodies and anonymous forms (held until gunicorn answers), one address's
        # share of the bodies still arriving (given back once the body is whole), and uploads
        # by dyno, address and account.
        self.bodies = Slots(budgets.BODY_SLOTS, budgets.BODY_SLOTS)
        self.anonymous = Slots(budgets.ANONYMOUS_BODY_SLOTS, budgets.ANONYMOUS_BODY_SLOTS)
        self.arriving = Slots(budgets.BODY_SLOTS, budgets.BODY_SLOTS_PER_CLIENT)
        self.uploads = Slots(budgets.UPLOAD_SLOTS, budgets.UPLOAD_SLOTS_PER_CLIENT)
        self.accounts = Slots(budgets.UPLOAD_SLOTS, budgets.UPLOAD_SLOTS_PER_ACCOUNT)
        self.stopping = False
        self.server = None

    def own(self, status, headers, extra=()):
        return Answer.own(status, headers, self.home, extra)

    def too_large(self, path, headers):
        """Return the answer to a body past its limit: the front's 413, or a 303 to the page
        the app names for that path (config.py's FRONT_TOO_LARGE_PAGES)."""
        page = self.too_large_pages.get(path)
        if page is None:
            return self.own(413, headers)
        return Answer(303, [(b"Location", page), (b"Content-Length", b"0")], close=True)

    async def listen(self, host, port):
        self.server = await asyncio.start_server(self.connection, host, port, backlog=1024)

    def stop_listening(self):
        """Take no new connection; close those that wait for a request, let the rest finish."""
        self.stopping = True
        self.server.close()
        for task in list(self.connections.waiting):
            task.cancel()

    async def finish(self, seconds):
        """Wait up to `seconds` for the requests in flight, then drop what is left."""
        if self.connections.open:
            await asyncio.wait(list(self.connections.open), timeout=seconds)
        for task in list(self.connections.open):
            task.cancel()

    async def connection(self, reader, writer):
        task = asyncio.current_task()
        peer = writer.get_extra_info("peername")
        peer = peer[0] if isinstance(peer, tuple) else "local"
        key = client_key(peer)
        if self.stopping or not self.connections.take(task, key):
            writer.transport.abort()
            return
        writer.transport.set_write_buffer_limits(high=CHUNK)
        http = h11.Connection(h11.SERVER, max_incomplete_event_size=MAX_HEADER_BYTES)
        try:
            await self.converse(http, reader, writer, peer, task)
        except (ConnectionError, TimeoutError, Cut, h11.ProtocolError, asyncio.CancelledError):
            pass
        except Exception as error:  # a fault of the front's own: answered and logged, not silent
            warn(f"500: the front failed on a request ({error!r})")
            if http.our_state in (h11.IDLE, h11.SEND_RESPONSE):
                await self.refuse(http, reader, writer, self.own(500, []))
        finally:
            self.connections.give_back(task)
            writer.close()
            # What is still buffered goes out, within SEND_SECONDS.
            with suppress(OSError, TimeoutError, asyncio.CancelledError):
                await asyncio.wait_for(writer.wait_closed(), SEND_SECONDS)
            writer.transport.abort()

    async def converse(self, http, reader, writer, peer, task):
        """Answer the connection's requests one after another until it or the front closes."""
        first = True
        while True:
            self.connections.waiting[task] = None
            try:
                request, head = await self.read_head(http, reader, first)
            except h11.RemoteProtocolError as error:
                status = 431 if error.error_status_hint == 431 else 400
                await self.refuse(http, reader, writer, self.own(status, []))
                return
            self.connections.waiting.pop(task, None)
            if request is None:
                return
            if len(head) > MAX_HEADER_BYTES:  # h11 bounds only a head still incomplete
                await self.refuse(http, reader, writer, self.own(431, list(request.headers)))
                return
            headers = list(request.headers)
            fields = dict(headers)
            fault = framing_fault(head, fields, request.http_version)
            if fault or request.method == b"CONNECT":
                warn(f"400: {fault or 'CONNECT is not served'} (client {peer})")
                await self.refuse(http, reader, writer, self.own(400, headers))
                return
            if not await self.respond(http, reader, writer, request, headers, fields, peer):
                return
            if http.our_state is not h11.DONE or http.their_state is not h11.DONE:
                return
            if self.stopping:
                return
            http.start_next_cycle()
            first = False

    async def read_head(self, http, reader, first):
        """Return the next request's head and its raw bytes, or (None, b"") when the client
        leaves or misses its deadline.

        A new connection must send its whole first head within FRONT_HEADER_SECONDS; between
        requests it may wait 95 s for the first byte, then has FRONT_HEADER_SECONDS for the rest.
        """
        loop = asyncio.get_running_loop()
        raw = http.trailing_data[0]
        deadline = loop.time() + self.header_seconds if first or raw else None
        while True:
            event = http.next_event()
            if event is not h11.NEED_DATA:
                if not isinstance(event, h11.Request):
                    return None, b""
                return event, raw[: len(raw) - len(http.trailing_data[0])]
            wait = KEEPALIVE_SECONDS if deadline is None else deadline - loop.time()
            data = await read_some(reader, wait)
            if data is None:
                return None, b""
            if deadline is None:
                deadline = loop.time() + self.header_seconds
            raw += data
            http.receive_data(data)

    async def respond(self, http, reader, writer, request, headers, fields, peer):
        """Answer one request; return whether the connection may carry another."""
        path = request.target.split(b"?", 1)[0]
        upload = path in self.upload_paths
        limit = self.upload_limit if upload else FORM_LIMIT
        length = fields.get(b"content-length")  # h11 let through digits only, one value
        length = None if length is None else int(length)
        chunked = b"transfer-encoding" in fields
        if length is not None and length > limit:
            return await self.refuse(http, reader, writer, self.too_large(path, headers))
        held = Held()
        body, size, answer = None, 0, None
        try:
            if chunked or length:
                client = client_key(client_address(self.hops, peer, headers))
                answer = await self.admit(headers, fields, peer, client, upload, held)
                if answer is None:
                    seconds = body_deadline(self.body_seconds, length if length else limit)
                    body, size = await read_body(
                        http, reader, writer, limit, seconds, chunked, self.body_seconds
                    )
                    held.give_back(self.arriving)  # the address's share: bodies still arriving
            else:
                await read_end(http, reader, self.body_seconds)
            if answer is None:
                answer = await self.upstream.exchange(
                    request.method, request.target, headers, peer, body, size, self.home
                )
                held.give_back()  # the dyno's slots: until gunicorn has answered
                if body is not None:  # the request's body is not kept while a reader reads
                    body.close()
                return await self.send(http, writer, answer)
        except Malformed as error:
            warn(f"400: {error} (client {peer})")
            answer = self.own(400, headers)
        except TooLarge:
            answer = self.too_large(path, headers)
        finally:
            held.give_back()
            if body is not None:
                body.close()
        # A refusal: the slots are back before the front lingers over what the client still sends.
        return await self.refuse(http, reader, writer, answer)

    async def admit(self, headers, fields, peer, client, upload, held):
        """Take the body's slots into `held` (cheap counts first, then the app's session
        check where needed); return the front's refusal, if any."""
        busy = self.own(429, headers, [(b"Retry-After", b"30")])
        for slots in (self.arriving, self.bodies, *((self.uploads,) if upload else ())):
            if not held.take(slots, client):
                warn(f"429: a body budget is full (client {client}, {slots.count} held)")
                return busy
        if not upload and held.take(self.anonymous, client):
            return None
        if b"cookie" not in fields:
            account = None  # no session to ask about
        else:
            account = await self.signed_in_account(headers, peer)
            if isinstance(account, Answer):
                return account
        if account is None and upload:
            location = (b"Location", self.sign_in_url)
            return Answer(302, [location, (b"Content-Length", b"0")], close=True)
        if account is None:
            warn(f"429: anonymous bodies take their whole share (client {client})")
            return busy
        if upload and not held.take(self.accounts, account):
            warn(f"429: an account holds its upload slots (client {client})")
            return busy
        return None

    async def signed_in_account(self, headers, peer):
        """Ask the app whether the request's session is live (no body passed): return its
        account's id, None for no session, or the front's 502 if the app could not say."""
        probe = [(n, v) for n, v in headers if n not in (b"content-type", b"content-length")]
        answer = await self.upstream.exchange(b"GET", self.probe_path, probe, peer, None, 0)
        self.upstream.release(answer)
        if answer.status == 401:
            return None
        account = [v for n, v in answer.headers if n.lower() == b"x-memo-account"]
        if answer.status != 204 or not account:
            return self.own(502, headers)
        return account[0]

    async def send(self, http, writer, answer):
        """Send a whole answer, dropping a client that takes nothing for SEND_SECONDS or
        misses the answer's whole deadline (`send_deadline`)."""
        loop = asyncio.get_running_loop()
        until = loop.time() + send_deadline(self.send_grace, answer.size, self.send_rate)
        try:
            headers = response_headers(answer.headers)
            if answer.status not in (204, 304):
                # gunicorn's own length for HEAD; the bytes taken for everything else
                given = [v for n, v in answer.headers if n.lower() == b"content-length"]
                length = given[0] if given and answer.size == 0 else str(answer.size).encode()
                headers.append((b"Content-Length", length))
            if answer.close or self.stopping:
                headers.append((b"Connection", b"close"))
            # Every name and value here is h11's parse of gunicorn's (or the front's own
            # constants): h11 need not match each against its grammar again (PARSED).
            response = h11.Response(
                status_code=answer.status, headers=headers, reason=answer.reason_phrase, **PARSED
            )
            out = http.send(response)
            while answer.body is not None and (chunk := answer.body.read(CHUNK)):
                out += http.send(h11.Data(data=chunk))
                if len(out) >= CHUNK:  # a small answer goes out in one write
                    await self.write(writer, out, until)
                    out = b""
            await self.write(writer, out + http.send(h11.EndOfMessage()), until)
        finally:
            self.upstream.release(answer)
        return not answer.close

    async def write(self, writer, data, until=None):
        """Write `data`; raise TimeoutError past SEND_SECONDS, or past `until` (loop time)."""
        if data:
            writer.write(data)
            seconds = SEND_SECONDS
            if until is not None:
                seconds = min(seconds, until - asyncio.get_running_loop().time())
            try:
                await asyncio.wait_for(writer.drain(), max(seconds, 0))
            except TimeoutError:
                writer.transport.abort()  # not closed gently: that would wait on the reader
                raise

    async def refuse(self, http, reader, writer, answer):
        """Answer without reading the body, then read and drop what still comes, and close."""
        if http.our_state not in (h11.IDLE, h11.SEND_RESPONSE):
            self.upstream.release(answer)
            return False
        answer.close = True
        await self.send(http, writer, answer)
        writer.write_eof()
        self.connections.waiting[asyncio.current_task()] = None  # lingering: first to go
        loop = asyncio.get_running_loop()
        until = loop.time() + STOP_SECONDS
        while loop.time() < until and await read_some(reader, LINGER_SECONDS):
            pass
        return False
