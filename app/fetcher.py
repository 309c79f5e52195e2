"""Fetch one web page for the word counter: the only module that makes outbound HTTP requests.

Users choose the address, so every hop is vetted before Memo connects: http and https only;
every address the host resolves to must be public; the connection goes to the vetted address
(a second DNS answer cannot swap it) while the Host header, SNI and certificate check use the
host name; redirects are followed by hand and vetted again. Time and size are bounded: connect
and read timeouts, an overall deadline that cuts the socket off, and a cap on the body.
"""

import http.client
import ipaddress
import re
import socket
import ssl
import threading
import time
from concurrent.futures import Future
from contextlib import suppress
from dataclasses import dataclass
from urllib.parse import quote, urljoin, urlsplit

import webencodings
from w3lib.encoding import (
    html_body_declared_encoding,
    http_content_type_encoding,
    read_bom,
    resolve_encoding,
    to_unicode,
)

from app.i18n.stored import stored_message

MAX_REDIRECTS = 3
MAX_BYTES = 2 * 1024 * 1024
DEADLINE_SECONDS = 10.0
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

HOST_NAME = re.compile(r"[a-z0-9_.-]+")
UNSAFE_IN_URL = re.compile(r"[\s\\\x00-\x1f\x7f]")
# The codecs the WHATWG Encoding Standard's labels name, as w3lib resolves them. A page may
# declare only these: Python also knows codecs no browser does (punycode decodes in quadratic
# time, idna raises whatever the error handler), and a label naming one of those is ignored,
# as a browser ignores a label it does not know. (The standard decodes the labels of its
# "replacement" encoding to one U+FFFD; those are left out too.)
WEB_CODECS = frozenset(
    resolve_encoding(label)
    for label, name in webencodings.LABELS.items()
    if name not in {"replacement", "x-user-defined"} and resolve_encoding(label)
)

SHARED_ADDRESS_SPACE = ipaddress.ip_network("100.64.0.0/10")  # carrier-grade NAT, RFC 6598
GLOBAL_UNICAST = ipaddress.ip_network("2000::/3")
# IPv6 prefixes that carry an IPv4 address, which would reach that IPv4 host.
IPV4_CARRYING_PREFIXES = tuple(
    ipaddress.ip_network(prefix)
    for prefix in (
        "::ffff:0:0/96",  # IPv4-mapped
        "::/96",  # IPv4-compatible (deprecated)
        "64:ff9b::/96",  # NAT64
        "64:ff9b:1::/48",  # local-use NAT64
        "2002::/16",  # 6to4
        "2001::/32",  # Teredo
    )
)

# Why a page was not fetched, as the word count stores it (in English) and a page shows it
# (translated, app/i18n/stored.py). More specific messages come first: they are matched in order.
TOOK_TOO_LONG = stored_message("The site took longer than %(seconds)s seconds; Memo gave up.")
REDIRECTED_TO = stored_message("The page redirected to %(url)s. %(reason)s")
TOO_MANY_REDIRECTS = stored_message(
    "The page redirected more than %(count)s times; Memo stopped there."
)
UNSAFE_CHARACTERS = stored_message(
    "The address contains spaces, backslashes or control characters."
)
NOT_A_WEB_ADDRESS = stored_message("This is not a valid web address.")
NOT_HTTP = stored_message("Only http:// and https:// addresses can be fetched.")
HAS_CREDENTIALS = stored_message("Addresses with a user name or password are not fetched.")
NO_HOST_NAME = stored_message("The address has no host name.")
BAD_HOST_NAME = stored_message("The host name is not valid.")
NOT_PUBLIC_ADDRESS = stored_message(
    "Memo only fetches public web pages: %(host)s resolves to %(address)s, %(problem)s."
)
NOT_PUBLIC_HOST = stored_message("Memo only fetches public web pages: %(host)s is %(problem)s.")
LOOPBACK = stored_message("a loopback address")
UNSPECIFIED = stored_message("an unspecified address")
LINK_LOCAL = stored_message("a link-local address")
MULTICAST = stored_message("a multicast address")
CARRIES_IPV4 = stored_message("an IPv6 address that carries an IPv4 address")
SHARED = stored_message("a shared (carrier-grade NAT) address")
RESERVED = stored_message("a reserved address")
PRIVATE = stored_message("a private address")
NOT_PUBLIC = stored_message("not a public address")
SLOW_LOOKUPS = stored_message("Too many web sites are slow to look up right now; try later.")
HOST_NOT_FOUND = stored_message("The host name %(host)s could not be found.")
REDIRECT_NOWHERE = stored_message("The site redirected without saying where to.")
ANSWERED_WITH_PHRASE = stored_message("The site answered %(status)s %(phrase)s.")
ANSWERED = stored_message("The site answered %(status)s.")
NO_MEDIA_TYPE = stored_message("The site did not say what it sent; Memo counts web pages only.")
NOT_TEXT = stored_message("Memo counts words of web pages and plain text only, not %(type)s.")
COMPRESSED = stored_message("The site sent a compressed page although Memo asked for none.")
TOO_LARGE = stored_message("The page is larger than %(size)s; Memo stopped reading there.")
UNTRUSTED_CERTIFICATE = stored_message(
    "The certificate of %(host)s could not be verified, so Memo did not trust it."
)
NO_SECURE_CONNECTION = stored_message("A secure connection to %(host)s could not be made.")
NO_CONNECTION = stored_message("Could not connect to %(host)s.")
NO_ANSWER_IN_TIME = stored_message("%(host)s did not answer in time.")
CUT_OFF = stored_message("The connection to %(host)s failed or was cut off.")

# getaddrinfo has no timeout of its own, so lookups run in threads a fetch can stop waiting
# for. Each host name gets a thread of its own: a pool would let a few hung lookups (which
# go on after their fetch gave up) hold up every other host's.
MAX_PENDING_LOOKUPS = 64


class FetchError(Exception):
    """A page may not or could not be fetched; the message tells the user why."""


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


@dataclass(frozen=True)
class Target:
    """One request's destination, split from a URL as the connection needs it."""

    url: str
    scheme: str
    host: str  # lower-case ASCII host name, or an IP address without brackets
    port: int
    path: str  # the request target: path and query, percent-encoded

    @property
    def host_header(self):
        """Return the Host header: the host, bracketed if IPv6, with any non-default port."""
        host = f"[{self.host}]" if ":" in self.host else self.host
        default = 443 if self.scheme == "https" else 80
        return host if self.port == default else f"{host}:{self.port}"


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
    max_bytes=MAX_BYTES,
    deadline=DEADLINE_SECONDS,
    ca_certs=None,
):
    """Fetch the text page at `url`, or raise FetchError saying why not.

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


def check_address(url, allow_loopback=False):
    """Refuse, without any lookup, a URL Memo will not fetch: form, scheme, a literal address."""
    target = parse_url(url)
    if is_ip_address(target.host):
        vet_host(target.host, target.port, allow_loopback, clock=None)


def shorten(url, length=100):
    """Return `url` cut to `length` characters for a message."""
    return url if len(url) <= length else url[: length - 1] + "…"


def parse_url(url):
    """Split a web address into a Target, or raise FetchError if it is not one Memo fetches."""
    if UNSAFE_IN_URL.search(url):
        raise FetchError(UNSAFE_CHARACTERS)
    try:
        parts = urlsplit(url)
        port = parts.port
    except ValueError:
        raise FetchError(NOT_A_WEB_ADDRESS) from None
    scheme = parts.scheme.lower()
    if scheme not in ("http", "https"):
        raise FetchError(NOT_HTTP)
    if parts.username is not None or parts.password is not None:
        raise FetchError(HAS_CREDENTIALS)
    host = host_name(parts.hostname or "")
    if port == 0:
        raise FetchError(NOT_A_WEB_ADDRESS)
    path = quote(parts.path or "/", safe="/%!$&'()*+,;=:@~")
    if parts.query:
        path += "?" + quote(parts.query, safe="/%!$&'()*+,;=:@~?")
    default_port = 443 if scheme == "https" else 80
    return Target(url, scheme, host, port or default_port, path)


def host_name(host):
    """Return `host` as lower-case ASCII (IDNA), or raise FetchError if it is no host name."""
    if not host:
        raise FetchError(NO_HOST_NAME)
    if is_ip_address(host):
        return str(ipaddress.ip_address(host))
    try:
        ascii_host = host.rstrip(".").encode("idna").decode("ascii").lower()
    except UnicodeError:
        raise FetchError(BAD_HOST_NAME) from None
    if not HOST_NAME.fullmatch(ascii_host):
        raise FetchError(BAD_HOST_NAME)
    return ascii_host


def shown(host):
    """Return a host name as people write it: 네이버.com, not its IDNA form xn--950bt9s8xi.com."""
    try:
        return host.encode("ascii").decode("idna")
    except UnicodeError:
        return host


def vet_host(host, port, allow_loopback, clock):
    """Return an address of `host` to connect to, if every address it resolves to is public."""
    addresses = [host] if is_ip_address(host) else resolve(host, port, clock)
    for address in addresses:
        problem = address_problem(ipaddress.ip_address(address), allow_loopback)
        if problem and address == host:
            raise FetchError(NOT_PUBLIC_HOST % {"host": shown(host), "problem": problem})
        if problem:
            where = {"host": shown(host), "address": address, "problem": problem}
            raise FetchError(NOT_PUBLIC_ADDRESS % where)
    return addresses[0]


def is_ip_address(host):
    try:
        ipaddress.ip_address(host)
    except ValueError:
        return False
    return True


class Resolver:
    """Looks host names up, each in its own thread; asking again for a pending one shares it."""

    def __init__(self, max_pending=MAX_PENDING_LOOKUPS):
        self.max_pending = max_pending
        self.pending = {}
        self.lock = threading.Lock()

    def lookup(self, host, port):
        """Return a Future of getaddrinfo(host, port) for TCP."""
        with self.lock:
            future = self.pending.get((host, port))
            if future is None:
                if len(self.pending) >= self.max_pending:
                    raise FetchError(SLOW_LOOKUPS)
                future = self.pending[host, port] = Future()
                thread = threading.Thread(
                    target=self.run, args=(host, port, future), name="memo-resolver", daemon=True
                )
                thread.start()
        return future

    def run(self, host, port, future):
        try:
            future.set_result(socket.getaddrinfo(host, port, type=socket.SOCK_STREAM))
        except BaseException as error:  # handed to whoever waits for the answer
            future.set_exception(error)
        finally:
            with self.lock:
                del self.pending[host, port]


resolver = Resolver()


def resolve(host, port, clock):
    """Return every address `host` resolves to, waiting no longer than the deadline."""
    future = resolver.lookup(host, port)
    try:
        answers = future.result(timeout=clock.remaining())
    except TimeoutError:
        raise clock.error() from None
    except (OSError, UnicodeError):
        raise FetchError(HOST_NOT_FOUND % {"host": shown(host)}) from None
    return list(dict.fromkeys(answer[4][0] for answer in answers))


def address_problem(address, allow_loopback=False):
    """Return why Memo must not connect to `address` (e.g. "a private address"), or None."""
    if address.is_loopback:
        return None if allow_loopback else LOOPBACK
    if address.is_unspecified:
        return UNSPECIFIED
    if address.is_link_local:
        return LINK_LOCAL
    if address.is_multicast:
        return MULTICAST
    if address.version == 6 and any(address in prefix for prefix in IPV4_CARRYING_PREFIXES):
        return CARRIES_IPV4
    if address.version == 4 and address in SHARED_ADDRESS_SPACE:
        return SHARED
    if address.is_reserved:
        return RESERVED
    if address.is_private:
        return PRIVATE
    if not address.is_global or (address.version == 6 and address not in GLOBAL_UNICAST):
        return NOT_PUBLIC
    return None


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


def text_of(body, content_type, media_type):
    """Decode a body as a browser would: its byte order mark, else the charset of its
    Content-Type or (HTML only) of its <meta>, else UTF-8 if it is valid, else Windows-1252.
    """
    codec, mark = read_bom(body)
    if codec:
        return to_unicode(body[len(mark) :], codec)
    declared = [http_content_type_encoding(content_type)]
    if media_type != "text/plain":
        declared.append(html_body_declared_encoding(body))
    for codec in declared:
        if codec in WEB_CODECS:
            return to_unicode(body, codec)
    try:
        return body.decode("utf-8")
    except UnicodeDecodeError:
        return to_unicode(body, "cp1252")


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
