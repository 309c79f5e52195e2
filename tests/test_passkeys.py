"""Passkeys as their owner and a thief with her session or password use them
(docs/security/two-step.md, "Passkeys"): adding one, signing in with it alone or after the
password, recovery codes, removing it, the reset and the undo link, the limits, a name. A
passkey in software (tests/passkeying.py); answers that lie are tried in
tests/test_passkey_answers.py. Real PostgreSQL, the real queue and SMTP server."""

import json
from datetime import timedelta

import pytest
from sqlalchemy import func, select

from app.extensions import db
from app.models import RecoveryCode, User
from devenv.visitors import PASSWORD
from tests.mailbox import ANN, NEW_PASSWORD, deliver, link_in, notice_to_ann, text_of
from tests.passkeying import (
    PASSKEY_ID,
    SoftPasskey,
    add_passkey,
    flash_after,
    options_of,
    passkeys_of,
    sign_in_with,
    with_passkey,
)
from tests.phones import enter_code, turn_on
from tests.signing_in import (
    copy_of,
    meet_the_second_step_after_a_reset,
    new_browser,
    owner_undoes,
    password_step,
    signed_in,
)

pytestmark = pytest.mark.usefixtures("no_jobs")


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
    notice = notice_to_ann(app, mail_server, "passkey was added")
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
    browser = meet_the_second_step_after_a_reset(app, mail_server)
    assert sign_in_with(browser, passkey).status_code == 302 and signed_in(browser)


def test_the_undo_link_removes_a_passkey_an_intruder_added(app, verified, mail_server):
    intruders, _ = with_passkey(verified)
    notice = notice_to_ann(app, mail_server, "passkey was added")
    assert owner_undoes(app, notice).status_code == 302
    assert passkeys_of(app) == 0
    with app.app_context():
        assert db.session.scalar(select(func.count()).select_from(RecoveryCode)) == 0
    assert sign_in_with(new_browser(app), intruders).headers["Location"] == "/auth/login"
    browser, answer = password_step(app, password=NEW_PASSWORD)
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
    "name", ["This was you.\r\n\r\nNothing to do.", "tab\there", "\u202eevil", "   "]
)
def test_a_name_must_be_one_line_of_plain_text(app, verified, name):
    answer = options_of(verified, "/mypage/passkeys/options", {"name": name, "password": PASSWORD})
    assert answer.status_code == 400 and "name" in answer.get_json()["errors"]
