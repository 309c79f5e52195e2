"""The web process: Memo's request front before gunicorn on a Unix socket.

Usage (the Procfile's `web:` line): `python front.py gunicorn wsgi:app`.

The front reads every request whole (headers within 10 s, a body at most 10 s between reads
and within its size limit) before gunicorn sees it, and takes every response whole from
gunicorn however slowly the client reads it. So a slow, stalled or vanished client holds no
gunicorn thread and no database connection, and a body cut short never reaches Flask. Bodies
hold bounded memory, disk and descriptors: at most 128 at once per dyno and 16 per client
address, uploads (photos, imports) 4 and 2, and an upload's body is read only once the app
says its session is live. See docs/security.md, "The request front".

It is one asyncio process (on uvloop); h11 (python-hyper's HTTP/1.1 library, pinned in
requirements.txt) does all the HTTP framing, both towards clients and towards gunicorn. So the
same program runs in development, CI and production, whatever the platform's stack has.

Stopping. The platform sends SIGTERM to every process of the dyno at once, possibly more than
once, and SIGKILL 30 s later (https://devcenter.heroku.com/articles/dyno-shutdown-behavior).
On the first SIGTERM (or SIGINT, SIGHUP) the front stops listening, closes idle connections,
and finishes every request in flight, bodies still arriving included, within 25 s; then it
stops gunicorn with SIGINT. gunicorn ignores SIGTERM while the front runs it (gunicorn.conf.py
knows it by its Unix socket), so the platform's SIGTERM does not stop it under requests the
front still has to pass on. gunicorn runs in a process group of its own (Ctrl-C reaches the
front alone) and gets SIGINT from the kernel if the front dies first (PR_SET_PDEATHSIG).
"""

import asyncio
import ctypes
import os
import resource
import shutil
import signal
import subprocess
import sys
import tempfile
import time
from collections import Counter
from contextlib import suppress
from dataclasses import dataclass, field
from http import HTTPStatus
from pathlib import Path

import h11
import uvloop

from config import ConfigError, load_config

STOP_SECONDS = 25  # the platform's SIGKILL comes at 30 s
STARTUP_SECONDS = 30
KEEPALIVE_SECONDS = 95  # the router keeps idle connections up to 90 s: stay open longer
SEND_SECONDS = 30  # a client that takes nothing of the response for 30 s is dropped
UPSTREAM_SECONDS = 30  # the router gives up after 30 s, gunicorn's timeout too
CONNECT_SECONDS = 5
LINGER_SECONDS = 5  # after refusing a body: read and drop what still comes, so the answer is seen
MAX_CONNECTIONS = 2048  # each costs a descriptor and a little memory, never a thread
MAX_HEADER_BYTES = 32 * 1024
FORM_LIMIT = 512 * 1024  # a 20,000-character note in any script is under 240 KiB
# A photo, or an archive to import: larger bodies, read only for a live session.
UPLOAD_PATHS = frozenset({b"/mypage/photo", b"/mypage/import"})
# Bodies nobody has authenticated yet: 128 requests with a body at once per dyno, from the
# first byte of the body to gunicorn's answer (64 MiB of forms; 64 turned away 37 of
# tests/test_load.py's 100 people signing up at once); photo uploads 4 (40 MiB). One client
# address may have at most 16 bodies (2 uploads) still arriving: all of them from one place
# would otherwise let a trickler hold every slot. Past that: 429, before any body is read.
BODY_SLOTS, BODY_SLOTS_PER_CLIENT = 128, 16
UPLOAD_SLOTS, UPLOAD_SLOTS_PER_CLIENT = 4, 2
MEMORY_BYTES = 64 * 1024  # a body or response past this goes to a file in the front's folder
CHUNK = 64 * 1024
# Descriptors the front may need: its connections, a spooled file and a gunicorn connection
# for each request with a body, and some to spare. Production refuses to start below this.
NEEDED_DESCRIPTORS = MAX_CONNECTIONS + 2 * BODY_SLOTS + 64
HOP_BY_HOP = frozenset(
    {
        b"connection",
        b"keep-alive",
        b"proxy-connection",
        b"te",
        b"trailer",
        b"transfer-encoding",
        b"upgrade",
        b"content-length",
        b"expect",
        b"server",  # gunicorn's name and version are nobody's business
    }
)

# The front's own answers speak the reader's language as the app does (app/i18n/choice.py):
# the switcher's cookie first, then the first language of Accept-Language, else English.
MESSAGES = {
    400: {"en": "The request could not be read.", "ko": "요청을 읽을 수 없어요."},
    413: {"en": "That upload is too large.", "ko": "올린 파일이 너무 커요."},
    429: {
        "en": "Too many requests are being sent at once; try again in 30 seconds.",
        "ko": "지금 요청이 한꺼번에 너무 많이 들어오고 있습니다. 30초 뒤에 다시 시도해 주세요.",
    },
    431: {"en": "The request's headers are too large.", "ko": "요청의 헤더가 너무 커요."},
    502: {
        "en": "The service is restarting; try again in a moment.",
        "ko": "서비스가 다시 시작하는 중이에요. 잠시 뒤에 다시 시도해 주세요.",
    },
    504: {
        "en": "The service took too long to answer; try again.",
        "ko": "서비스의 응답이 너무 늦어요. 다시 시도해 주세요.",
    },
}


def warn(message):
    """Log one line to stderr as the app logs (logfmt), for the platform's log stream."""
    text = message.replace('"', "'")
    print(f'at=WARNING logger=memo.front msg="{text}"', file=sys.stderr, flush=True)


def reader_language(headers):
    """Return `ko` or `en` for a request's headers, as the app chooses for a visitor."""
    cookies = b"; ".join(value for name, value in headers if name == b"cookie").decode("latin-1")
    for cookie in cookies.split(";"):
        name, _, value = cookie.strip().partition("=")
        if name == "language" and value in ("ko", "en"):
            return value
    accepted = b",".join(value for name, value in headers if name == b"accept-language")
    return "ko" if accepted.decode("latin-1").strip().lower().startswith("ko") else "en"


class Cut(Exception):
    """The client hung up, stalled or broke the framing before its request was whole."""


class TooLarge(Exception):
    """A chunked body passed its limit."""


class Slots:
    """At most `total` held at once by everyone, and at most `each` by one client address."""

    def __init__(self, total, each):
        self.total, self.each = total, each
        self.held = Counter()
        self.count = 0

    def take(self, client):
        if self.count >= self.total or self.held[client] >= self.each:
            return False
        self.held[client] += 1
        self.count += 1
        return True

    def give_back(self, client):
        self.count -= 1
        self.held[client] -= 1
        if not self.held[client]:
            del self.held[client]


@dataclass
class Answer:
    """A whole response: gunicorn's, taken at once, or the front's own."""

    status: int
    headers: list = field(default_factory=list)  # (name, value) bytes, as the sender cased them
    body: object = None  # a file positioned at 0, or None
    size: int = 0
    close: bool = False
    reason: bytes = b""

    @classmethod
    def of_text(cls, status, request_headers, extra=()):
        """The front's own answer: a line in the reader's language, and the connection closed."""
        language = reader_language(request_headers)
        text = (MESSAGES[status][language] + "\n").encode()
        body = spool()
        body.write(text)
        body.seek(0)
        headers = [
            (b"Content-Type", b"text/plain; charset=utf-8"),
            (b"Content-Language", language.encode()),
            (b"Cache-Control", b"no-store"),
            *extra,
        ]
        return cls(status, headers, body, len(text), close=True)

    def discard(self):
        if self.body is not None:
            self.body.close()


def spool():
    """Return a file for a body or a response: in memory up to MEMORY_BYTES, then on disk."""
    return tempfile.SpooledTemporaryFile(MEMORY_BYTES)  # noqa: SIM115 (its owner closes it)


async def read_some(reader, seconds):
    """Return the next bytes from `reader` (b"" at its end), or None after `seconds` of nothing."""
    try:
        return await asyncio.wait_for(reader.read(CHUNK), max(seconds, 0))
    except TimeoutError:
        return None
    except ConnectionError:
        return b""


class Front:
    """The HTTP side: whole requests to gunicorn's socket, whole responses back."""

    def __init__(self, settings, socket_path):
        self.socket_path = str(socket_path)
        self.hops = settings.TRUSTED_PROXY_HOPS
        self.header_seconds = settings.FRONT_HEADER_SECONDS
        self.body_seconds = settings.FRONT_BODY_SECONDS
        self.upload_limit = settings.MAX_CONTENT_LENGTH + 64 * 1024  # the form around the file
        # Each pair: the dyno's budget (held until gunicorn answers), then one address's share
        # of the bodies still arriving (given back once the body is whole).
        self.bodies = (Slots(BODY_SLOTS, BODY_SLOTS), Slots(BODY_SLOTS, BODY_SLOTS_PER_CLIENT))
        self.uploads = (
            Slots(UPLOAD_SLOTS, UPLOAD_SLOTS),
            Slots(UPLOAD_SLOTS, UPLOAD_SLOTS_PER_CLIENT),
        )
        self.idle = {}  # connection task -> whether it waits for a next request with no bytes
        self.stopping = False
        self.server = None

    async def listen(self, host, port):
        self.server = await asyncio.start_server(self.connection, host, port, backlog=1024)

    def stop_listening(self):
        """Take no new connection; close those that wait for a request, let the rest finish."""
        self.stopping = True
        self.server.close()
        for task, idle in list(self.idle.items()):
            if idle:
                task.cancel()

    async def finish(self, seconds):
        """Wait up to `seconds` for the requests in flight, then drop what is left."""
        if self.idle:
            await asyncio.wait(list(self.idle), timeout=seconds)
        for task in list(self.idle):
            task.cancel()

    async def connection(self, reader, writer):
        task = asyncio.current_task()
        if self.stopping or len(self.idle) >= MAX_CONNECTIONS:
            writer.transport.abort()
            return
        self.idle[task] = True
        writer.transport.set_write_buffer_limits(high=CHUNK)
        peer = writer.get_extra_info("peername")
        peer = peer[0] if isinstance(peer, tuple) else "local"
        try:
            await self.converse(reader, writer, peer, task)
        except (ConnectionError, TimeoutError, Cut, h11.ProtocolError, asyncio.CancelledError):
            pass
        finally:
            del self.idle[task]
            with suppress(Exception):  # what is still buffered goes out, within SEND_SECONDS
                writer.close()
                await asyncio.wait_for(writer.wait_closed(), SEND_SECONDS)
            writer.transport.abort()

    async def converse(self, reader, writer, peer, task):
        """Answer the connection's requests one after another until it or the front closes."""
        http = h11.Connection(h11.SERVER, max_incomplete_event_size=MAX_HEADER_BYTES)
        while True:
            self.idle[task] = True
            try:
                request = await self.read_head(http, reader)
            except h11.RemoteProtocolError as error:
                status = 431 if error.error_status_hint == 431 else 400
                await self.refuse(http, reader, writer, Answer.of_text(status, []))
                return
            self.idle[task] = False
            if request is None:
                return
            if not await self.respond(http, reader, writer, request, peer):
                return
            if http.our_state is not h11.DONE or http.their_state is not h11.DONE:
                return
            if self.stopping:
                return
            http.start_next_cycle()

    async def read_head(self, http, reader):
        """Return the next request's head, or None when the client leaves or misses the deadline.

        Between requests the connection may wait 95 s; once the first byte of a request has
        come, its whole head must come within FRONT_HEADER_SECONDS (one deadline, not per read).
        """
        loop = asyncio.get_running_loop()
        deadline = loop.time() + self.header_seconds if http.trailing_data[0] else None
        while True:
            event = http.next_event()
            if event is not h11.NEED_DATA:
                return event if isinstance(event, h11.Request) else None
            wait = KEEPALIVE_SECONDS if deadline is None else deadline - loop.time()
            data = await read_some(reader, wait)
            if data is None:
                return None
            if deadline is None:
                deadline = loop.time() + self.header_seconds
            http.receive_data(data)

    async def respond(self, http, reader, writer, request, peer):
        """Answer one request; return whether the connection may carry another."""
        headers = list(request.headers)
        client = self.client_address(peer, headers)
        upload = request.target.split(b"?", 1)[0] in UPLOAD_PATHS
        limit = self.upload_limit if upload else FORM_LIMIT
        length = next((int(v) for n, v in headers if n == b"content-length"), None)
        chunked = any(n == b"transfer-encoding" for n, _ in headers)
        if length is not None and length > limit:
            return await self.refuse(http, reader, writer, Answer.of_text(413, headers))
        held, arriving = [], []
        body, size = None, 0
        try:
            if chunked or length:
                refusal = await self.admit(request, peer, client, upload, held, arriving)
                if refusal is not None:
                    return await self.refuse(http, reader, writer, refusal)
                try:
                    body, size = await self.read_body(http, reader, writer, limit)
                except TooLarge:
                    return await self.refuse(http, reader, writer, Answer.of_text(413, headers))
                finally:
                    while arriving:
                        arriving.pop().give_back(client)
            else:
                await self.read_end(http, reader)
            answer = await self.exchange(request.method, request.target, headers, peer, body, size)
        finally:
            for slots in held + arriving:
                slots.give_back(client)
            if body is not None:
                body.close()
        return await self.send(http, writer, answer)

    async def admit(self, request, peer, client, upload, held, arriving):
        """Take the body's slots (the dyno's in `held`, the address's share in `arriving`);
        return the front's refusal, if any."""
        if upload:
            # Asked before a byte of the body is read: is this a live login session?
            probe = [(n, v) for n, v in request.headers if n not in HOP_BY_HOP]
            answer = await self.exchange(b"GET", b"/auth/signed-in", probe, peer, None, 0)
            answer.discard()
            if answer.status == 401:
                location = (b"Location", b"/auth/login?next=/mypage")
                return Answer(302, [location, (b"Content-Length", b"0")], close=True)
            if answer.status != 204:
                return Answer.of_text(502, request.headers)
        for budget, share in (self.bodies, self.uploads) if upload else (self.bodies,):
            for slots, taken in ((budget, held), (share, arriving)):
                if not slots.take(client):
                    warn(f"429: a body budget is full (client {client}, {slots.count} held)")
                    return Answer.of_text(429, request.headers, [(b"Retry-After", b"30")])
                taken.append(slots)
        return None

    async def read_body(self, http, reader, writer, limit):
        """Return the whole body (in a file at 0) and its size; raise Cut if it never completes."""
        if http.they_are_waiting_for_100_continue:
            writer.write(http.send(h11.InformationalResponse(status_code=100, headers=[])))
        body = spool()
        size = 0
        try:
            while True:
                try:
                    event = http.next_event()
                except h11.RemoteProtocolError as error:
                    raise Cut from error
                if event is h11.NEED_DATA:
                    data = await read_some(reader, self.body_seconds)
                    if data is None:
                        raise Cut
                    http.receive_data(data)
                elif isinstance(event, h11.Data):
                    size += len(event.data)
                    if size > limit:
                        raise TooLarge
                    body.write(event.data)
                elif isinstance(event, h11.EndOfMessage):
                    body.seek(0)
                    return body, size
                else:
                    raise Cut
        except BaseException:
            body.close()
            raise

    async def read_end(self, http, reader):
        """Take the end of a request without a body (it comes with the head)."""
        while True:
            try:
                event = http.next_event()
            except h11.RemoteProtocolError as error:
                raise Cut from error
            if isinstance(event, h11.EndOfMessage):
                return
            if event is not h11.NEED_DATA:
                raise Cut
            data = await read_some(reader, self.body_seconds)
            if data is None:
                raise Cut
            http.receive_data(data)

    def client_address(self, peer, headers):
        """Return the client's address: behind the router, the one its X-Forwarded-For hop added.

        A client's own X-Forwarded-For entries come before the router's and are not trusted.
        """
        if not self.hops:
            return peer
        forwarded = [
            part.strip()
            for name, value in headers
            if name == b"x-forwarded-for"
            for part in value.decode("latin-1").split(",")
        ]
        return forwarded[-self.hops] if len(forwarded) >= self.hops else peer

    def upstream_headers(self, headers, peer, size, method):
        """Return the headers gunicorn gets: the router's, plus this hop in X-Forwarded-For."""
        sent = [
            (name, value)
            for name, value in headers
            if name not in HOP_BY_HOP and name not in (b"x-forwarded-for", b"x-forwarded-proto")
        ]
        if not any(name == b"host" for name, _ in sent):
            sent.append((b"host", b"localhost"))
        forwarded = [value for name, value in headers if name == b"x-forwarded-for"]
        sent.append((b"x-forwarded-for", b", ".join([*forwarded, peer.encode()])))
        # Behind a router its X-Forwarded-Proto is passed on; with none, nobody may claim https.
        if self.hops:
            sent += [(n, v) for n, v in headers if n == b"x-forwarded-proto"][:1]
        else:
            sent.append((b"x-forwarded-proto", b"http"))
        if size or method in (b"POST", b"PUT", b"PATCH"):
            sent.append((b"content-length", str(size).encode()))
        sent.append((b"connection", b"close"))
        return sent

    async def exchange(self, method, target, headers, peer, body, size):
        """Pass a whole request to gunicorn and return its whole response (502/504 if none)."""
        try:
            reader, writer = await asyncio.wait_for(
                asyncio.open_unix_connection(self.socket_path, limit=CHUNK), CONNECT_SECONDS
            )
        except (OSError, TimeoutError) as error:
            warn(f"502: gunicorn's socket did not take the request ({error!r})")
            return Answer.of_text(502, headers)
        answer = None
        try:
            http = h11.Connection(h11.CLIENT)
            sent = self.upstream_headers(headers, peer, size, method)
            out = http.send(h11.Request(method=method, target=target, headers=sent))
            while body is not None and (chunk := body.read(CHUNK)):
                writer.write(out + http.send(h11.Data(data=chunk)))
                out = b""
                await asyncio.wait_for(writer.drain(), UPSTREAM_SECONDS)
            writer.write(out + http.send(h11.EndOfMessage()))  # a small request: one write
            answer = await asyncio.wait_for(self.take_response(http, reader), UPSTREAM_SECONDS)
            return answer
        except TimeoutError:
            warn(f"504: gunicorn did not answer {method.decode()} in {UPSTREAM_SECONDS} s")
            return Answer.of_text(504, headers)
        except (OSError, h11.ProtocolError) as error:
            if answer is not None:
                answer.discard()
            warn(f"502: gunicorn's answer to {method.decode()} broke off ({error!r})")
            return Answer.of_text(502, headers)
        finally:
            writer.transport.abort()

    async def take_response(self, http, reader):
        """Read gunicorn's whole response: to memory, then to a file past MEMORY_BYTES."""
        answer = None
        while True:
            event = http.next_event()
            if event is h11.NEED_DATA:
                http.receive_data(await reader.read(CHUNK))
            elif isinstance(event, h11.Response):
                body = spool()
                headers = list(event.headers.raw_items())
                answer = Answer(event.status_code, headers, body, reason=event.reason)
            elif isinstance(event, h11.Data):
                answer.body.write(event.data)
                answer.size += len(event.data)
            elif isinstance(event, h11.EndOfMessage):
                answer.body.seek(0)
                return answer
            elif isinstance(event, h11.ConnectionClosed):
                raise ConnectionResetError("gunicorn closed the connection mid-response")

    async def send(self, http, writer, answer):
        """Send a whole answer, dropping a client that takes nothing for SEND_SECONDS."""
        try:
            headers = [(n, v) for n, v in answer.headers if n.lower() not in HOP_BY_HOP]
            if answer.status not in (204, 304):
                # gunicorn's own length for HEAD; the bytes taken for everything else
                given = [v for n, v in answer.headers if n.lower() == b"content-length"]
                length = given[0] if given and answer.size == 0 else str(answer.size).encode()
                headers.append((b"Content-Length", length))
            if answer.close or self.stopping:
                headers.append((b"Connection", b"close"))
            reason = answer.reason or HTTPStatus(answer.status).phrase.encode()
            out = http.send(h11.Response(status_code=answer.status, headers=headers, reason=reason))
            while answer.body is not None and (chunk := answer.body.read(CHUNK)):
                out += http.send(h11.Data(data=chunk))
                if len(out) >= CHUNK:  # a small answer goes out in one write
                    await self.write(writer, out)
                    out = b""
            await self.write(writer, out + http.send(h11.EndOfMessage()))
        finally:
            answer.discard()
        return not answer.close

    async def write(self, writer, data):
        if data:
            writer.write(data)
            await asyncio.wait_for(writer.drain(), SEND_SECONDS)

    async def refuse(self, http, reader, writer, answer):
        """Answer without reading the body, then read and drop what still comes, and close."""
        if http.our_state in (h11.IDLE, h11.SEND_RESPONSE):
            answer.close = True
            await self.send(http, writer, answer)
            writer.write_eof()
            loop = asyncio.get_running_loop()
            until = loop.time() + STOP_SECONDS
            while loop.time() < until and await read_some(reader, LINGER_SECONDS):
                pass
        else:
            answer.discard()
        return False


def app_server_command(args, socket_path):
    """Return the app server's command, run as a module of this Python, bound to the socket.

    `python -m gunicorn` puts the working directory (the app's folder) first on the module
    path, so gunicorn.conf.py and wsgi.py import the app as they are, installed or not.
    """
    name, *rest = args
    return [sys.executable, "-m", name, *rest, "--bind", f"unix:{socket_path}"]


PR_SET_PDEATHSIG = 1  # prctl(2)


def start_app_server(command, environ):
    """Start gunicorn in a process group of its own; it gets SIGINT if the front dies."""
    parent = os.getpid()

    def shield():
        """In the child before exec: a process group of its own, SIGINT when the front dies."""
        os.setpgrp()
        with suppress(OSError, AttributeError):
            ctypes.CDLL(None, use_errno=True).prctl(PR_SET_PDEATHSIG, signal.SIGINT)
        if os.getppid() != parent:  # the front died before prctl: nobody would stop this child
            os._exit(1)

    return subprocess.Popen(command, env=environ, preexec_fn=shield)  # noqa: S603, PLW1509


def wait_for_socket(app_server, socket_path):
    """Wait until gunicorn listens on its socket; return its exit code if it stops first."""
    deadline = time.monotonic() + STARTUP_SECONDS
    while time.monotonic() < deadline:
        if app_server.poll() is not None:
            return app_server.returncode
        if socket_path.exists():
            return None
        time.sleep(0.05)
    return 1


def stop_app_server(app_server, seconds):
    """Stop gunicorn (SIGINT: nothing is in flight any more), killing it after `seconds`."""
    if app_server.poll() is None:
        app_server.send_signal(signal.SIGINT)
        with suppress(subprocess.TimeoutExpired):
            app_server.wait(timeout=max(seconds, 0.1))
    if app_server.poll() is None:
        app_server.kill()
        app_server.wait()


def check_descriptors(settings):
    """Raise the soft descriptor limit to what the front needs; refuse to start without it."""
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    wanted = NEEDED_DESCRIPTORS
    if soft < wanted:
        with suppress(ValueError, OSError):
            resource.setrlimit(resource.RLIMIT_NOFILE, (min(wanted, hard), hard))
            soft = min(wanted, hard)
    if soft < wanted and "PUBLIC_URL" in settings.REQUIRED:  # staging and production
        sys.exit(
            f"memo: the web front needs {wanted} file descriptors and this dyno allows "
            f"{soft}: its connection budget would not hold"
        )


# SIGHUP: the terminal of `./scripts/run` closed, which stops the web process as Ctrl-C does.
STOP_SIGNALS = (signal.SIGTERM, signal.SIGINT, signal.SIGHUP)


async def serve_front(front, app_server, environ):
    """Serve until a stop signal or until gunicorn exits; return the exit code."""
    loop = asyncio.get_running_loop()
    stop = asyncio.Event()
    for each in STOP_SIGNALS:
        loop.add_signal_handler(each, stop.set)
    host = environ.get("WEB_FRONT_HOST", "0.0.0.0")  # noqa: S104 (the platform's router connects)
    await front.listen(host, int(environ.get("PORT", "5000")))
    watcher = loop.create_task(asyncio.to_thread(app_server.wait))
    stopper = loop.create_task(stop.wait())
    await asyncio.wait([watcher, stopper], return_when=asyncio.FIRST_COMPLETED)
    started = time.monotonic()
    front.stop_listening()
    await front.finish(STOP_SECONDS - 2)
    stopper.cancel()
    # gunicorn stopped on its own: the dyno is broken, let the platform restart it.
    code = 1 if watcher.done() else 0
    await asyncio.to_thread(
        stop_app_server, app_server, STOP_SECONDS - (time.monotonic() - started)
    )
    return code


class Stop(Exception):
    """A stop signal came before the front was serving."""


def raise_stop(number, frame):
    raise Stop


def serve(args, settings, folder):
    """Start gunicorn, then serve in front of it until a stop signal; return the exit code."""
    socket_path = folder / "app.sock"
    command = app_server_command(args, socket_path)  # the Procfile's, not a client's
    app_server = start_app_server(command, os.environ)
    try:
        failed = wait_for_socket(app_server, socket_path)
        if failed is not None:
            return failed
        front = Front(settings, socket_path)
        with asyncio.Runner(loop_factory=uvloop.new_event_loop) as runner:
            return runner.run(serve_front(front, app_server, os.environ))
    except Stop:
        return 0
    finally:
        for each in STOP_SIGNALS:  # once stopping, a second signal waits
            signal.signal(each, signal.SIG_IGN)
        stop_app_server(app_server, STOP_SECONDS)


def main():
    """Check the configuration, then serve until SIGTERM."""
    args = sys.argv[1:] or ["gunicorn", "wsgi:app"]
    try:
        settings = load_config()
    except ConfigError as error:
        sys.exit(f"memo: configuration error: {error}")
    check_descriptors(settings)
    for each in STOP_SIGNALS:
        signal.signal(each, raise_stop)
    try:
        folder = Path(tempfile.mkdtemp(prefix="memo-web-"))
    except OSError as error:
        sys.exit(f"memo: the web front has no temporary folder for bodies and its socket: {error}")
    tempfile.tempdir = str(folder)  # bodies and responses past MEMORY_BYTES are spooled here
    try:
        return serve(args, settings, folder)
    finally:
        shutil.rmtree(folder, ignore_errors=True)


if __name__ == "__main__":
    sys.exit(main())
