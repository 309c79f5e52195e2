"""web-push-testing (npm, pinned in devenv/webpush/): a push service written by others.

The web-push-libs' test server takes a subscription for an application server key, gives
back the subscription a browser would (an endpoint, a P-256 key and an auth secret), and then
does what a push service and a browser do with a push to it: it checks the VAPID JWT (ES256,
against the key the subscription was made for, RFC 8292), decrypts the aes128gcm body with
the subscription's own keys (RFC 8291, with the http_ece package of npm) and keeps the
plaintext, which `notifications()` hands back. Nothing of it shares code with Memo's sender
(pywebpush, py_vapid) or with the tests' own decoder (tests/pushes.py).

It runs from devenv/webpush/node_modules, which `scripts/dev.py test` fills with `npm ci`
(again only when package-lock.json changes); without node or that folder, the tests that
need it are skipped, saying why.
"""

import hashlib
import shutil
import subprocess
import threading
from pathlib import Path

import requests

from devenv.liveserver import free_port

FOLDER = Path(__file__).resolve().parent / "webpush"
LOCK = FOLDER / "package-lock.json"
STAMP = FOLDER / "node_modules" / ".package-lock.sha256"
# The package's own server program, the one its CLI's `start` runs: the CLI detaches it and
# keeps its pid in a file of the current folder, where the tests want a child of their own.
SERVER = FOLDER / "node_modules" / "web-push-testing" / "src" / "bin" / "server.js"
STARTED = "Server running on port"


def lock_digest():
    """Return the digest of package-lock.json that an install is stamped with."""
    return hashlib.sha256(LOCK.read_bytes()).hexdigest()


def missing():
    """Return why web-push-testing cannot run here, or an empty string if it can."""
    if shutil.which("node") is None:
        return "node is not installed (web-push-testing needs node 20 or later)"
    if not SERVER.exists():
        return f"web-push-testing is not installed in {FOLDER} (./scripts/test installs it)"
    if not STAMP.exists() or STAMP.read_text() != lock_digest():
        return f"{FOLDER} does not hold {LOCK.name} as pinned (./scripts/test updates it)"
    return ""


class WebPushTesting:
    """web-push-testing on a free port (plain HTTP: it serves nothing else)."""

    def __init__(self):
        self.port = free_port()
        self.process = None
        self.said = []  # what it printed (it logs why it refused a push)

    @property
    def url(self):
        return f"http://localhost:{self.port}"

    def start(self):
        """Start the server and wait until it says it listens."""
        self.process = subprocess.Popen(
            ["node", str(SERVER), str(self.port)],
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            text=True,
        )
        first = self.process.stdout.readline()  # "" when it exited
        if STARTED not in first:
            self.stop()
            raise RuntimeError(f"web-push-testing did not start on port {self.port}: {first}")
        threading.Thread(target=self.listen, daemon=True).start()
        return self

    def listen(self):
        """Keep what the server prints, so that its pipe never fills."""
        for line in self.process.stdout:
            self.said.append(line)

    def stop(self):
        if self.process and self.process.poll() is None:
            self.process.terminate()
            self.process.wait(10)
        if self.process:
            self.process.stdout.close()

    def subscribe(self, application_server_key):
        """Subscribe as a page does with `applicationServerKey` (base64url); return the
        subscription: `endpoint`, `keys` (`p256dh`, `auth`) and its `clientHash`."""
        options = {"userVisibleOnly": "true", "applicationServerKey": application_server_key}
        answer = requests.post(f"{self.url}/subscribe", json=options, timeout=10)
        answer.raise_for_status()
        return answer.json()["data"]

    def notifications(self, client_hash):
        """Return the payloads it received for the subscription and decrypted, as text."""
        answer = requests.post(
            f"{self.url}/get-notifications", json={"clientHash": client_hash}, timeout=10
        )
        answer.raise_for_status()
        return answer.json()["data"]["messages"]

    def expire(self, client_hash):
        """End the subscription as a browser that let go of it: pushes to it answer 410."""
        answer = requests.post(f"{self.url}/expire-subscription/{client_hash}", timeout=10)
        answer.raise_for_status()
