"""Passkeys' answers that lie (docs/security/two-step.md, "Passkeys"): a replayed answer, a phishing
site's origin, no user verification, another account's passkey or credential id, a forged
signature, a key that could never sign, a framed ceremony, answers that are no credential.
A passkey in software (tests/passkeying.py), real PostgreSQL."""

import json
from datetime import timedelta

import cbor2
import pytest

from tests.mailbox import verify_email
from tests.passkeying import (
    REFUSED,
    SoftPasskey,
    add_passkey,
    b64,
    flash_after,
    passkeys_of,
    sign_in_with,
    with_passkey,
)
from tests.signing_in import copy_of, new_browser, password_step, signed_in

pytestmark = pytest.mark.usefixtures("no_jobs")


def test_a_replayed_answer_is_refused_even_with_the_old_cookie(app, verified):
    passkey, _ = with_passkey(verified)
    browser = new_browser(app)
    browser.get("/auth/login")
    options = browser.client.post("/auth/passkey/options", headers={"X-CSRFToken": browser.token})
    answer = json.dumps(passkey.use(options.get_json()))
    thief = copy_of(app, browser)  # the cookie that holds the challenge, copied before use
    thief.token = browser.token
    assert browser.post("/auth/passkey", {"answer": answer}).status_code == 302
    assert signed_in(browser)
    replayed = thief.post("/auth/passkey", {"answer": answer})
    assert replayed.headers["Location"] == "/auth/login"
    assert REFUSED in flash_after(thief, replayed)
    assert not signed_in(thief)


def test_a_phishing_sites_answer_is_refused(app, verified):
    passkey, _ = with_passkey(verified)
    passkey.origin = "https://memo-login.example"  # the page the person was lured to
    browser = new_browser(app)
    answer = sign_in_with(browser, passkey)
    assert answer.headers["Location"] == "/auth/login" and not signed_in(browser)


def test_alone_a_passkey_must_verify_its_user_after_the_password_it_need_not(app, verified):
    passkey, _ = with_passkey(verified, verifies_user=False)  # a security key without a PIN
    alone = new_browser(app)
    assert sign_in_with(alone, passkey).headers["Location"] == "/auth/login"
    assert not signed_in(alone), "a touch alone is not both steps"
    second, _ = password_step(app)
    assert sign_in_with(second, passkey).status_code == 302 and signed_in(second)


def test_another_accounts_passkey_is_no_second_step(app, verified, other_user):
    with_passkey(verified)
    bobs = SoftPasskey()
    verify_email(app, "bob@example.com")
    assert add_passkey(other_user, bobs).status_code == 200
    browser, _ = password_step(app)  # ann's password
    answer = sign_in_with(browser, bobs)  # bob's passkey
    assert answer.headers["Location"] == "/auth/two-step"
    assert not signed_in(browser)


def test_a_credential_id_of_another_account_is_not_added_again(app, verified, other_user):
    anns, _ = with_passkey(verified)
    verify_email(app, "bob@example.com")
    copycat = SoftPasskey()
    copycat.credential_id = anns.credential_id  # public: the options name it
    answer = add_passkey(other_user, copycat)
    assert answer.headers["Location"] == "/mypage/security"
    assert "was not added" in flash_after(other_user, answer)
    assert passkeys_of(app) == 1
    assert sign_in_with(new_browser(app), anns).status_code == 302, "ann's still works"


def test_a_forged_signature_and_a_swapped_ceremony_type_are_refused(app, verified):
    passkey, _ = with_passkey(verified)
    browser = new_browser(app)
    browser.get("/auth/login")
    options = browser.client.post("/auth/passkey/options", headers={"X-CSRFToken": browser.token})
    forged = passkey.use(options.get_json())
    forged["response"]["signature"] = b64(b"0" * 70)
    answer = browser.post("/auth/passkey", {"answer": json.dumps(forged)})
    assert answer.headers["Location"] == "/auth/login" and not signed_in(browser)
    # A registration's answer offered as a sign-in (and the ceremony is spent already).
    made = SoftPasskey().make(
        {"user": {"id": b64(b"x")}, "challenge": "AA", "rp": {"id": "localhost"}}
    )
    answer = browser.post("/auth/passkey", {"answer": json.dumps(made)})
    assert answer.headers["Location"] == "/auth/login" and not signed_in(browser)


@pytest.mark.parametrize(
    "answer",
    [
        "",
        "not json",
        "[" * 5000 + "]" * 5000,  # deeper than Python's recursion limit
        json.dumps({"id": 1, "rawId": None, "response": []}),
        json.dumps({"id": "AA", "rawId": "!!!", "type": "public-key", "response": {}}),
        "x" * 20_000,  # past the field's 16,384
        "\x00" * 10,
    ],
)
def test_an_answer_that_is_no_credential_gets_a_clear_refusal(app, verified, answer):
    with_passkey(verified)
    browser = new_browser(app)
    browser.get("/auth/login")
    browser.client.post("/auth/passkey/options", headers={"X-CSRFToken": browser.token})
    refused = browser.post("/auth/passkey", {"answer": answer})
    assert refused.status_code == 302 and refused.headers["Location"] == "/auth/login"
    assert REFUSED in flash_after(browser, refused)
    adding = verified.post("/mypage/passkeys", {"name": "x", "answer": answer})
    assert adding.status_code == 302 and "was not added" in flash_after(verified, adding)


def test_an_answer_after_its_ceremony_ran_out_is_refused(app, verified, monkeypatch):
    passkey, _ = with_passkey(verified)
    monkeypatch.setitem(app.config, "PASSKEY_CEREMONY", timedelta(0))
    browser = new_browser(app)
    assert sign_in_with(browser, passkey).headers["Location"] == "/auth/login"
    assert not signed_in(browser)


@pytest.mark.parametrize(
    "public_key",
    [
        cbor2.dumps([]),
        cbor2.dumps(""),
        cbor2.dumps(4),
        cbor2.dumps({1: 2, 3: -7, -1: 1, -2: b"\x01" * 32, -3: b"\x02" * 32}),  # off the curve
        cbor2.dumps({1: 2, 3: -7, -1: 99, -2: b"\x01" * 32, -3: b"\x02" * 32}),  # no such curve
        cbor2.dumps({1: 3, 3: -257, -1: b"\x01", -2: b"\x01\x00\x01"}),  # RSA with n = 1
    ],
)
def test_a_key_that_could_never_sign_is_refused_not_a_500(app, verified, public_key):
    liar = SoftPasskey()
    liar.public_key = public_key
    answer = add_passkey(verified, liar)
    assert answer.status_code == 302
    assert "was not added" in flash_after(verified, answer)
    assert passkeys_of(app) == 0


def test_an_answer_made_in_a_frame_of_another_site_is_refused(app, verified):
    framed = SoftPasskey()
    framed.in_a_frame = True
    assert "was not added" in flash_after(verified, add_passkey(verified, framed))
    passkey, _ = with_passkey(verified)
    passkey.in_a_frame = True
    browser = new_browser(app)
    assert sign_in_with(browser, passkey).headers["Location"] == "/auth/login"
    assert not signed_in(browser)


def test_wrong_passkeys_alone_from_one_place_are_throttled_and_a_success_gives_back(
    app, verified, monkeypatch
):
    """No address to count them against: the client's budget of failed sign-ins, in
    PostgreSQL, as a password's."""
    passkey, _ = with_passkey(verified)
    monkeypatch.setitem(app.config, "LOGIN_FAILURES_PER_CLIENT", 3)
    assert sign_in_with(new_browser(app), passkey).status_code == 302  # given back
    impostor = SoftPasskey()
    impostor.credential_id = passkey.credential_id
    for _ in range(3):
        assert sign_in_with(new_browser(app), impostor).headers["Location"] == "/auth/login"
    browser = new_browser(app)
    refused = sign_in_with(browser, passkey)
    assert refused.status_code == 429 and int(refused.headers["Retry-After"]) > 0
    assert "Too many failed sign-ins from here" in refused.get_data(as_text=True)
    assert not signed_in(browser)
