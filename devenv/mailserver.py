"""A real SMTP server (aiosmtpd) on 127.0.0.1 that keeps each message it accepts as a .eml file.

`./scripts/run` starts one for the local inbox (/dev/inbox), and the tests send mail to one
and read what arrived. It can answer like a server in trouble: 451 (try again later) to
everything, 550 (refused for good) for chosen recipients, or nothing at all (it hangs after
the client names a recipient, until told to stop hanging).
"""

import asyncio
import time
import uuid
from pathlib import Path

from aiosmtpd.controller import Controller

from app.inbox import read_messages
from devenv.liveserver import free_port


class MailFolder:
    """aiosmtpd handler: every message accepted is written to `folder` as one .eml file."""

    def __init__(self, folder):
        self.folder = Path(folder)
        self.folder.mkdir(parents=True, exist_ok=True)
        self.deferring = False  # answer 451 to every recipient
        self.refused = set()  # recipients answered 550
        self.hanging = False  # answer nothing to a recipient while set

    async def handle_RCPT(self, server, session, envelope, address, rcpt_options):
        while self.hanging:  # the client's own timeout ends its wait
            await asyncio.sleep(0.1)
        if self.deferring:
            return "451 4.3.2 Please try again later"
        if address.lower() in self.refused:
            return f"550 5.1.1 <{address}>: Recipient address rejected"
        envelope.rcpt_tos.append(address)
        return "250 OK"

    async def handle_DATA(self, server, session, envelope):
        name = f"{time.time_ns()}-{uuid.uuid4().hex[:8]}.eml"
        partial = self.folder / f".{name}.partial"
        partial.write_bytes(envelope.original_content or envelope.content)
        partial.rename(self.folder / name)  # a reader never sees half a message
        return "250 Message accepted for delivery"


class MailServer:
    """An SMTP server on 127.0.0.1:`port` (a free one by default) that keeps mail in `folder`."""

    def __init__(self, folder, port=0):
        self.handler = MailFolder(folder)
        self.port = port or free_port()
        self.controller = None

    def start(self):
        """Start accepting mail."""
        self.controller = Controller(self.handler, hostname="127.0.0.1", port=self.port)
        self.controller.start()
        return self

    def stop(self):
        """Stop: connections are refused until start() again, on the same port."""
        self.controller.stop()

    @property
    def folder(self):
        return self.handler.folder

    @property
    def url(self):
        """Return SMTP_URL for this server: plain SMTP, as it is on this machine."""
        return f"smtp://127.0.0.1:{self.port}?tls=off"

    def messages(self):
        """Return every message kept so far, oldest first."""
        return [message for _, message in read_messages(self.folder)]

    def to(self, address):
        """Return the messages sent to `address`, oldest first."""
        return [m for m in self.messages() if m["To"].addresses[0].addr_spec == address]

    def empty(self):
        """Forget every message kept so far."""
        for path in self.folder.glob("*.eml"):
            path.unlink()
