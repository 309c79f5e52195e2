"""The front in this process, on loopback, before a small h11 server on a Unix socket.

Protocol tests drive the front's own code (front/serving.py and the rest) in milliseconds, as
h11 tests itself: bytes in, events out. What stands behind it is not the app but a server
that answers each request by what it was sent (`seen` keeps every request it took), so a test
sees exactly what the front passed on. Process tests (tests/test_front*.py) run the real app.
"""

import asyncio
import json
import socket
from contextlib import suppress
from types import SimpleNamespace

import h11

import config
from front.serving import Front

SETTINGS = {
    "TRUSTED_PROXY_HOPS": 0,
    "FRONT_HEADER_SECONDS": 1,
    "FRONT_BODY_SECONDS": 1,
    "MAX_CONTENT_LENGTH": 1024 * 1024,
    **{name: getattr(config.Config, name) for name in dir(config.Config) if "FRONT_" in name},
}


class Backend:
    """gunicorn's stand-in: /auth/signed-in by a `session=<account>` cookie, /big?n=<bytes>,
    and for anything else a JSON echo of the request."""

    def __init__(self):
        self.seen = []

    async def serve(self, reader, writer):
        http = h11.Connection(h11.SERVER)
        request, body = None, b""
        while True:
            event = http.next_event()
            if event is h11.NEED_DATA:
                http.receive_data(await reader.read(65536))
            elif isinstance(event, h11.Request):
                request = event
            elif isinstance(event, h11.Data):
                body += event.data
            elif isinstance(event, h11.EndOfMessage | h11.ConnectionClosed):
                break
        headers = {name.decode(): value.decode() for name, value in request.headers}
        self.seen.append((request.method, request.target, headers, len(body)))
        status, extra, payload = self.answer(request, headers, body)
        length = str(len(payload)).encode()
        payload = b"" if request.method == b"HEAD" else payload
        writer.write(
            http.send(
                h11.Response(status_code=status, headers=[(b"content-length", length), *extra])
            )
            + http.send(h11.Data(data=payload))
            + http.send(h11.EndOfMessage())
        )
        with suppress(ConnectionError):
            await writer.drain()
        writer.close()

    @staticmethod
    def answer(request, headers, body):
        if request.target == b"/auth/signed-in":
            cookie = headers.get("cookie", "")
            if cookie.startswith("session=acct-"):
                return 204, [(b"x-memo-account", cookie[8:].encode())], b""
            return 401, [], b""
        if request.target.startswith(b"/big?n="):
            return 200, [], b"x" * int(request.target[7:])
        echo = {"method": request.method.decode(), "headers": headers, "size": len(body)}
        return 200, [(b"content-type", b"application/json")], json.dumps(echo).encode()


class Rig:
    """A front and its backend, serving inside the running event loop."""

    def __init__(self, folder, **settings):
        self.socket_path = str(folder / "app.sock")
        self.front = Front(SimpleNamespace(**{**SETTINGS, **settings}), self.socket_path)
        self.backend = Backend()

    async def __aenter__(self):
        self.unix = await asyncio.start_unix_server(self.backend.serve, self.socket_path)
        await self.front.listen("127.0.0.1", 0)
        self.port = self.front.server.sockets[0].getsockname()[1]
        return self

    async def __aexit__(self, *exc):
        self.front.stop_listening()
        await self.front.finish(1)
        self.unix.close()

    async def connect(self, source="127.0.0.1", receive_buffer=None):
        """Return a Client connected to the front from the address `source`."""
        return await Client.open(self.port, source, receive_buffer)


class Client:
    """One client connection: raw bytes out, the front's answers read back with h11."""

    @classmethod
    async def open(cls, port, source, receive_buffer):
        client = cls()
        if receive_buffer:  # a slow reader: the kernel holds little of what the front sends
            sock = socket.socket()
            sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, receive_buffer)
            sock.bind((source, 0))
            sock.setblocking(False)
            await asyncio.get_running_loop().sock_connect(sock, ("127.0.0.1", port))
            client.reader, client.writer = await asyncio.open_connection(sock=sock)
        else:
            client.reader, client.writer = await asyncio.open_connection(
                "127.0.0.1", port, local_addr=(source, 0)
            )
        client.http = h11.Connection(h11.CLIENT)
        client.expected = []
        return client

    async def send(self, data, *methods):
        """Send raw bytes; `methods`: the requests they hold, whose answers will be read."""
        for method in methods:
            self.expected.append(method)
        self.writer.write(data)
        await self.writer.drain()

    async def response(self, timeout=3):
        """Return (status, headers dict, body) of the next final answer, skipping 1xx."""
        status, headers, body = None, {}, b""
        method = self.expected.pop(0)
        self.http.send(h11.Request(method=method, target="/", headers=[("host", "front")]))
        self.http.send(h11.EndOfMessage())
        while True:
            event = self.http.next_event()
            if event is h11.NEED_DATA:
                data = await asyncio.wait_for(self.reader.read(65536), timeout)
                self.http.receive_data(data)
            elif isinstance(event, h11.InformationalResponse):
                self.informational = event.status_code
            elif isinstance(event, h11.Response):
                status = event.status_code
                headers = {n.decode(): v.decode() for n, v in event.headers}
            elif isinstance(event, h11.Data):
                body += event.data
            elif isinstance(event, h11.EndOfMessage):
                if self.http.our_state is h11.DONE and self.http.their_state is h11.DONE:
                    self.http.start_next_cycle()
                return status, headers, body
            else:
                return None, {}, b""

    async def closed(self, timeout=3):
        """Return whether the front closes the connection within `timeout` (reading on)."""
        try:
            async with asyncio.timeout(timeout):
                while await self.reader.read(65536):
                    pass
        except TimeoutError:
            return False
        except ConnectionError:
            return True
        return True

    def close(self):
        self.writer.transport.abort()


def run(scenario, folder, **settings):
    """Run `scenario(rig)` against a front serving in a fresh event loop."""

    async def main():
        async with Rig(folder, **settings) as rig:
            return await scenario(rig)

    return asyncio.run(main())
