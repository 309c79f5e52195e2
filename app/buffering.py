"""The app as gunicorn serves it: whole requests read by the event loop, then run on a thread.

gunicorn's threaded worker hands a connection to a thread as soon as its first bytes
arrive, so a client that trickles its headers or body holds a thread (and its database
connection) for as long as it likes. Here gunicorn's asyncio worker reads each request,
and the body is read here too (up to MAX_CONTENT_LENGTH) before the Flask app runs on one
of WEB_THREADS threads (a2wsgi), which therefore never waits for a client.
"""

from a2wsgi import WSGIMiddleware


def read_body(receive, limit):
    """Return the request's body messages, read until its end or past `limit` bytes."""

    async def read():
        messages, size = [], 0
        while size <= limit:
            message = await receive()
            messages.append(message)
            size += len(message.get("body", b""))
            if message["type"] != "http.request" or not message.get("more_body"):
                break
        return messages

    return read()


def replaying(messages, receive):
    """Return a `receive` that gives back `messages` first, then reads on."""

    async def replay():
        return messages.pop(0) if messages else await receive()

    return replay


def buffered(wsgi_app, threads, limit):
    """Return an ASGI app that reads each body (up to `limit` bytes) before `wsgi_app` runs."""
    threaded = WSGIMiddleware(wsgi_app, workers=threads)

    async def app(scope, receive, send):
        if scope["type"] == "http":
            # A body over the limit is left for Flask to refuse with 413 after `limit` bytes.
            receive = replaying(await read_body(receive, limit), receive)
        await threaded(scope, receive, send)

    return app
