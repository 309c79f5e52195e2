"""A small HTTP router on 127.0.0.1, like a platform's: it forwards every request to one
upstream web process, and `switch()` moves new requests to another one at once.

Each client connection keeps one kept-alive connection to the upstream, as a platform
router does, and opens a new one when the upstream changed. A request the upstream does
not answer gets a 502 (no retry, so the drill sees every failure at the edge).
"""

import http.client
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

HOP_BY_HOP = {
    "connection",
    "keep-alive",
    "proxy-connection",
    "te",
    "trailer",
    "transfer-encoding",
    "upgrade",
}


class RouterHandler(BaseHTTPRequestHandler):
    """Forwards one client connection's requests to the router's current upstream."""

    protocol_version = "HTTP/1.1"
    upstream_connection = None
    connected_to = None

    def do_request(self):
        """Forward the request as it came, with the X-Forwarded-* headers a router adds."""
        length = int(self.headers.get("Content-Length") or 0)
        body = self.rfile.read(length) if length else None
        headers = {k: v for k, v in self.headers.items() if k.lower() not in HOP_BY_HOP}
        headers["X-Forwarded-For"] = self.client_address[0]
        headers["X-Forwarded-Proto"] = "http"
        headers["X-Forwarded-Host"] = self.headers.get("Host", "")
        try:
            answer, data = self.forward(self.command, self.path, body, headers)
        except (OSError, http.client.HTTPException) as error:
            self.close_upstream()
            self.reply(502, [("Content-Type", "text/plain")], f"router: {error!r}".encode())
            return
        kept = [(k, v) for k, v in answer.getheaders() if k.lower() not in HOP_BY_HOP]
        self.reply(answer.status, [(k, v) for k, v in kept if k.lower() != "content-length"], data)

    do_GET = do_POST = do_HEAD = do_PUT = do_DELETE = do_request

    def upstream(self):
        """Return the (host, port) this request goes to: the router's current upstream."""
        return self.server.upstream

    def forward(self, method, path, body, headers):
        """Send the request on this connection's upstream connection; return answer and body."""
        upstream = self.upstream()
        if self.connected_to != upstream:
            self.close_upstream()
            self.upstream_connection = http.client.HTTPConnection(*upstream, timeout=60)
            self.connected_to = upstream
        self.upstream_connection.request(method, path, body=body, headers=headers)
        answer = self.upstream_connection.getresponse()
        data = answer.read()
        if answer.will_close:
            self.close_upstream()
        return answer, data

    def reply(self, status, headers, data):
        self.send_response(status)
        for name, value in headers:
            self.send_header(name, value)
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        if self.command != "HEAD":
            self.wfile.write(data)

    def close_upstream(self):
        if self.upstream_connection is not None:
            self.upstream_connection.close()
        self.upstream_connection = self.connected_to = None

    def finish(self):
        self.close_upstream()
        super().finish()

    def log_message(self, *args):
        """The drill counts requests itself; stay quiet."""


class Router(ThreadingHTTPServer):
    """Serve on 127.0.0.1 (a free port) and forward to `upstream`, a (host, port) pair."""

    daemon_threads = True

    def __init__(self, upstream):
        super().__init__(("127.0.0.1", 0), RouterHandler)
        self.upstream = upstream
        self.url = f"http://127.0.0.1:{self.server_address[1]}"
        self.thread = threading.Thread(target=self.serve_forever, daemon=True)

    def start(self):
        self.thread.start()
        return self

    def switch(self, upstream):
        """Send every request from now on to `upstream` (one assignment: atomic)."""
        self.upstream = upstream

    def stop(self):
        self.shutdown()
        self.server_close()
