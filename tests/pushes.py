"""Web Push played by the tests: VAPID keys for the app, a browser's keys and subscription, a
push service on 127.0.0.1 over HTTPS (its certificate from the tests' own authority), and
what a browser and a push service do with a push: decrypt its body (RFC 8291, aes128gcm)
and check its VAPID JWT (RFC 8292)."""

import base64
import json
import os
import re
import socket
import ssl
import threading
import time
from dataclasses import dataclass, field
from urllib.parse import urlsplit

import http_ece
import requests
from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.hazmat.primitives.asymmetric.utils import encode_dss_signature
from werkzeug import Response

from tests.webservers import PageServer, Reply

PUSH_PATH = "/push/4f1d0c"


def b64(data):
    """Return bytes as unpadded base64url, as browsers write push keys."""
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def unb64(text):
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


def public_bytes(private_key):
    """Return a P-256 key's public point, uncompressed (65 bytes)."""
    return private_key.public_key().public_bytes(
        serialization.Encoding.X962, serialization.PublicFormat.UncompressedPoint
    )


def vapid_settings():
    """Return a fresh VAPID key pair as the app's config holds it, and the private key."""
    key = ec.generate_private_key(ec.SECP256R1())
    private = b64(key.private_numbers().private_value.to_bytes(32, "big"))
    settings = {"public_key": b64(public_bytes(key)), "private_key": private}
    return {**settings, "subject": "mailto:memo@localhost"}, key


@dataclass
class PushBrowser:
    """A browser's side of a subscription: its P-256 key pair and auth secret."""

    key: ec.EllipticCurvePrivateKey = field(
        default_factory=lambda: ec.generate_private_key(ec.SECP256R1())
    )
    auth: bytes = field(default_factory=lambda: os.urandom(16))

    def subscription(self, endpoint):
        """Return the form the page's script sends for `endpoint`."""
        return {"endpoint": endpoint, "p256dh": b64(public_bytes(self.key)), "auth": b64(self.auth)}

    def read(self, body):
        """Decrypt a push's aes128gcm body as the browser does; return the payload's JSON."""
        plain = http_ece.decrypt(
            body, private_key=self.key, auth_secret=self.auth, version="aes128gcm"
        )
        return json.loads(plain)


class PushService(PageServer):
    """A push service on 127.0.0.1 (HTTPS for `localhost`) answering `status` at PUSH_PATH."""

    def __init__(self, tls, status=201):
        super().__init__({PUSH_PATH: Reply(b"", content_type=None, status=status)}, tls)

    @property
    def endpoint(self):
        return f"https://localhost:{self.port}{PUSH_PATH}"

    @property
    def origin(self):
        return f"https://localhost:{self.port}"

    def answer(self, status):
        """Answer `status` from now on."""
        self.clear_all_handlers()
        self.add_pages({PUSH_PATH: Reply(b"", content_type=None, status=status)})

    @property
    def pushes(self):
        """Each POST received: its headers and body."""
        return [
            {"headers": request.headers, "body": request.get_data()}
            for request, _ in self.log
            if request.method == "POST"
        ]


def vapid_claims(authorization, public_key):
    """Check a push's `Authorization: vapid t=JWT,k=KEY` as a push service does: the key is
    `public_key` (base64url) and signed the JWT (ES256). Return the JWT's claims."""
    scheme, _, params = authorization.partition(" ")
    assert scheme == "vapid", authorization
    parts = dict(param.split("=", 1) for param in params.split(","))
    assert parts["k"] == public_key
    header, claims, signature = parts["t"].split(".")
    assert json.loads(unb64(header)) == {"typ": "JWT", "alg": "ES256"}
    raw = unb64(signature)
    point = ec.EllipticCurvePublicKey.from_encoded_point(ec.SECP256R1(), unb64(public_key))
    r, s = int.from_bytes(raw[:32], "big"), int.from_bytes(raw[32:], "big")
    try:
        point.verify(
            encode_dss_signature(r, s), f"{header}.{claims}".encode(), ec.ECDSA(hashes.SHA256())
        )
    except InvalidSignature:
        raise AssertionError("the VAPID JWT's signature does not verify") from None
    return json.loads(unb64(claims))


SHOWN = """async (seconds) => {
  const registration = await navigator.serviceWorker.ready;
  const deadline = Date.now() + seconds * 1000;
  let shown = [];
  while (!shown.length && Date.now() < deadline) {
    shown = await registration.getNotifications();
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
  return shown.map((n) => ({title: n.title, body: n.body, lang: n.lang, url: n.data.url}));
}"""


def push_to_page(context, page, payload, seconds=30):
    """Deliver `payload` (JSON, as a browser receives it decrypted) to the page's service
    worker through Chromium's DevTools protocol, once Chromium reports it activated; return
    the notifications it then shows. DevTools reports registrations and versions as events,
    which may come after `navigator.serviceWorker.ready` has resolved on a busy machine.

    DevTools answers a delivery before the event reaches the worker and drops what fails on
    the way (its callback ignores the outcome): once in a full run on a loaded machine, one
    delivery showed nothing for 10 s while the same test alone shows it at once. So a push
    that shows nothing within 5 s is delivered again; the notification's tag makes a second
    delivery replace the first, so one is still all a page may show, and a worker that
    shows nothing still fails the test."""
    context.grant_permissions(["notifications"])
    devtools = context.new_cdp_session(page)
    registrations, statuses = [], {}
    devtools.on(
        "ServiceWorker.workerRegistrationUpdated",
        lambda event: registrations.extend(event["registrations"]),
    )

    def versions_updated(event):
        for version in event["versions"]:  # each version's latest status
            statuses[version["versionId"]] = (version["registrationId"], version["status"])

    devtools.on("ServiceWorker.workerVersionUpdated", versions_updated)
    devtools.send("ServiceWorker.enable")
    page.evaluate("navigator.serviceWorker.ready.then(() => true)")
    scope = page.evaluate("location.origin") + "/"

    def active():
        ids = {r["registrationId"] for r in registrations if r["scopeURL"] == scope}
        ids -= {r["registrationId"] for r in registrations if r["isDeleted"]}
        return {r for r, status in statuses.values() if status == "activated"} & ids

    deadline = time.monotonic() + seconds
    while not active():
        assert time.monotonic() < deadline, f"no service worker reported active for {scope}"
        page.wait_for_timeout(100)  # Playwright hands over the events while it waits
    [registration_id] = active()
    while True:  # delivered at least once, however long the worker took to activate
        devtools.send(
            "ServiceWorker.deliverPushMessage",
            {"origin": scope[:-1], "registrationId": registration_id, "data": payload},
        )
        shown = page.evaluate(SHOWN, 5)
        if shown or time.monotonic() >= deadline:
            return shown


class SilentService:
    """A push service on 127.0.0.1 (HTTPS for `localhost`) that accepts each connection,
    completes TLS, reads the request and never answers: a receiver holding the sender."""

    def __init__(self, tls):
        self.tls = tls
        self.listener = socket.create_server(("127.0.0.1", 0))
        self.listener.settimeout(0.2)
        self.port = self.listener.getsockname()[1]
        self.held = []
        self.stopped = threading.Event()

    def __enter__(self):
        threading.Thread(target=self.serve, daemon=True).start()
        return self

    def __exit__(self, *exc_info):
        self.stopped.set()
        self.listener.close()

    def endpoint(self, number):
        return f"https://localhost:{self.port}{PUSH_PATH}/{number}"

    def serve(self):
        while not self.stopped.is_set():
            try:
                connection, _ = self.listener.accept()
            except TimeoutError:
                continue
            except OSError:
                return
            threading.Thread(target=self.hold, args=(connection,), daemon=True).start()

    def hold(self, connection):
        """Take the connection's TLS and request, then say nothing until the sender leaves."""
        try:
            with self.tls.wrap_socket(connection, server_side=True) as wrapped:
                self.held.append(wrapped.getpeername())
                wrapped.settimeout(0.2)
                while not self.stopped.is_set():
                    try:
                        if not wrapped.recv(4096):
                            return
                    except TimeoutError:
                        continue
        except (OSError, ssl.SSLError):
            return


class TLSFront(PageServer):
    """HTTPS on 127.0.0.1 for `localhost` in front of a push service that serves plain HTTP
    (web-push-testing): each request under `prefix` is passed on to `origin` with its
    headers and body as received, and the answer comes back as the service gave it."""

    def __init__(self, tls, origin, prefix="/notify/"):
        super().__init__({}, tls)
        self.origin = origin
        self.answers = []  # each answer of the service: its status and body as text
        self.expect_request(re.compile(re.escape(prefix) + ".*")).respond_with_handler(self.relay)

    def relay(self, request):
        headers = {name: value for name, value in request.headers if name.lower() not in HOP_BY_HOP}
        answer = requests.request(
            request.method,
            self.origin + request.full_path.rstrip("?"),
            data=request.get_data(),
            headers=headers,
            timeout=10,
        )
        self.answers.append(f"{answer.status_code} {answer.text}")
        return Response(
            answer.content, answer.status_code, content_type=answer.headers.get("Content-Type")
        )

    def endpoint(self, endpoint):
        """Return the push service's `endpoint` as reached through this front."""
        path = urlsplit(endpoint).path
        return f"https://localhost:{self.port}{path}"


HOP_BY_HOP = {"host", "connection", "content-length", "keep-alive", "transfer-encoding"}
