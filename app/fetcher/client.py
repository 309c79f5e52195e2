"""Fetch one web page for the word counter, or POST one message to a push service or a webhook:
the only module that makes outbound HTTP requests.

Users choose the address, so every hop is vetted before Memo connects: http and https only;
every address the host resolves to must be public; the connection goes to the vetted address
(a second DNS answer cannot swap it) while the Host header, SNI and certificate check use the
host name; redirects are followed by hand and vetted again. Time and size are bounded: connect
and read timeouts, an overall deadline that cuts the socket off, and a cap on the body.
A POST (`post()`) is vetted and pinned the same way, over https only, and follows no redirect.
"""

import http.client
import socket
import ssl
import threading
import time
from contextlib import suppress
from dataclasses import dataclass
from urllib.parse import urljoin

from app.fetcher.addresses import parse_url, shorten, shown, vet_host
from app.fetcher.messages import (
    ANSWERED,
    ANSWERED_WITH_PHRASE,
    COMPRESSED,
    CUT_OFF,
    NO_ANSWER_IN_TIME,
    NO_CONNECTION,
    NO_MEDIA_TYPE,
    NO_SECURE_CONNECTION,
    NOT_HTTPS,
    NOT_TEXT,
    REDIRECT_NOWHERE,
    REDIRECTED_TO,
    TOO_LARGE,
    TOO_MANY_REDIRECTS,
    TOOK_TOO_LONG,
    UNTRUSTED_CERTIFICATE,
    FetchError,
)
from app.fetcher.text import text_of

MAX_REDIRECTS = 3
ANSWER_BYTES = 4096  # what a POST's answer is read of (a push service's is a short JSON)
CONNECT_TIMEOUT_SECONDS = 3.0
READ_TIMEOUT_SECONDS = 5.0
TEXT_TYPES = frozenset({"text/html", "application/xhtml+xml", "text/plain"})
REDIRECT_STATUSES = frozenset({301, 302, 303, 307, 308})
HEADERS = {
    "User-Agent": "Memo-WordCount/1.0",
    "Accept": "text/html, application/xhtml+xml, text/plain;q=0.9",
    # A compressed body could inflate far past the byte cap, so none is asked for.
    "Accept-Encoding": "identity",
    "Connection": "close",
}


@dataclass(frozen=True)
class Page:
    """A fetched page: where it ended up, its media type, its bytes and their Content-Type."""

    url: str
    media_type: str
    body: bytes
    content_type: str

    @property
    def text(self):
        """Return the page decoded as a browser would (see text_of)."""
        return text_of(self.body, self.content_type, self.media_type)


class Deadline:
    """The time one fetch may take; when it passes, every socket it watches is shut down."""

    def __init__(self, seconds):
        self.seconds = seconds
        self.ends = time.monotonic() + seconds
        self.expired = threading.Event()
        self.sockets = []
        self.lock = threading.Lock()
        self.timer = threading.Timer(seconds, self.expire)
        self.timer.daemon = True

    def __enter__(self):
        self.timer.start()
        return self

    def __exit__(self, *exc_info):
        self.timer.cancel()
        with self.lock:
            for sock in self.sockets:
                sock.close()
            self.sockets.clear()

    def remaining(self):
        """Return the seconds left, or raise the deadline's FetchError if none are."""
        left = self.ends - time.monotonic()
        if left <= 0 or self.expired.is_set():
            raise self.error()
        return left

    def error(self):
        return FetchError(TOOK_TOO_LONG % {"seconds": f"{self.seconds:g}"})

    def watch(self, sock):
        """Cut `sock` off when the deadline passes, even in the middle of a read."""
        # A duplicate descriptor keeps working after TLS wraps (and detaches) the original.
        with self.lock:
            self.sockets.append(sock.dup())
        if self.expired.is_set():
            self.expire()

    def expire(self):
        with self.lock:
            self.expired.set()
            for sock in self.sockets:
                with suppress(OSError):
                    sock.shutdown(socket.SHUT_RDWR)


class NoConnection(OSError):
    """The vetted address could not be connected to (refused, unreachable)."""


class PinnedConnection(http.client.HTTPConnection):
    """An HTTP connection to the vetted address, whose socket the fetch's deadline watches.

    It overrides http.client's documented `connect()`: a socket of its own, connected to the
    address that was vetted (a second DNS answer cannot swap it), is handed to the deadline
    before a byte is read. urllib3 2.8 has no public way to do either (its connections look
    the host up themselves, and create the socket where no hook reaches it).
    """

    def __init__(self, target, address, clock, timeout):
        super().__init__(target.host, target.port, timeout=timeout)
        self.address = address
        self.clock = clock

    def open_socket(self):
        """Return a socket connected to the vetted address, under the deadline."""
        try:
            sock = socket.create_connection((self.address, self.port), self.timeout)
        except TimeoutError:
            raise
        except OSError as error:
            raise NoConnection(str(error)) from None
        self.clock.watch(sock)
        return sock

    def connect(self):
        self.sock = self.open_socket()


class PinnedTLSConnection(PinnedConnection):
    """An HTTPS connection to the vetted address; SNI and the certificate name the host."""

    def __init__(self, target, address, clock, timeout, ca_certs):
        super().__init__(target, address, clock, timeout)
        self.context = ssl.create_default_context(cafile=ca_certs)

    def connect(self):
        self.sock = self.context.wrap_socket(self.open_socket(), server_hostname=self.host)


def fetch(
    url,
    *,
    allow_loopback=False,
    max_bytes,
    deadline,
    ca_certs=None,
):
    """Fetch the text page at `url`, or raise FetchError saying why not.

    `max_bytes` and `deadline` are config.py's FETCH_MAX_BYTES and FETCH_DEADLINE_SECONDS.
    `allow_loopback` lets tests reach servers on 127.0.0.1; `ca_certs` (a file of trusted
    certificates) replaces the system's for tests with their own certificate authority.
    """
    with Deadline(deadline) as clock:
        for hop in range(MAX_REDIRECTS + 1):
            try:
                target = parse_url(url)
                address = vet_host(target.host, target.port, allow_loopback, clock)
            except FetchError as error:
                if hop:
                    reason = {"url": shorten(url), "reason": str(error)}
                    raise FetchError(REDIRECTED_TO % reason) from None
                raise
            try:
                page, location = get(target, address, clock, max_bytes, ca_certs)
            except (OSError, http.client.HTTPException) as error:
                if clock.expired.is_set():
                    raise clock.error() from None
                raise FetchError(connection_problem(error, target.host)) from None
            if page is not None:
                return page
            url = urljoin(target.url, location)
    raise FetchError(TOO_MANY_REDIRECTS % {"count": MAX_REDIRECTS})


def get(target, address, clock, max_bytes, ca_certs):
    """GET `target` from `address`: return (Page, None), or (None, location) for a redirect."""
    timeout = min(CONNECT_TIMEOUT_SECONDS, clock.remaining())
    if target.scheme == "https":
        connection = PinnedTLSConnection(target, address, clock, timeout, ca_certs)
    else:
        connection = PinnedConnection(target, address, clock, timeout)
    try:
        connection.connect()
        connection.sock.settimeout(READ_TIMEOUT_SECONDS)
        connection.request("GET", target.path, headers={**HEADERS, "Host": target.host_header})
        response = connection.getresponse()
        if clock.expired.is_set():  # a header block cut off by the deadline parses as a short one
            raise clock.error()
        if response.status in REDIRECT_STATUSES:
            location = response.headers.get("Location")
            if not location:
                raise FetchError(REDIRECT_NOWHERE)
            return None, location
        media_type = check_headers(response, max_bytes)
        body = read_body(response, max_bytes, clock)
        return Page(target.url, media_type, body, response.headers["Content-Type"]), None
    finally:
        connection.close()


def post(url, body, headers, *, allow_loopback=False, allow_http=False, deadline, ca_certs=None):
    """POST `body` to the https `url` once and return the answer's status, or raise FetchError
    when the address is refused (before or after DNS) or the server cannot be reached in time.

    What the server answers is not read past ANSWER_BYTES; a redirect is a status like any
    other (a push service never sends one, and following it would POST elsewhere).
    `allow_http`: plain http too (webhooks in development and tests only).
    """
    with Deadline(deadline) as clock:
        target = parse_url(url)
        if target.scheme != "https" and not allow_http:
            raise FetchError(NOT_HTTPS)
        address = vet_host(target.host, target.port, allow_loopback, clock)
        timeout = min(CONNECT_TIMEOUT_SECONDS, clock.remaining())
        if target.scheme == "https":
            connection = PinnedTLSConnection(target, address, clock, timeout, ca_certs)
        else:
            connection = PinnedConnection(target, address, clock, timeout)
        try:
            connection.connect()
            connection.sock.settimeout(READ_TIMEOUT_SECONDS)
            sent = {**headers, "Host": target.host_header, "Connection": "close"}
            connection.request("POST", target.path, body=body, headers=sent)
            response = connection.getresponse()
            response.read(ANSWER_BYTES)
            if clock.expired.is_set():
                raise clock.error()
            return response.status
        except (OSError, http.client.HTTPException) as error:
            if clock.expired.is_set():
                raise clock.error() from None
            raise FetchError(connection_problem(error, target.host)) from None
        finally:
            connection.close()


def check_headers(response, max_bytes):
    """Return the media type of a response Memo can count, or raise FetchError."""
    if not 200 <= response.status < 300:
        phrase = http.client.responses.get(response.status)
        answer = {"status": response.status, "phrase": phrase}
        raise FetchError((ANSWERED_WITH_PHRASE if phrase else ANSWERED) % answer)
    media_type = response.headers.get("Content-Type", "").partition(";")[0]
    media_type = media_type.strip().lower()
    if not media_type:
        raise FetchError(NO_MEDIA_TYPE)
    if media_type not in TEXT_TYPES:
        raise FetchError(NOT_TEXT % {"type": media_type[:80]})
    if response.headers.get("Content-Encoding", "identity").strip().lower() != "identity":
        raise FetchError(COMPRESSED)
    length = response.headers.get("Content-Length", "")
    if length.isdigit() and int(length) > max_bytes:
        raise too_large(max_bytes)
    return media_type


def too_large(max_bytes):
    size = f"{max_bytes / 2**20:g} MB" if max_bytes >= 2**20 else f"{max_bytes / 2**10:g} KB"
    return FetchError(TOO_LARGE % {"size": size})


def read_body(response, max_bytes, clock):
    """Read the body a chunk at a time, up to `max_bytes`, within the deadline."""
    body = bytearray()
    while chunk := response.read1(64 * 1024):
        body += chunk
        if len(body) > max_bytes:
            raise too_large(max_bytes)
    # The deadline ends a read by shutting the socket, which looks like the end of the body.
    if clock.expired.is_set():
        raise clock.error()
    return bytes(body)


def connection_problem(error, host):
    """Return a user-readable sentence for a failed connection to `host`."""
    if isinstance(error, ssl.SSLCertVerificationError):
        return UNTRUSTED_CERTIFICATE % {"host": shown(host)}
    if isinstance(error, ssl.SSLError):
        return NO_SECURE_CONNECTION % {"host": shown(host)}
    if isinstance(error, NoConnection):
        return NO_CONNECTION % {"host": shown(host)}
    if isinstance(error, TimeoutError):
        return NO_ANSWER_IN_TIME % {"host": shown(host)}
    return CUT_OFF % {"host": shown(host)}
