"""gunicorn's side of the front: a whole request out on its Unix socket, a whole response in.

A response is spooled (in memory up to 64 KiB, then to a file in the front's folder) within
the dyno's response budget (front/budgets.py `Spool`): past it, or past what one response may
hold, the front answers 503 itself and drops gunicorn's connection.
"""

import asyncio
import tempfile

import h11

from front.budgets import Spool
from front.framing import upstream_headers
from front.pages import Answer

CONNECT_SECONDS = 5
UPSTREAM_SECONDS = 30  # the router gives up after 30 s, gunicorn's timeout too
MEMORY_BYTES = 64 * 1024  # a body or response past this goes to a file in the front's folder
CHUNK = 64 * 1024
# What the front sends on was parsed by h11 (a client's request, gunicorn's response) or is
# the front's own: h11's `_parsed` (a keyword of its events' constructors, h11 0.16) skips
# matching every name and value against the grammar a second time, which was a tenth of the
# front's CPU a request. h11 still checks the framing headers (Content-Length,
# Transfer-Encoding) as it always does.
PARSED = {"_parsed": True}


class SpoolFull(Exception):
    """A response would pass the dyno's response budget, or what one response may hold."""


def spool():
    """Return a file for a body or a response: in memory up to MEMORY_BYTES, then on disk."""
    return tempfile.SpooledTemporaryFile(MEMORY_BYTES)  # noqa: SIM115 (its owner closes it)


def content_length(headers):
    """Return a response's announced length, or 0."""
    given = [value for name, value in headers if name.lower() == b"content-length"]
    return int(given[0]) if given and given[0].isdigit() else 0


class Upstream:
    """Connections to gunicorn's socket, one per request, and the responses' budget."""

    def __init__(self, socket_path, hops, warn, spool_budget=None):
        self.socket_path = str(socket_path)
        self.hops = hops
        self.warn = warn
        self.spool = spool_budget or Spool()

    async def exchange(self, method, target, headers, peer, body, size, home="/"):
        """Pass a whole request to gunicorn and return its whole response (502/503/504 if none)."""
        try:
            reader, writer = await asyncio.wait_for(
                asyncio.open_unix_connection(self.socket_path, limit=CHUNK), CONNECT_SECONDS
            )
        except (OSError, TimeoutError) as error:
            self.warn(f"502: gunicorn's socket did not take the request ({error!r})")
            return Answer.own(502, headers, home)
        answer = Answer(0)
        try:
            http = h11.Connection(h11.CLIENT)
            sent = upstream_headers(self.hops, headers, peer, size, method)
            request = h11.Request(method=method, target=target, headers=sent, **PARSED)
            out = http.send(request)
            while body is not None and (chunk := body.read(CHUNK)):
                writer.write(out + http.send(h11.Data(data=chunk)))
                out = b""
                await asyncio.wait_for(writer.drain(), UPSTREAM_SECONDS)
            writer.write(out + http.send(h11.EndOfMessage()))  # a small request: one write
            await asyncio.wait_for(
                self.take_response(http, reader, method, answer), UPSTREAM_SECONDS
            )
            return answer
        except TimeoutError:
            self.release(answer)
            self.warn(f"504: gunicorn did not answer {method.decode()} in {UPSTREAM_SECONDS} s")
            return Answer.own(504, headers, home)
        except SpoolFull as error:
            self.release(answer)
            self.warn(f"503: {error} ({self.spool.used} bytes of responses held)")
            return Answer.own(503, headers, home, [(b"Retry-After", b"30")])
        except (OSError, h11.ProtocolError) as error:
            self.release(answer)
            self.warn(f"502: gunicorn's answer to {method.decode()} broke off ({error!r})")
            return Answer.own(502, headers, home)
        finally:
            writer.transport.abort()

    async def take_response(self, http, reader, method, answer):
        """Read gunicorn's whole response into `answer`, holding its bytes in the budget."""
        while True:
            event = http.next_event()
            if event is h11.NEED_DATA:
                http.receive_data(await reader.read(CHUNK))
            elif isinstance(event, h11.Response):
                answer.status, answer.reason = event.status_code, event.reason
                answer.headers = list(event.headers.raw_items())
                answer.body = spool()
                if method != b"HEAD":  # the announced length at once: refused before it comes
                    self.reserve(answer, content_length(answer.headers))
            elif isinstance(event, h11.Data):
                self.reserve(answer, answer.size + len(event.data) - answer.spooled)
                answer.body.write(event.data)
                answer.size += len(event.data)
            elif isinstance(event, h11.EndOfMessage):
                answer.body.seek(0)
                return
            elif isinstance(event, h11.ConnectionClosed):
                raise ConnectionResetError("gunicorn closed the connection mid-response")

    def reserve(self, answer, more):
        """Hold `more` bytes of the response budget for `answer`, or raise SpoolFull."""
        if more <= 0:
            return
        if not self.spool.take(answer.spooled, more):
            over = answer.spooled + more > self.spool.each
            raise SpoolFull(
                "one response is larger than a response may be held"
                if over
                else "the dyno's budget for responses being sent is full"
            )
        answer.spooled += more

    def release(self, answer):
        """Close a response's body and give its bytes back to the budget."""
        if answer.body is not None:
            answer.body.close()
        self.spool.give_back(answer.spooled)
        answer.spooled = 0
