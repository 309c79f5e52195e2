"""Which addresses Memo fetches: a URL split and checked, its host looked up and vetted.

http and https only; every address the host resolves to must be public. Lookups run in
threads a fetch can stop waiting for (getaddrinfo has no timeout of its own).
"""

import ipaddress
import re
import socket
import threading
from concurrent.futures import Future
from dataclasses import dataclass
from urllib.parse import quote, urlsplit

from app.fetcher.messages import (
    BAD_HOST_NAME,
    CARRIES_IPV4,
    HAS_CREDENTIALS,
    HOST_NOT_FOUND,
    LINK_LOCAL,
    LOOPBACK,
    MULTICAST,
    NO_HOST_NAME,
    NOT_A_WEB_ADDRESS,
    NOT_HTTP,
    NOT_PUBLIC,
    NOT_PUBLIC_ADDRESS,
    NOT_PUBLIC_HOST,
    PRIVATE,
    RESERVED,
    SHARED,
    SLOW_LOOKUPS,
    UNSAFE_CHARACTERS,
    UNSPECIFIED,
    AddressRefused,
    FetchError,
)

HOST_NAME = re.compile(r"[a-z0-9_.-]+")
# IPv4 as inet_aton (and so the system's resolver) reads it besides dotted quads: one to four
# parts, decimal, octal or hex (2130706433, 0x7f.1, 0177.0.0.1 and 127.1 are 127.0.0.1).
LEGACY_IPV4 = re.compile(r"(?:0x[0-9a-f]*|[0-9]+)(?:\.(?:0x[0-9a-f]*|[0-9]+)){0,3}", re.IGNORECASE)
UNSAFE_IN_URL = re.compile(r"[\s\\\x00-\x1f\x7f]")
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

# getaddrinfo has no timeout of its own, so lookups run in threads a fetch can stop waiting
# for. Each host name gets a thread of its own: a pool would let a few hung lookups (which
# go on after their fetch gave up) hold up every other host's.
MAX_PENDING_LOOKUPS = 64


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
    if LEGACY_IPV4.fullmatch(host.rstrip(".")):  # checked as the address it is, before any lookup
        try:
            return socket.inet_ntoa(socket.inet_aton(host.rstrip(".")))
        except OSError:
            raise FetchError(BAD_HOST_NAME) from None
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
            where = {"host": shown(host), "problem": problem}
            raise AddressRefused(NOT_PUBLIC_HOST % where, where)
        if problem:
            where = {"host": shown(host), "address": address, "problem": problem}
            raise AddressRefused(NOT_PUBLIC_ADDRESS % where, where)
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


def check_address(url, allow_loopback=False):
    """Refuse, without any lookup, a URL Memo will not fetch: form, scheme, a literal address."""
    target = parse_url(url)
    if is_ip_address(target.host):
        vet_host(target.host, target.port, allow_loopback, clock=None)
