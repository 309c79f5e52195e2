"""The app as gunicorn serves it: whole requests read by the event loop, then run on a thread.

gunicorn's threaded worker hands a connection to a thread as soon as its first bytes
arrive, so a client that trickles its headers or body holds a thread (and its database
connection) for as long as it likes. Here gunicorn's asyncio worker reads each request,
and the body is read here too (up to MAX_CONTENT_LENGTH, spooled to a temporary file past
a small size, so a thousand slow uploads cost disk, not memory) before the Flask app runs
on one of WEB_THREADS threads (a2wsgi), which therefore never waits for a client.
"""

from tempfile import SpooledTemporaryFile

from a2wsgi import WSGIMiddleware

IN_MEMORY = 64 * 1024  # a body larger than this waits in a temporary file
CHUNK = 64 * 1024  # the pieces the app is then given


class BufferedBody:
    """A request body read from the client before the app runs, then replayed to it."""

    def __init__(self, receive, limit, spool):
        self.receive = receive
        self.limit = limit
        self.spool = spool
        self.size = 0
        self.complete = False  # the whole body is here, not only its first `limit` bytes
        self.other = None  # a message that is no body (a disconnect), replayed after it

    async def read(self):
        """Read the body until its end, a disconnect, or past `limit` bytes."""
        while self.size <= self.limit:
            message = await self.receive()
            if message["type"] != "http.request":
                self.other = message
                break
            self.spool.write(message.get("body", b""))
            self.size += len(message.get("body", b""))
            if not message.get("more_body"):
                self.complete = True
                break
        self.spool.seek(0)

    async def replay(self):
        """Give the app the body read so far in pieces, then what followed it."""
        if not self.spool.closed:
            piece = self.spool.read(CHUNK)
            if piece:
                return {"type": "http.request", "body": piece, "more_body": True}
            self.spool.close()
            if self.complete:
                return {"type": "http.request", "body": b"", "more_body": False}
            if self.other is not None:
                return self.other
        # Past the limit (see with_length) or after the end: what the client sends next.
        return await self.receive()


def with_length(scope, size):
    """Return `scope` with its body's length stated and no transfer coding.

    The body is all here now, so its length is known: a chunked one would otherwise look
    empty to Werkzeug, which reads no body of unknown length. A body cut short at the limit
    states its size so far (past the limit), which Flask refuses with 413 at once.
    """
    framing = {b"content-length", b"transfer-encoding"}
    headers = [(name, value) for name, value in scope["headers"] if name.lower() not in framing]
    return {**scope, "headers": [*headers, (b"content-length", str(size).encode())]}


class BufferedApp:
    """An ASGI app that reads each body (up to `limit` bytes) before `wsgi_app` runs on a thread."""

    def __init__(self, wsgi_app, threads, limit):
        self.threads = threads  # and so the database connections a worker uses at most
        self.limit = limit
        self.threaded = WSGIMiddleware(wsgi_app, workers=threads)

    async def __call__(self, scope, receive, send):
        if scope["type"] != "http":
            return await self.threaded(scope, receive, send)
        with SpooledTemporaryFile(max_size=IN_MEMORY) as spool:
            body = BufferedBody(receive, self.limit, spool)
            await body.read()
            return await self.threaded(with_length(scope, body.size), body.replay, send)
