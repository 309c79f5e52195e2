"""Passkeys against their attackers and their worst input (docs/security.md, "Passkeys"): a
passkey in software (tests/passkeying.py) made and used as a browser would, and lied with:
a replayed answer, a phishing site's origin, no user verification, another account's
credential, a forged signature, answers that are not JSON. Real PostgreSQL, the real queue
and SMTP server."""

import json
from datetime import timedelta

import cbor2
import pytest
from sqlalchemy import func, select

from app.extensions import db
from app.models import Passkey, RecoveryCode, User
from devenv.visitors import PASSWORD
from tests.mailbox import (
    ANN,
    NEW_PASSWORD,
    ask_reset,
    deliver,
    link_in,
    reset_link,
    set_new_password,
    text_of,
    verify_email,
)
from tests.passkeying import (
    PASSKEY_ID,
    SoftPasskey,
    add_passkey,
    b64,
    options_of,
    sign_in_with,
)
from tests.phones import RECOVERY_CODE, enter_code, turn_on
from tests.signing_in import copy_of, new_browser, password_step, signed_in

pytestmark = pytest.mark.usefixtures("no_jobs")
REFUSED = "That passkey did not work here"


def passkeys_of(app):
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


def test_the_first_passkey_turns_the_second_step_on_and_shows_ten_codes_once(
    app, verified, mail_server
):
    passkey, codes = with_passkey(verified)
    assert len(set(codes)) == 10
    page = verified.get("/mypage/security").get_data(as_text=True)
    assert "Phone" in page and "10 recovery codes are left" in page
    assert not any(code in page for code in codes)
    browser, answer = password_step(app)
    assert answer.headers["Location"] == "/auth/two-step"
    assert not signed_in(browser), "the password alone no longer signs in"
    deliver(app)
    (notice,) = [m for m in mail_server.to(ANN) if "passkey was added" in m["Subject"]]
    assert "“Phone”" in text_of(notice) and "(UTC)" in text_of(notice)
    assert link_in(notice, "secure").startswith("http://localhost/auth/secure/")
    assert "http://localhost/mypage/security" in text_of(notice)


def test_a_passkey_alone_signs_in_and_goes_on_to_a_same_site_path_only(app, verified):
    passkey, _ = with_passkey(verified)
    browser = new_browser(app)
    answer = sign_in_with(browser, passkey, next_path="/tags")
    assert answer.headers["Location"] == "/tags" and signed_in(browser)
    elsewhere = new_browser(app)
    answer = sign_in_with(elsewhere, passkey, next_path="//evil.example/steal")
    assert answer.headers["Location"] == "/" and signed_in(elsewhere)


def test_a_passkey_is_the_second_step_after_the_password(app, verified):
    passkey, _ = with_passkey(verified)
    browser, _ = password_step(app, next_path="/tags")
    page = browser.get("/auth/two-step").get_data(as_text=True)
    assert "Use a passkey" in page and "recovery codes" in page
    answer = sign_in_with(browser, passkey)
    assert answer.headers["Location"] == "/tags" and signed_in(browser)


def test_a_recovery_code_stands_in_for_a_lost_passkey_once(app, verified):
    _, codes = with_passkey(verified)
    browser, _ = password_step(app)
    assert enter_code(browser, codes[0]).status_code == 302 and signed_in(browser)
    again, _ = password_step(app)
    assert enter_code(again, codes[0]).status_code == 400
    assert enter_code(again, "123456").status_code == 400, "no app: six digits are no code"
    assert not signed_in(again)


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


def test_adding_one_needs_the_password_and_a_verified_address(app, user, verified):
    wrong = options_of(verified, "/mypage/passkeys/options", {"name": "Phone", "password": "no"})
    assert wrong.status_code == 400
    assert wrong.get_json()["errors"]["password"] == ["That is not your current password."]
    no_name = options_of(verified, "/mypage/passkeys/options", {"name": " ", "password": PASSWORD})
    assert "name" in no_name.get_json()["errors"]
    no_csrf = verified.client.post("/mypage/passkeys/options", data={"password": PASSWORD})
    assert no_csrf.status_code == 400
    assert passkeys_of(app) == 0


def test_an_unverified_account_adds_none(app, user):
    answer = options_of(user, "/mypage/passkeys/options", {"name": "Phone", "password": PASSWORD})
    assert answer.status_code == 409 and "Confirm your email address" in answer.get_json()["error"]


def test_a_stolen_session_adds_no_passkey_and_removes_none(app, verified, monkeypatch):
    passkey, _ = with_passkey(verified)
    owner = new_browser(app)
    assert sign_in_with(owner, passkey).status_code == 302
    monkeypatch.setitem(app.config, "TWO_STEP_RECENT", timedelta(0))  # ten minutes later
    thief = copy_of(app, owner)
    thief.token = None
    assert signed_in(thief)
    asked = options_of(thief, "/mypage/passkeys/options", {"name": "Mine", "password": PASSWORD})
    assert asked.status_code == 403 and asked.get_json()["go"].startswith("/auth/two-step?next=")
    (passkey_id,) = PASSKEY_ID.findall(thief.get("/mypage/security").get_data(as_text=True))
    removed = thief.post(f"/mypage/passkeys/{passkey_id}/delete")
    assert removed.headers["Location"].startswith("/auth/two-step?next=")
    assert passkeys_of(app) == 1


def test_removing_the_last_passkey_turns_the_second_step_off_and_mails_a_notice(
    app, verified, mail_server
):
    with_passkey(verified)  # a passkey used just now in this session
    (passkey_id,) = PASSKEY_ID.findall(verified.get("/mypage/security").get_data(as_text=True))
    answer = verified.post(f"/mypage/passkeys/{passkey_id}/delete")
    assert "signing in asks for your password only" in flash_after(verified, answer)
    with app.app_context():
        assert db.session.scalar(select(func.count()).select_from(RecoveryCode)) == 0
    browser, answer = password_step(app)
    assert answer.headers["Location"] == "/" and signed_in(browser)
    deliver(app)
    assert any("passkey was removed" in m["Subject"] for m in mail_server.to(ANN))


def test_someone_elses_passkey_cannot_be_renamed_or_removed(app, verified, other_user):
    with_passkey(verified)
    (passkey_id,) = PASSKEY_ID.findall(verified.get("/mypage/security").get_data(as_text=True))
    other_user.get("/mypage/security")
    assert (
        other_user.post(f"/mypage/passkeys/{passkey_id}/rename", {"name": "x"}).status_code == 404
    )
    assert other_user.post(f"/mypage/passkeys/{passkey_id}/delete").status_code == 404
    assert passkeys_of(app) == 1


def test_a_name_is_kept_as_text_and_checked(app, verified):
    with_passkey(verified)
    page = verified.get("/mypage/security").get_data(as_text=True)
    (passkey_id,) = PASSKEY_ID.findall(page)
    url = f"/mypage/passkeys/{passkey_id}/rename"
    assert verified.post(url, {"name": "x" * 61}).status_code == 400
    assert verified.post(url, {"name": "bad\x07bell"}).status_code == 400
    assert verified.post(url, {"name": "<b>key</b>"}).status_code == 302
    page = verified.get("/mypage/security").get_data(as_text=True)
    assert "&lt;b&gt;key&lt;/b&gt;" in page and "<b>key</b>" not in page


def test_an_account_keeps_at_most_its_limit_of_passkeys(app, verified, monkeypatch):
    monkeypatch.setitem(app.config, "PASSKEYS_PER_ACCOUNT", 2)
    with_passkey(verified)
    assert add_passkey(verified, SoftPasskey(), name="Laptop").status_code == 302
    refused = options_of(verified, "/mypage/passkeys/options", {"name": "3", "password": PASSWORD})
    assert (
        refused.status_code == 409 and "as many as an account keeps" in refused.get_json()["error"]
    )
    assert passkeys_of(app) == 2


def test_wrong_passkeys_spend_the_accounts_second_step_budget(app, verified):
    passkey, _ = with_passkey(verified)
    impostor = SoftPasskey()
    impostor.credential_id = passkey.credential_id  # the right id, another key
    for _ in range(app.config["TWO_STEP_FAILURES_PER_WINDOW"]):
        browser, _ = password_step(app)
        assert sign_in_with(browser, impostor).headers["Location"] == "/auth/two-step"
    browser, _ = password_step(app)
    refused = sign_in_with(browser, passkey)
    assert refused.status_code == 429 and int(refused.headers["Retry-After"]) > 0
    assert not signed_in(browser)


def test_a_password_reset_keeps_the_passkey_and_the_second_step(app, verified, mail_server):
    passkey, _ = with_passkey(verified)
    ask_reset(app)
    assert set_new_password(new_browser(app), reset_link(app, mail_server)).status_code == 302
    browser = new_browser(app)
    answer = browser.submit("/auth/login", {"email": ANN, "password": NEW_PASSWORD})
    assert answer.headers["Location"] == "/auth/two-step" and not signed_in(browser)
    assert sign_in_with(browser, passkey).status_code == 302 and signed_in(browser)


def test_the_undo_link_removes_a_passkey_an_intruder_added(app, verified, mail_server):
    intruders, _ = with_passkey(verified)
    deliver(app)
    (notice,) = [m for m in mail_server.to(ANN) if "passkey was added" in m["Subject"]]
    assert set_new_password(new_browser(app), link_in(notice, "secure")).status_code == 302
    assert passkeys_of(app) == 0
    with app.app_context():
        assert db.session.scalar(select(func.count()).select_from(RecoveryCode)) == 0
    assert sign_in_with(new_browser(app), intruders).headers["Location"] == "/auth/login"
    browser = new_browser(app)
    answer = browser.submit("/auth/login", {"email": ANN, "password": NEW_PASSWORD})
    assert answer.headers["Location"] == "/" and signed_in(browser)


def test_with_an_app_too_removing_it_keeps_the_passkey_and_the_codes(app, verified, mail_server):
    passkey, _ = with_passkey(verified)
    turn_on_refused = verified.get("/mypage/totp")  # the app can be added beside it
    assert turn_on_refused.status_code == 200
    turn_on(verified)
    answer = verified.post("/mypage/totp/disable", {"password": PASSWORD})
    assert "signing in asks for a passkey" in flash_after(verified, answer)
    with app.app_context():
        user_id = db.session.scalar(select(User.id))
        assert RecoveryCode.left(user_id) == 10
    browser, answer = password_step(app)
    assert answer.headers["Location"] == "/auth/two-step"
    assert sign_in_with(browser, passkey).status_code == 302
    deliver(app)
    assert any("authenticator app was removed" in m["Subject"] for m in mail_server.to(ANN))


def test_at_an_ip_address_passkeys_are_unavailable_and_the_page_says_so(app, verified, monkeypatch):
    monkeypatch.setitem(app.config, "PUBLIC_URL", "http://127.0.0.1:5000")
    page = verified.get("/mypage/security").get_data(as_text=True)
    assert "Passkeys cannot be used at this address." in page
    assert 'data-passkey="register"' not in page
    answer = options_of(verified, "/mypage/passkeys/options", {"name": "x", "password": PASSWORD})
    assert answer.status_code == 409
    assert "Sign in with a passkey" not in new_browser(app).get("/auth/login").get_data(
        as_text=True
    )


def test_without_a_script_the_forms_stay_hidden_and_the_page_offers_the_app(verified):
    page = verified.get("/mypage/security").get_data(as_text=True)
    assert "This browser cannot make passkeys" in page  # shown until the script hides it
    assert 'data-passkey="register"' in page and "hidden novalidate" in page


def test_a_copy_of_the_cookie_between_the_two_steps_adds_nothing_without_the_password(
    app, verified
):
    """The options' challenge is in the session cookie: a copy taken after the owner asked
    for them holds it, so the second step asks for the password again."""
    verified.get("/mypage/security")
    form = {"name": "Mine", "password": PASSWORD}
    options = verified.client.post(
        "/mypage/passkeys/options", data=form, headers={"X-CSRFToken": verified.token}
    )
    thief = copy_of(app, verified)
    thief.token = verified.token
    answer = json.dumps(SoftPasskey().make(options.get_json()))
    refused = thief.post("/mypage/passkeys", {"name": "Mine", "answer": answer})
    assert "was not added" in flash_after(thief, refused)
    wrong = thief.post("/mypage/passkeys", {"name": "Mine", "password": "guess", "answer": answer})
    assert "was not added" in flash_after(thief, wrong)
    assert passkeys_of(app) == 0


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


@pytest.mark.parametrize(
    "name", ["This was you.\r\n\r\nNothing to do.", "tab\there", "\u202eevil", "   "]
)
def test_a_name_must_be_one_line_of_plain_text(app, verified, name):
    answer = options_of(verified, "/mypage/passkeys/options", {"name": name, "password": PASSWORD})
    assert answer.status_code == 400 and "name" in answer.get_json()["errors"]
