"""Passkeys (WebAuthn, with py_webauthn): the options of each ceremony, its challenge kept in
the browser's session, and the browser's answer checked against them (docs/security/two-step.md,
"Passkeys").

The relying party is PUBLIC_URL: its host is the RP ID and its origin the only one accepted,
so a passkey made for Memo answers nowhere else. A host that is an IP address cannot be an
RP ID: there, passkeys are unavailable and the pages say so.
"""

import ipaddress
import json
import secrets
import time
from urllib.parse import urlsplit

from flask import current_app

from app.models import Passkey

CEREMONY = "passkey_ceremony"
RP_NAME = "Memo"
USER_HANDLE_BYTES = 32
CREDENTIAL_ID_MAX_BYTES = 1023  # WebAuthn Level 3, 5.1: longer ones are refused
# A ceremony's kinds: adding a passkey; signing in with one alone (it must verify its user:
# a PIN or a fingerprint, so that it stands for both steps); the second step of someone
# known (after the password, or again while signed in).
REGISTER, SIGN_IN, SECOND_STEP = "register", "sign-in", "second-step"
# py_webauthn is imported by the functions that run a ceremony, not at the top: with what it
# loads (pyOpenSSL, cryptography, cbor2, pyasn1) it added about 7 MB to every web process at
# its start (a web worker's RSS after 1,000 mixed requests), for the few requests that add a
# passkey or sign in with one. relying_party() and take() need none of it.


def relying_party():
    """Return (RP ID, origin) of PUBLIC_URL, or None when its host is an IP address."""
    public = urlsplit(current_app.config["PUBLIC_URL"])
    try:
        ipaddress.ip_address(public.hostname)
    except ValueError:
        return public.hostname, f"{public.scheme}://{public.netloc}"
    return None


def descriptors(passkeys):
    """Return the credential descriptors of `passkeys`, as the options name them."""
    from webauthn.helpers.structs import PublicKeyCredentialDescriptor  # py_webauthn: see above

    return [PublicKeyCredentialDescriptor(id=passkey.credential_id) for passkey in passkeys]


def begin(session, kind, challenge, user_id=None, **more):
    """Keep a ceremony of `kind` in `session`: its challenge, when it was made, for whom."""
    session[CEREMONY] = {
        "kind": kind,
        "challenge": challenge.hex(),
        "at": time.time_ns() // 1000,
        "user": user_id,
        **more,
    }


def take(session, kind, user_id=None):
    """Remove the session's ceremony and return it if it is of `kind`, for `user_id`, and
    younger than PASSKEY_CEREMONY; else None."""
    ceremony = session.pop(CEREMONY, None)
    if not isinstance(ceremony, dict) or ceremony.get("kind") != kind:
        return None
    age = time.time() - ceremony.get("at", 0) / 1e6
    lifetime = current_app.config["PASSKEY_CEREMONY"].total_seconds()
    if ceremony.get("user") != user_id or not 0 <= age <= lifetime:
        return None
    return ceremony


def registration_options(session, user):
    """Return the JSON options to add a passkey to `user`'s account, and keep its ceremony."""
    from webauthn import generate_registration_options, options_to_json  # see above
    from webauthn.helpers.structs import (  # py_webauthn, at first use: see above
        AuthenticatorSelectionCriteria,
        ResidentKeyRequirement,
        UserVerificationRequirement,
    )

    rp_id, _ = relying_party()
    existing = Passkey.of(user.id)
    handle = existing[0].user_handle if existing else secrets.token_bytes(USER_HANDLE_BYTES)
    options = generate_registration_options(
        rp_id=rp_id,
        rp_name=RP_NAME,
        user_id=handle,
        user_name=user.email,
        user_display_name=user.nickname,
        timeout=int(current_app.config["PASSKEY_CEREMONY"].total_seconds() * 1000),
        authenticator_selection=AuthenticatorSelectionCriteria(
            resident_key=ResidentKeyRequirement.REQUIRED,
            user_verification=UserVerificationRequirement.PREFERRED,
        ),
        exclude_credentials=descriptors(existing),
    )
    begin(session, REGISTER, options.challenge, user.id, handle=handle.hex())
    return options_to_json(options)


def read_answer(answer):
    """Return the browser's answer as a dict, or None: not JSON, too deep, not an object."""
    try:
        content = json.loads(answer or "")
    except (ValueError, RecursionError):
        return None
    return content if isinstance(content, dict) else None


def cross_origin(content):
    """Return whether the browser says the ceremony ran in a frame of another site (Memo's
    pages refuse frames: an answer that says so is not from them). py_webauthn 3.0.1 does
    not look."""
    from webauthn.helpers import base64url_to_bytes, parse_client_data_json  # see above

    response = content.get("response")
    client_data = response.get("clientDataJSON") if isinstance(response, dict) else None
    return bool(parse_client_data_json(base64url_to_bytes(client_data)).cross_origin)


def registered(session, user, answer, name):
    """Return a new Passkey of `user` from the browser's answer to the session's ceremony
    (not yet added to the database session), or None if it does not hold."""
    from webauthn import verify_registration_response  # py_webauthn, at first use: see above
    from webauthn.helpers import (  # with it, for the same reason
        decode_credential_public_key,
        decoded_public_key_to_cryptography,
    )

    ceremony = take(session, REGISTER, user.id)
    content = read_answer(answer)
    if ceremony is None or content is None:
        return None
    rp_id, origin = relying_party()
    try:
        made = verify_registration_response(
            credential=content,
            expected_challenge=bytes.fromhex(ceremony["challenge"]),
            expected_rp_id=rp_id,
            expected_origin=origin,
        )
        # A key that could never check a signature would be a second step that never passes.
        decoded_public_key_to_cryptography(decode_credential_public_key(made.credential_public_key))
        framed = cross_origin(content)
    # Any failure is a refusal: py_webauthn 3.0.1 lets IndexError and others out of a
    # malformed key, beside its own WebAuthnException.
    except Exception:
        return None
    if framed or len(made.credential_id) > CREDENTIAL_ID_MAX_BYTES:
        return None
    return Passkey(
        user_id=user.id,
        credential_id=made.credential_id,
        public_key=made.credential_public_key,
        user_handle=bytes.fromhex(ceremony["handle"]),
        name=name,
        sign_count=made.sign_count,
        answered_challenge_at=0,
    )


def authentication_options(session, user=None):
    """Return the JSON options to sign in with a passkey, and keep the ceremony: for `user`
    (a second step, any of their passkeys), or, with no user, for whoever's passkey answers
    (one that verifies its user)."""
    from webauthn import generate_authentication_options, options_to_json  # see above
    from webauthn.helpers.structs import UserVerificationRequirement  # with it (see above)

    rp_id, _ = relying_party()
    options = generate_authentication_options(
        rp_id=rp_id,
        timeout=int(current_app.config["PASSKEY_CEREMONY"].total_seconds() * 1000),
        allow_credentials=descriptors(Passkey.of(user.id)) if user else [],
        user_verification=(
            UserVerificationRequirement.PREFERRED if user else UserVerificationRequirement.REQUIRED
        ),
    )
    begin(session, SECOND_STEP if user else SIGN_IN, options.challenge, user.id if user else None)
    return options_to_json(options)


def answered(session, answer, user=None):
    """Return the passkey that answered the session's ceremony (of `user`, if given), once:
    None if the answer does not hold, is another account's, or was accepted already."""
    from webauthn import verify_authentication_response  # py_webauthn, at first use: see above
    from webauthn.helpers import parse_authentication_credential_json  # with it (see above)

    kind = SECOND_STEP if user else SIGN_IN
    ceremony = take(session, kind, user.id if user else None)
    content = read_answer(answer)
    if ceremony is None or content is None:
        return None
    try:
        credential = parse_authentication_credential_json(content)
    except Exception:  # as in registered(): any failure to read it is a refusal
        return None
    passkey = Passkey.by_credential(credential.raw_id)
    if passkey is None or (user is not None and passkey.user_id != user.id):
        return None
    handle = credential.response.user_handle
    if handle is not None and handle != passkey.user_handle:
        return None
    rp_id, origin = relying_party()
    try:
        if cross_origin(content):
            return None
        checked = verify_authentication_response(
            credential=credential,
            expected_challenge=bytes.fromhex(ceremony["challenge"]),
            expected_rp_id=rp_id,
            expected_origin=origin,
            credential_public_key=passkey.public_key,
            credential_current_sign_count=passkey.sign_count,
            require_user_verification=kind == SIGN_IN,
        )
    except Exception:  # as in registered(): any failure to check it is a refusal
        return None
    if not passkey.answer(ceremony["at"], checked.new_sign_count):
        return None
    return passkey
