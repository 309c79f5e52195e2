"""A webhook receiver on 127.0.0.1, written as a tool that receives Memo's webhooks would be:
it verifies every delivery with the `standardwebhooks` library and the secret Memo showed
once; and the helpers the webhooks' tests share.

It can also be a bad receiver: one that answers an error, answers slowly, answers without
end, or redirects; and it can be stopped and started again on the same port.
"""

import json
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

from sqlalchemy import select, update
from standardwebhooks.webhooks import Webhook, WebhookVerificationError

from app.extensions import db
from app.features.webhooks import tasks
from app.models import WEBHOOK_EVENTS, User, WebhookDelivery, utcnow


class Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"

    def do_POST(self):
        receiver = self.server.receiver
        body = self.rfile.read(int(self.headers.get("Content-Length", 0)))
        receiver.take(self.path, dict(self.headers), body)
        receiver.behaviour(self)

    def do_GET(self):  # a redirect followed would come here
        self.server.receiver.take(self.path, dict(self.headers), b"")
        self.send_response(200)
        self.send_header("Content-Length", "0")
        self.end_headers()

    def log_message(self, *args):
        pass


def answer(status, body=b""):
    """Return a behaviour that answers `status` with `body`."""

    def behave(handler):
        handler.send_response(status)
        handler.send_header("Content-Length", str(len(body)))
        handler.end_headers()
        handler.wfile.write(body)

    return behave


def slow(seconds):
    """Return a behaviour that waits `seconds` before answering 200."""

    def behave(handler):
        time.sleep(seconds)
        answer(200)(handler)

    return behave


def endless(handler):
    """Answer 200 with a body that never ends (1 MB a chunk, until the client hangs up)."""
    handler.send_response(200)
    handler.send_header("Content-Length", str(10**12))
    handler.end_headers()
    chunk = b"x" * 2**20
    try:
        for _ in range(10_000):
            handler.wfile.write(chunk)
    except OSError:
        handler.server.receiver.hung_up.set()


def redirect(location):
    """Return a behaviour that redirects to `location`."""

    def behave(handler):
        handler.send_response(307)
        handler.send_header("Location", location)
        handler.send_header("Content-Length", "0")
        handler.end_headers()

    return behave


class Receiver:
    """A webhook receiver: `deliveries` holds each POST, verified with `secret`."""

    def __init__(self, port=0):
        self.secret = None
        self.deliveries = []
        self.paths = []
        self.behaviour = answer(204)
        self.hung_up = threading.Event()
        self.port = port
        self.server = None

    def start(self):
        self.server = ThreadingHTTPServer(("127.0.0.1", self.port), Handler)
        self.server.daemon_threads = True
        self.server.receiver = self
        self.port = self.server.server_address[1]
        threading.Thread(target=self.server.serve_forever, daemon=True).start()
        return self

    def stop(self):
        self.server.shutdown()
        self.server.server_close()

    def __enter__(self):
        return self.start()

    def __exit__(self, *exc_info):
        self.stop()

    def url(self, path="/hooks/memo"):
        return f"http://127.0.0.1:{self.port}{path}"

    def take(self, path, headers, body):
        """Record a request; a POST is verified as the library does, its result kept."""
        self.paths.append(path)
        if not body:
            return
        lowered = {name.lower(): value for name, value in headers.items()}
        try:
            payload = Webhook(self.secret).verify(body, lowered)
            verified = True
        except WebhookVerificationError:
            payload, verified = json.loads(body), False
        self.deliveries.append(
            {
                "id": lowered.get("webhook-id"),
                "headers": lowered,
                "payload": payload,
                "verified": verified,
            }
        )

    @property
    def types(self):
        return [delivery["payload"]["type"] for delivery in self.deliveries]


ALL_EVENTS = list(WEBHOOK_EVENTS)


def make_hook(api, receiver, events=ALL_EVENTS, **fields):
    """Make a webhook to `receiver` through the API; hand the receiver its secret."""
    response = api.post("/webhooks", {"url": receiver.url(), "events": events, **fields})
    assert response.status_code == 201, response.get_json()
    made = response.get_json()
    receiver.secret = made["secret"]
    return made


def ann_id(app):
    with app.app_context():
        return db.session.scalar(select(User.id).where(User.email == "ann@example.com"))


def verify_address(app):
    with app.app_context():
        db.session.execute(update(User).values(email_verified_at=utcnow()))
        db.session.commit()


def send(app, user_id):
    """Run the account's sending job as the worker does."""
    with app.app_context():
        tasks.send_webhooks(user_id=user_id)


def come_due(app):
    """Let the retries' waits pass."""
    with app.app_context():
        db.session.execute(update(WebhookDelivery).values(next_attempt_at=utcnow()))
        db.session.commit()
