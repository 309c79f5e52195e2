"""Authenticator app codes (RFC 6238, pyotp), their secrets encrypted at rest (Fernet with
TWO_STEP_KEY), the QR code that carries a new secret (segno), and recovery codes."""

import hashlib
import hmac
import json
import logging
import re
import secrets
import time
from base64 import b32encode

import pyotp
from flask import current_app

from app.extensions import db
from app.models import RecoveryCode, TotpCredential

logger = logging.getLogger("memo.two_step")
ISSUER = "Memo"
RECOVERY_CODES = 10
RECOVERY_CODE_BYTES = 10  # 80 bits: 16 letters and digits, in groups of four
SIX_DIGITS = re.compile(r"[0-9]{6}")
# Codes of the step before and after now pass too: a phone's clock a little off, or a code
# typed as it changed. Each step passes once (TotpCredential.last_time_step).
DRIFT_STEPS = (0, -1, 1)


# cryptography (Fernet) and segno are imported where they are used: at the web's start they
# added 7.1 MB to every web process (measured as a web worker's RSS after 1,000 mixed
# requests), for the few requests of accounts that set up or use an authenticator app.
def keys():
    """Return the MultiFernet of TWO_STEP_KEY: the first key encrypts, each one decrypts."""
    from cryptography.fernet import Fernet, MultiFernet  # at first use: 7.1 MB (see above)

    return MultiFernet([Fernet(key) for key in current_app.config["TWO_STEP_KEYS"]])


def new_secret():
    """Return a new secret for an authenticator app (160 random bits, base32)."""
    return pyotp.random_base32()


def setup_token(user_id, secret):
    """Return the set-up form's hidden field: the new secret and its account, encrypted
    and signed, so that the secret stays on the server's side of trust until it is on."""
    return keys().encrypt(json.dumps({"user": user_id, "secret": secret}).encode()).decode()


def read_setup_token(token, user_id):
    """Return the secret of a set-up form for `user_id` made within TOTP_SETUP_LIFETIME, or
    None (another account's, too old, or not one of ours)."""
    from cryptography.fernet import InvalidToken  # with keys(), at first use (see above)

    lifetime = int(current_app.config["TOTP_SETUP_LIFETIME"].total_seconds())
    try:
        content = json.loads(keys().decrypt((token or "").encode(), ttl=lifetime))
    except (InvalidToken, ValueError):
        return None
    if not isinstance(content, dict) or content.get("user") != user_id:
        return None
    return content.get("secret")


def provisioning_uri(secret, email):
    """Return the otpauth:// address an authenticator app reads from the QR code."""
    return pyotp.TOTP(secret).provisioning_uri(name=email, issuer_name=ISSUER)


def qr_svg(uri, title):
    """Return the QR code of `uri` as an inline SVG, dark on light in either colour scheme."""
    import segno  # at first use: only the set-up page of an authenticator app draws one

    return segno.make(uri, error="m").svg_inline(
        scale=4, border=4, dark="#000", light="#fff", title=title, svgclass="qr"
    )


def matching_step(secret, code, now=None):
    """Return the time step whose code `code` is (now's, or one step off), or None."""
    if not SIX_DIGITS.fullmatch(code or ""):
        return None
    totp = pyotp.TOTP(secret)
    current = totp.timecode(time.time() if now is None else now)
    for offset in DRIFT_STEPS:
        if hmac.compare_digest(totp.generate_otp(current + offset), code):
            return current + offset
    return None


def turn_on(user_id, secret, step, chain_started_at):
    """Store the app's secret, encrypted, with the step its first code used and the chain of
    proofs it was made through (TotpCredential.chain_start); return the account's new
    recovery codes."""
    encrypted = keys().encrypt(secret.encode()).decode()
    app = TotpCredential(
        user_id=user_id, secret=encrypted, last_time_step=step, chain_started_at=chain_started_at
    )
    db.session.add(app)
    return new_recovery_codes(user_id, chain_started_at)


def chain_of(user_id, used):
    """Return the chain of proofs of the second step spend_code() found `used` ("app",
    "recovery"), or None."""
    if used == "app":
        return TotpCredential.of(user_id).chain_start()
    if used == "recovery":
        return RecoveryCode.chain_of(user_id)
    return None


def normal_recovery_code(code):
    """Return a recovery code as stored: lower case, without spaces or dashes."""
    return re.sub(r"[^0-9a-z]", "", (code or "").lower())


def recovery_hash(user_id, code):
    """Return what is kept of a recovery code: the SHA-256 of its account and letters."""
    return hashlib.sha256(f"{user_id}\n{normal_recovery_code(code)}".encode()).hexdigest()


def new_recovery_codes(user_id, chain_started_at):
    """Make RECOVERY_CODES new codes for the account (the earlier ones are void), of the
    chain of proofs that showed them; return them as the person writes them down."""
    codes = []
    for _ in range(RECOVERY_CODES):
        letters = b32encode(secrets.token_bytes(RECOVERY_CODE_BYTES)).decode().lower()
        codes.append("-".join(letters[i : i + 4] for i in range(0, len(letters), 4)))
    hashes = [recovery_hash(user_id, code) for code in codes]
    RecoveryCode.replace(user_id, hashes, chain_started_at)
    return codes


def spend_code(user_id, code):
    """Check a code of the second step and spend it: "app" for a current authenticator code
    not used before, "recovery" for an unused recovery code, None for anything else."""
    from cryptography.fernet import InvalidToken  # with keys(), at first use (see above)

    credential = TotpCredential.of(user_id)
    code = (code or "").strip().replace(" ", "")
    if SIX_DIGITS.fullmatch(code):
        if credential is None:  # an account whose second step is a passkey
            return None
        try:
            secret = keys().decrypt(credential.secret.encode()).decode()
        except InvalidToken:  # TWO_STEP_KEY lost or rotated out too soon: recovery codes work
            logger.error("TWO_STEP_KEY cannot read the authenticator app of account %s", user_id)
            return None
        step = matching_step(secret, code)
        return "app" if step is not None and TotpCredential.spend_time_step(user_id, step) else None
    if RecoveryCode.spend(user_id, recovery_hash(user_id, code)):
        return "recovery"
    return None
