"""A request's body read by the front: whole, within its deadlines and limits, its framing
checked where h11 leaves a gap (a chunked body's end)."""

import asyncio

import h11

from front.upstream import CHUNK, spool


class Cut(Exception):
    """The client hung up, stalled or broke the framing before its request was whole."""


class Malformed(Cut):
    """The request broke HTTP/1.1's framing after its head: answered 400, then closed."""


class TooLarge(Exception):
    """A chunked body passed its limit."""


async def read_some(reader, seconds):
    """Return the next bytes from `reader` (b"" at its end), or None after `seconds` of nothing."""
    try:
        return await asyncio.wait_for(reader.read(CHUNK), max(seconds, 0))
    except TimeoutError:
        return None
    except ConnectionError:
        return b""


async def read_body(http, reader, writer, limit, seconds, chunked, between_reads):
    """Return the whole body (in a file at 0) and its size; raise Cut if it never completes
    within `seconds` in all, or stalls `between_reads` seconds (FRONT_BODY_SECONDS) between two
    reads.

    h11 ends a chunked body at a bare LF after the last chunk and takes trailer lines as
    it takes a head's (bare LF included): a proxy before the front could see a message
    that goes on. So a chunked body must end in CRLF CRLF, with no trailer (Malformed).
    """
    if http.they_are_waiting_for_100_continue:
        writer.write(http.send(h11.InformationalResponse(status_code=100, headers=[])))
    loop = asyncio.get_running_loop()
    deadline = loop.time() + seconds
    body, size = spool(), 0
    recent = http.trailing_data[0] if chunked else b""  # the body's bytes so far, its end
    try:
        while True:
            event = next_event(http)
            if event is h11.NEED_DATA:
                wait = min(between_reads, deadline - loop.time())
                data = await read_some(reader, wait)
                if data is None:
                    raise Cut
                http.receive_data(data)
                if chunked:
                    recent = recent[-8:] + data
            elif isinstance(event, h11.Data):
                size += len(event.data)
                if size > limit:
                    raise TooLarge
                body.write(event.data)
            elif isinstance(event, h11.EndOfMessage):
                if chunked:
                    ending = recent[: len(recent) - len(http.trailing_data[0])]
                    if event.headers or not ending.endswith(b"\r\n\r\n"):
                        raise Malformed("a chunked body ends with a trailer or a bare LF")
                body.seek(0)
                return body, size
            else:
                raise Cut
    except BaseException:
        body.close()
        raise


def next_event(http):
    """Return h11's next event; a broken framing is Malformed."""
    try:
        return http.next_event()
    except h11.RemoteProtocolError as error:
        raise Malformed(f"the body broke its framing ({error})") from error


async def read_end(http, reader, between_reads):
    """Take the end of a request without a body (it comes with the head)."""
    while True:
        event = next_event(http)
        if isinstance(event, h11.EndOfMessage):
            return
        if event is not h11.NEED_DATA:
            raise Cut
        data = await read_some(reader, between_reads)
        if data is None:
            raise Cut
        http.receive_data(data)
