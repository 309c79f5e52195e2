"""The HTTP/1.1 rules h11 leaves to its user, and the headers that cross the front.

h11 0.16 frames a request carrying both Content-Length and Transfer-Encoding by its chunks and
keeps the connection, and it accepts bare-LF line ends and obs-folded header lines. A proxy
before the front that reads the same bytes another way would see a different request (request
smuggling), so these are refused here with 400 and the connection closed (RFC 9112 §6.1, §2.2,
§5.2). Everything else about framing is h11's, with its grammar of chunk extensions made the
RFC's (below).
"""

import re

import h11._readers

# h11 0.16 reads a chunk extension as ";.*": any byte but LF, so a lone CR or a NUL too, which a
# proxy before the front may take for a line's end. Its reader looks the pattern up by this
# module-level name on every chunk; here it is RFC 9112 §7.1.1's (token, or a quoted string;
# no whitespace around ";" and "="). tests/test_front_smuggling.py pins it.
TOKEN = rb"[-!#$%&'*+.^_`|~0-9A-Za-z]+"
QUOTED = rb'"(?:[\t !#-\[\]-~\x80-\xff]|\\[\t -~\x80-\xff])*"'
h11._readers.chunk_header_re = re.compile(
    rb"(?P<chunk_size>[0-9A-Fa-f]{1,20})"
    rb"(?P<chunk_ext>(?:;" + TOKEN + rb"(?:=(?:" + TOKEN + rb"|" + QUOTED + rb"))?)*)"
    rb"[ \t]*\r\n"
)

# Headers of one hop (RFC 9110 §7.6.1; "Close" is a reserved field name, §7.6.1 too), the
# body's framing (the front sets its own) and gunicorn's name and version, which are nobody's
# business.
HOP_BY_HOP = frozenset(
    {
        b"connection",
        b"close",
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
NOT_PASSED_ON = HOP_BY_HOP | FORWARDING
# A header named in Connection is stripped (RFC 9110 §7.6.1), except those the front reads
# itself: a client may not make the front forget its router's X-Forwarded-For.
KEPT_FROM_CONNECTION = frozenset({b"host", *FORWARDING})


def framing_fault(head, fields, version):
    """Return why a request's head is refused (400 and close), or None.

    `head` is its raw bytes as received (request line and header lines), `fields` h11's
    headers as a dict (h11 has already refused a repeated Content-Length or Transfer-Encoding
    that disagrees). The raw checks are two counts and two finds over the bytes, in C: every
    request pays them.
    """
    if head.count(b"\n") != head.count(b"\r\n"):
        return "a line ends in a bare LF"
    if b"\n " in head or b"\n\t" in head:  # every LF is a CRLF here
        return "a header line is folded (obs-fold)"
    if b"transfer-encoding" in fields and b"content-length" in fields:
        return "both Content-Length and Transfer-Encoding"
    if version != b"1.1" and version != b"1.0":  # h11 takes any HTTP/d.d
        return "not HTTP/1.1 or HTTP/1.0"
    if version == b"1.0" and b"transfer-encoding" in fields:  # RFC 9112 §6.1: faulty framing
        return "Transfer-Encoding in an HTTP/1.0 request"
    return None


def client_address(hops, peer, headers):
    """Return the client's address: behind the router, the one its X-Forwarded-For hop added.

    A client's own X-Forwarded-For entries come before the router's and are not trusted.
    """
    if not hops:
        return peer
    forwarded = [
        part.strip()
        for name, value in headers
        if name == b"x-forwarded-for"
        for part in value.decode("latin-1").split(",")
    ]
    return forwarded[-hops] if len(forwarded) >= hops else peer


def connection_named(headers):
    """Return the lowercase names listed in Connection lines (of one hop only), as bytes."""
    named = set()
    for name, value in headers:
        if name == b"connection":
            named.update(token.strip() for token in value.lower().split(b","))
    return named


def upstream_headers(hops, headers, peer, size, method):
    """Return the headers gunicorn gets: the router's, plus this hop in X-Forwarded-For."""
    named = connection_named(headers) - KEPT_FROM_CONNECTION - NOT_PASSED_ON
    dropped = NOT_PASSED_ON | named if named else NOT_PASSED_ON
    sent, forwarded, scheme = [], [], b"http"
    for pair in headers:
        name = pair[0]
        if name not in dropped:
            sent.append(pair)
        elif name == b"x-forwarded-for":
            forwarded.append(pair[1])
        elif name == b"x-forwarded-proto" and hops:
            # Behind a router, the scheme its last line says (as for X-Forwarded-For, an
            # earlier line may be the client's); with none, nobody may claim https.
            scheme = pair[1].rsplit(b",", 1)[-1].strip()
    if not any(name == b"host" for name, _ in sent):
        sent.append((b"host", b"localhost"))
    forwarded.append(peer.encode())
    sent.append((b"x-forwarded-for", b", ".join(forwarded)))
    sent.append((b"x-forwarded-proto", scheme))
    if size or method in (b"POST", b"PUT", b"PATCH"):
        sent.append((b"content-length", str(size).encode()))
    sent.append((b"connection", b"close"))
    return sent


def response_headers(headers):
    """Return gunicorn's response headers (names as it cased them) without those of its hop."""
    lowered = [(pair[0].lower(), pair) for pair in headers]
    named = connection_named((low, pair[1]) for low, pair in lowered) - HOP_BY_HOP
    dropped = HOP_BY_HOP | named if named else HOP_BY_HOP
    return [pair for low, pair in lowered if low not in dropped]
