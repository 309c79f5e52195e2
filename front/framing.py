"""The HTTP/1.1 rules h11 leaves to its user, and the headers that cross the front.

h11 0.16 frames a request carrying both Content-Length and Transfer-Encoding by its chunks and
keeps the connection, and it accepts bare-LF line ends and obs-folded header lines. A proxy
before the front that reads the same bytes another way would see a different request (request
smuggling), so these are refused here with 400 and the connection closed (RFC 9112 §6.1, §2.2,
§5.2). Everything else about framing is h11's.
"""

import re

# Headers of one hop (RFC 9110 §7.6.1), the body's framing (the front sets its own) and
# gunicorn's name and version, which are nobody's business.
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
        b"server",
    }
)
# What the front sets itself for gunicorn: a client's own lines never pass. gunicorn trusts
# only X-Forwarded-Proto (gunicorn.conf.py); the other scheme headers it knows are dropped.
FORWARDING = frozenset(
    {b"x-forwarded-for", b"x-forwarded-proto", b"x-forwarded-ssl", b"x-forwarded-protocol"}
)
# A header named in Connection is stripped (RFC 9110 §7.6.1), except those the front reads
# itself: a client may not make the front forget its router's X-Forwarded-For.
KEPT_FROM_CONNECTION = frozenset({b"host", *FORWARDING})
BARE_LF = re.compile(rb"(?<!\r)\n")
OBS_FOLD = re.compile(rb"\r?\n[ \t]")


def framing_fault(head, headers):
    """Return why a request's head is refused (400 and close), or None.

    `head` is its raw bytes as received (request line and header lines), `headers` h11's.
    """
    if BARE_LF.search(head):
        return "a line ends in a bare LF"
    if OBS_FOLD.search(head):
        return "a header line is folded (obs-fold)"
    names = {name for name, _ in headers}
    if b"transfer-encoding" in names and b"content-length" in names:
        return "both Content-Length and Transfer-Encoding"
    return None


def last_value(headers, name):
    """Return the last comma-separated element of every `name` line (the nearest hop's)."""
    parts = [
        part.strip()
        for each, value in headers
        if each == name
        for part in value.decode("latin-1").split(",")
    ]
    return parts


def client_address(hops, peer, headers):
    """Return the client's address: behind the router, the one its X-Forwarded-For hop added.

    A client's own X-Forwarded-For entries come before the router's and are not trusted.
    """
    if not hops:
        return peer
    forwarded = last_value(headers, b"x-forwarded-for")
    return forwarded[-hops] if len(forwarded) >= hops else peer


def connection_named(headers):
    """Return the header names listed in Connection, which belong to the last hop only."""
    return {
        token.strip().lower().encode("latin-1")
        for name, value in headers
        if name == b"connection"
        for token in value.decode("latin-1").split(",")
    } - KEPT_FROM_CONNECTION


def upstream_headers(hops, headers, peer, size, method):
    """Return the headers gunicorn gets: the router's, plus this hop in X-Forwarded-For."""
    dropped = HOP_BY_HOP | FORWARDING | connection_named(headers)
    sent = [(name, value) for name, value in headers if name not in dropped]
    if not any(name == b"host" for name, _ in sent):
        sent.append((b"host", b"localhost"))
    forwarded = [value for name, value in headers if name == b"x-forwarded-for"]
    sent.append((b"x-forwarded-for", b", ".join([*forwarded, peer.encode()])))
    # Behind a router, the scheme its last line says (as for X-Forwarded-For, an earlier line
    # may be the client's); with none, nobody may claim https.
    scheme = last_value(headers, b"x-forwarded-proto")[-1:] if hops else []
    sent.append((b"x-forwarded-proto", (scheme or ["http"])[0].encode("latin-1")))
    if size or method in (b"POST", b"PUT", b"PATCH"):
        sent.append((b"content-length", str(size).encode()))
    sent.append((b"connection", b"close"))
    return sent


def response_headers(headers):
    """Return gunicorn's response headers without those of its hop."""
    dropped = HOP_BY_HOP | connection_named([(n.lower(), v) for n, v in headers])
    return [(name, value) for name, value in headers if name.lower() not in dropped]
