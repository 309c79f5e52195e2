"""A passkey in software, as a phone or a security key makes and uses one (WebAuthn Level 3:
an ES256 key pair, attestation "none"), and the forms of passkeys as a page's script sends
them. The browser tests use Chromium's virtual authenticator instead
(tests/test_passkeys_browser.py); this one lets the server's side be tried fast, and lied
to: another origin, a replayed answer, no user verification, someone else's credential id."""

import hashlib
import json
import re
import secrets
import struct
from base64 import urlsafe_b64decode, urlsafe_b64encode

import cbor2
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import ec
from sqlalchemy import func, select

from app.extensions import db
from app.models import Passkey
from devenv.visitors import PASSWORD
from tests.mailbox import PUBLIC_URL
from tests.phones import RECOVERY_CODE

UP, UV, AT = 0x01, 0x04, 0x40  # authenticator data flags: user present, verified, key data
PASSKEY_ID = re.compile(r'action="/mypage/passkeys/([0-9]+)/delete"')


def b64(data):
    return urlsafe_b64encode(data).rstrip(b"=").decode()


def unb64(text):
    return urlsafe_b64decode(text + "=" * (-len(text) % 4))


class SoftPasskey:
    """One passkey: its key pair, credential id and counter; it signs what it is asked to."""

    def __init__(self, origin=PUBLIC_URL, verifies_user=True, counter_step=0):
        self.key = ec.generate_private_key(ec.SECP256R1())
        self.credential_id = secrets.token_bytes(32)
        self.origin = origin
        self.verifies_user = verifies_user
        self.counter_step = counter_step  # synced passkeys keep 0; security keys count up
        self.counter = 0
        self.user_handle = None
        self.public_key = None  # what it sends as its public key, if not its own (a lie)
        self.in_a_frame = False  # the browser says the page was framed by another site

    def cose_key(self):
        if self.public_key is not None:
            return self.public_key
        numbers = self.key.public_key().public_numbers()
        x, y = numbers.x.to_bytes(32, "big"), numbers.y.to_bytes(32, "big")
        return cbor2.dumps({1: 2, 3: -7, -1: 1, -2: x, -3: y})

    def authenticator_data(self, rp_id, attested=False):
        self.counter += self.counter_step
        flags = UP | (UV if self.verifies_user else 0) | (AT if attested else 0)
        data = hashlib.sha256(rp_id.encode()).digest() + bytes([flags])
        data += struct.pack(">I", self.counter)
        if attested:
            data += bytes(16) + struct.pack(">H", len(self.credential_id))
            data += self.credential_id + self.cose_key()
        return data

    def client_data(self, kind, challenge):
        content = {"type": kind, "challenge": challenge, "origin": self.origin}
        if self.in_a_frame:
            content.update(crossOrigin=True, topOrigin="https://framing.example")
        return json.dumps(content).encode()

    def make(self, options):
        """Return the answer to a registration's options (a dict), as a browser sends it."""
        self.user_handle = unb64(options["user"]["id"])
        client_data = self.client_data("webauthn.create", options["challenge"])
        attestation = {
            "fmt": "none",
            "attStmt": {},
            "authData": self.authenticator_data(options["rp"]["id"], attested=True),
        }
        return self.credential(
            clientDataJSON=b64(client_data),
            attestationObject=b64(cbor2.dumps(attestation)),
            transports=["internal"],
        )

    def use(self, options, rp_id="localhost"):
        """Return the answer to a sign-in's options (a dict), signed with this passkey."""
        client_data = self.client_data("webauthn.get", options["challenge"])
        data = self.authenticator_data(options.get("rpId", rp_id))
        signed = data + hashlib.sha256(client_data).digest()
        signature = self.key.sign(signed, ec.ECDSA(hashes.SHA256()))
        return self.credential(
            clientDataJSON=b64(client_data),
            authenticatorData=b64(data),
            signature=b64(signature),
            userHandle=b64(self.user_handle) if self.user_handle else None,
        )

    def credential(self, **response):
        """Return the PublicKeyCredential's JSON a browser sends, with `response`."""
        return {
            "id": b64(self.credential_id),
            "rawId": b64(self.credential_id),
            "type": "public-key",
            "response": response,
            "clientExtensionResults": {},
        }


def options_of(browser, url, form=None):
    """POST for a ceremony's options as the page's script does; return the answer."""
    browser.get("/mypage/security" if url.startswith("/mypage") else "/auth/login")
    return browser.client.post(url, data=form or {}, headers={"X-CSRFToken": browser.token})


def add_passkey(browser, passkey, name="Phone", password=PASSWORD):
    """Add `passkey` from the security page; return the last answer (None if refused early)."""
    options = options_of(browser, "/mypage/passkeys/options", {"name": name, "password": password})
    if options.status_code != 200:
        return options
    answer = passkey.make(options.get_json())
    form = {"name": name, "password": password, "answer": json.dumps(answer)}
    return browser.post("/mypage/passkeys", form)


def sign_in_with(browser, passkey, options_url="/auth/passkey/options", next_path="", **extra):
    """Ask for a sign-in's options and answer them with `passkey`; return the last answer."""
    if browser.token is None:
        browser.get("/auth/login")
    options = browser.client.post(options_url, headers={"X-CSRFToken": browser.token})
    if options.status_code != 200:
        return options
    answer = passkey.use(options.get_json())
    form = {"answer": json.dumps(answer), "next": next_path, **extra}
    return browser.post("/auth/passkey", form)


REFUSED = "That passkey did not work here"


def passkeys_of(app):
    """Return how many passkeys the database holds."""
    with app.app_context():
        return db.session.scalar(select(func.count()).select_from(Passkey))


def with_passkey(verified, **options):
    """Add a software passkey to ann's account; return it and the recovery codes shown."""
    passkey = SoftPasskey(**options)
    answer = add_passkey(verified, passkey)
    assert answer.status_code == 200, "the first passkey shows the recovery codes"
    return passkey, RECOVERY_CODE.findall(answer.get_data(as_text=True))


def flash_after(browser, answer):
    """Return the page an answer redirects to, as text (its flash messages with it)."""
    return browser.get(answer.headers["Location"]).get_data(as_text=True)
