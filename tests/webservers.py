"""Real web servers on 127.0.0.1 for the fetcher's tests: pages, slow or endless bodies, TLS.

Pages are served by pytest-httpserver (werkzeug's server). The slow and endless servers stay
hand-written on a plain socket: they break HTTP on purpose (a header sent one byte a second, a
Content-Length the body never meets, no answer at all), which no WSGI server lets an
application do, since it writes the status line and headers itself. Every server binds
127.0.0.1 on a free port, runs in daemon threads, and stops by itself: the slow and endless ones
send a bounded number of bytes for a bounded time.
"""

import ssl
import threading
from contextlib import contextmanager, suppress
from dataclasses import dataclass, field
from socketserver import ThreadingTCPServer
from urllib.parse import unquote

import trustme
from pytest_httpserver import HTTPServer
from werkzeug import Response


@dataclass
class Reply:
    """A canned response: status, headers and body (Content-Length is added)."""

    body: bytes = b""
    content_type: str | None = "text/html; charset=utf-8"
    status: int = 200
    headers: dict = field(default_factory=dict)

    def response(self):
        """Return the reply as a werkzeug Response, with no Content-Type if it has none."""
        response = Response(self.body, self.status, self.headers, content_type=self.content_type)
        if self.content_type is None:
            del response.headers["Content-Type"]  # werkzeug would say text/plain
        return response


def redirect(location, status=302):
    return Reply(status=status, headers={"Location": location}, content_type=None)


class PageServer(HTTPServer):
    """pytest-httpserver on 127.0.0.1 serving `Reply`s by path, 404 for any other path.

    Threaded like a real site; over TLS when given a server context, recording the names (SNI)
    that clients asked for in `server_names`.
    """

    def __init__(self, pages, tls=None):
        super().__init__("127.0.0.1", 0, ssl_context=tls, threaded=True)
        self.no_handler_status_code = 404
        self.server_names = []
        self.home = next(iter(pages), "/")  # what url() names by default: the first page
        if tls is not None:
            tls.sni_callback = self.remember_server_name
        self.add_pages(pages)

    def add_pages(self, pages):
        """Serve each `Reply` at its path (a query, if given, must match as sent)."""
        for target, reply in pages.items():
            path, _, query = target.partition("?")
            handler = self.expect_request(unquote(path), query_string=query or None)
            handler.respond_with_response(reply.response())

    def url(self, path=None):
        """Return the URL of `path` on this server, by default of its first page."""
        return self.url_for(path or self.home)

    @property
    def requests(self):
        """Each request received: its target as sent (percent-encoded) and its headers."""
        # REQUEST_URI is the request line's target before any decoding; werkzeug's server sets
        # it (request.path is decoded, so it would not show what the client sent).
        return [
            {"path": request.environ["REQUEST_URI"], "headers": request.headers}
            for request, _ in self.log
        ]

    def remember_server_name(self, tls_socket, server_name, context):
        self.server_names.append(server_name)

    def thread_target(self):
        """Serve until stopped, noticing a stop within 0.1 s (the library's default is 0.5 s)."""
        self.server.serve_forever(poll_interval=0.1)


def serve_pages(pages, tls=None):
    """Run a PageServer for the duration of the block."""
    return PageServer(pages, tls)


@contextmanager
def running(server):
    """Serve from a thread for the duration of the block, then stop and close the server."""
    thread = threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.1})
    thread.daemon = True
    thread.start()
    try:
        yield server
    finally:
        server.shutdown()
        server.server_close()


class RawServer(ThreadingTCPServer):
    """A TCP server on 127.0.0.1 whose `answer(sock, stop)` writes the response by hand."""

    daemon_threads = True
    allow_reuse_address = True

    def __init__(self, answer):
        self.answer = answer
        self.stop = threading.Event()
        super().__init__(("127.0.0.1", 0), self.Handler)
        self.port = self.server_address[1]

    class Handler:
        def __init__(self, request, client_address, server):
            with suppress(OSError):
                request.recv(65536)  # the request; its content does not matter here
                server.answer(request, server.stop)

    def handle_error(self, request, client_address):
        """The fetcher hangs up on these servers on purpose; stay quiet."""

    def shutdown(self):
        """Let slow answers end at once, then stop serving."""
        self.stop.set()
        super().shutdown()


def serve_raw(answer):
    """Run a RawServer for the duration of the block."""
    return running(RawServer(answer))


HTML_HEADERS = b"HTTP/1.1 200 OK\r\nContent-Type: text/html\r\nConnection: close\r\n"


def trickle_body(sock, stop, seconds=20):
    """Promise 1,000 bytes, then send one a second (for `seconds` at most)."""
    sock.sendall(HTML_HEADERS + b"Content-Length: 1000\r\n\r\n")
    trickle(sock, stop, seconds)


def trickle_unsized_body(sock, stop, seconds=20):
    """Send a body of no stated length, one byte a second (for `seconds` at most)."""
    sock.sendall(HTML_HEADERS + b"\r\n")
    trickle(sock, stop, seconds)


def trickle(sock, stop, seconds):
    """Send one byte a second for `seconds`, or until the server stops."""
    for _ in range(seconds):
        if stop.wait(1):
            return
        sock.sendall(b"a")


def trickle_headers(sock, stop, seconds=20):
    """Send the status line, then a header one byte a second (for `seconds` at most)."""
    sock.sendall(b"HTTP/1.1 200 OK\r\nX-Slow: ")
    trickle(sock, stop, seconds)


def silent(sock, stop, seconds=20):
    """Accept the request and never answer (for `seconds` at most)."""
    stop.wait(seconds)


def endless_body(sock, stop, limit=16 * 1024 * 1024):
    """Send a body with no length, 64 KiB at a time, until the client hangs up (16 MiB at most)."""
    sock.sendall(HTML_HEADERS + b"\r\n")
    chunk = b"word " * (64 * 1024 // 5)
    sent = 0
    while sent < limit and not stop.is_set():
        sock.sendall(chunk)
        sent += len(chunk)


def huge_length(sock, stop, seconds=20):
    """Announce a gigabyte, then send nothing (for `seconds` at most)."""
    sock.sendall(HTML_HEADERS + b"Content-Length: 1000000000\r\n\r\n")
    stop.wait(seconds)


class CertificateAuthority:
    """trustme's certificate authority, to serve HTTPS on 127.0.0.1 under a host name."""

    def __init__(self, folder):
        self.authority = trustme.CA()
        self.ca_file = folder / "ca.pem"
        self.authority.cert_pem.write_to_path(str(self.ca_file))

    def server_context(self, hostname):
        """Return a server TLS context with a certificate for `hostname` signed by this CA."""
        context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
        self.authority.issue_cert(hostname).configure_cert(context)
        return context
