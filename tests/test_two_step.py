"""Two-step sign-in with an authenticator app (docs/security/two-step.md, "Two-step sign-in"):
set up with a real pyotp code, signing in asks for one, each code works once, wrong codes are
throttled in PostgreSQL, and neither a reset, remember-me nor a stolen session gets past it.
Real PostgreSQL, the real queue and SMTP server."""

import re
from concurrent.futures import ThreadPoolExecutor
from datetime import timedelta

import pytest
from sqlalchemy import select

from app import create_app
from app.extensions import db
from app.models import AccessToken, RecoveryCode, TotpCredential, User
from devenv.visitors import PASSWORD
from tests.mailbox import ANN, NEW_PASSWORD, deliver, link_in, notice_to_ann, subjects, text_of
from tests.phones import RECOVERY_CODE, SECRET, Phone, enter_code, setup_field, turn_on
from tests.signing_in import (
    copy_of,
    meet_the_second_step_after_a_reset,
    owner_resets,
    owner_undoes,
    password_step,
    signed_in,
)

pytestmark = pytest.mark.usefixtures("no_jobs")
TOKEN_FORM = {"name": "laptop", "scope": "read", "expires_days": "30", "password": PASSWORD}


def test_the_set_up_page_shows_a_new_secret_as_a_qr_code_and_as_letters(app, verified):
    page = verified.get("/mypage/totp")
    text = page.get_data(as_text=True)
    assert page.status_code == 200
    assert page.headers["Cache-Control"] == "no-store"
    assert "<svg" in text and 'class="qr"' in text  # drawn here: no outside script or image
    assert 'id="totp-secret">' in text
    # On the phone itself: a link the app opens, and the key to copy, in groups of four.
    assert 'href="otpauth://totp/' in text and "Open in the authenticator app" in text
    key = SECRET.search(text).group(1)
    assert re.fullmatch(r"[A-Z2-7]{4}( [A-Z2-7]{4})*( [A-Z2-7]{1,4})?", key), key
    assert f'data-copy-text="{key.replace(" ", "")}"' in text
    assert 'autocomplete="one-time-code"' in text and 'inputmode="numeric"' in text
    again = verified.get("/mypage/totp").get_data(as_text=True)
    assert again != text, "each visit shows a new secret"


def test_turning_it_on_needs_a_current_code_and_the_password_then_shows_ten_codes_once(
    app, verified, mail_server
):
    page = verified.get("/mypage/totp").get_data(as_text=True)
    phone = Phone(SECRET.search(page).group(1))
    form = {"setup": setup_field(page)}
    assert (
        verified.post("/mypage/totp", {**form, "code": "000000", "password": PASSWORD}).status_code
        == 400
    )
    wrong_password = {**form, "code": phone.code(), "password": "not my password"}
    assert verified.post("/mypage/totp", wrong_password).status_code == 400
    tampered = {"setup": form["setup"][:-4] + "AAAA", "code": phone.code(), "password": PASSWORD}
    assert verified.post("/mypage/totp", tampered).status_code == 400
    with app.app_context():
        assert db.session.scalar(select(TotpCredential)) is None
    answer = verified.post("/mypage/totp", {**form, "code": phone.code(), "password": PASSWORD})
    assert answer.status_code == 200
    assert answer.headers["Cache-Control"] == "no-store"
    codes = RECOVERY_CODE.findall(answer.get_data(as_text=True))
    assert len(set(codes)) == 10
    security = verified.get("/mypage/security").get_data(as_text=True)
    assert "10 recovery codes are left" in security
    assert not any(code in security for code in codes), "shown once"
    with app.app_context():
        stored = db.session.scalar(select(TotpCredential))
        assert phone.totp.secret not in stored.secret  # encrypted at rest
        hashes = db.session.scalars(select(RecoveryCode.code_hash)).all()
        assert len(hashes) == 10 and not set(codes) & set(hashes)
    notice = notice_to_ann(app, mail_server, "Two-step sign-in is on")
    assert "(UTC)" in text_of(notice)  # the time, in the account's zone
    assert link_in(notice, "secure").startswith("http://localhost/auth/secure/")


def test_signing_in_asks_for_the_code_and_signs_in_only_when_it_passes(app, verified):
    phone, _ = turn_on(verified)
    browser, answer = password_step(app, next_path="/tags")
    assert answer.status_code == 302 and answer.headers["Location"] == "/auth/two-step"
    assert not signed_in(browser), "a right password alone signs nobody in"
    assert enter_code(browser, "123456").status_code == 400
    assert not signed_in(browser)
    answer = enter_code(browser, phone.code())
    assert answer.status_code == 302 and answer.headers["Location"] == "/tags"
    assert signed_in(browser)


def test_a_code_works_once_even_from_another_browser(app, verified):
    phone, _ = turn_on(verified)
    code = phone.code()
    first, _ = password_step(app)
    assert enter_code(first, code).status_code == 302
    second, _ = password_step(app)
    answer = enter_code(second, code)
    assert answer.status_code == 400
    assert "used already" in answer.get_data(as_text=True)
    assert not signed_in(second)


def test_a_recovery_code_works_once(app, verified):
    _, codes = turn_on(verified)
    first, _ = password_step(app)
    answer = enter_code(first, codes[3].upper().replace("-", " "))  # as a person may type it
    assert answer.status_code == 302 and signed_in(first)
    assert "9 recovery codes are left" in first.get("/mypage/security").get_data(as_text=True)
    second, _ = password_step(app)
    assert enter_code(second, codes[3]).status_code == 400
    assert not signed_in(second)


def test_wrong_codes_are_throttled_per_account_whatever_the_browser(app, verified):
    phone, _ = turn_on(verified)
    limit = app.config["TWO_STEP_FAILURES_PER_WINDOW"]
    warnings = []
    for attempt in range(limit):
        browser, _ = password_step(app)
        answer = enter_code(browser, f"{attempt:06d}")
        assert answer.status_code == 400
        said = answer.get_data(as_text=True)
        warnings.append(re.findall(r"(You can try \d+ more codes?|That was the last try)", said))
    # The last wrong codes before the wait say how many are left.
    assert warnings[-3:] == [
        ["You can try 2 more codes"],
        ["You can try 1 more code"],
        ["That was the last try"],
    ]
    assert warnings[0] == []
    browser, _ = password_step(app)
    refused = enter_code(browser, phone.code())
    assert refused.status_code == 429
    assert 0 < int(refused.headers["Retry-After"]) <= 15 * 60
    assert not signed_in(browser), "past the limit, even the right code is not checked"
    # The code page itself, saying how long to wait; not an error page sending a person who
    # is not signed in to their notes.
    page = refused.get_data(as_text=True)
    assert 'name="code"' in page and "try again in 15 minutes" in page
    assert "Back to your notes" not in page


def test_two_app_instances_share_the_count_of_wrong_codes(app, verified):
    """Two create_app() apps on one database: two workers, or two dynos."""
    phone, _ = turn_on(verified)
    second_dyno = create_app("config.TestingConfig")
    try:
        for attempt in range(app.config["TWO_STEP_FAILURES_PER_WINDOW"]):
            browser, _ = password_step(second_dyno if attempt % 2 else app)
            assert enter_code(browser, f"{attempt:06d}").status_code == 400
        for dyno in (app, second_dyno):
            browser, _ = password_step(dyno)
            assert enter_code(browser, phone.code()).status_code == 429
    finally:
        with second_dyno.app_context():
            db.engine.dispose()


def test_one_code_sent_at_once_from_five_browsers_signs_in_one(app, verified):
    phone, _ = turn_on(verified)
    code = phone.code()
    browsers = [password_step(app)[0] for _ in range(5)]
    for browser in browsers:
        browser.get("/auth/two-step")
    with ThreadPoolExecutor(max_workers=5) as pool:
        answers = list(pool.map(lambda b: b.post("/auth/two-step", {"code": code}), browsers))
    assert sorted(answer.status_code for answer in answers) == [302] + [400] * 4


def test_a_password_reset_by_mail_does_not_turn_it_off(app, verified, mail_server):
    phone, _ = turn_on(verified)
    browser = meet_the_second_step_after_a_reset(app, mail_server)
    assert enter_code(browser, phone.code()).status_code == 302 and signed_in(browser)


def test_a_reset_voids_a_pending_sign_in(app, verified, mail_server):
    phone, _ = turn_on(verified)
    waiting, _ = password_step(app)
    owner_resets(app, mail_server)
    assert enter_code(waiting, phone.code()).headers["Location"] == "/auth/login"
    assert not signed_in(waiting)


def test_remember_me_on_a_new_browser_still_asks_for_the_code(app, verified):
    phone, _ = turn_on(verified)
    first, _ = password_step(app, remember=True)
    assert enter_code(first, phone.code()).status_code == 302
    second, answer = password_step(app, remember=True)
    assert answer.headers["Location"] == "/auth/two-step"
    assert not signed_in(second)


def test_a_stolen_session_cannot_turn_it_off_make_codes_or_tokens_or_move_the_address(
    app, verified, mail_server, monkeypatch
):
    phone, _ = turn_on(verified)
    owner, _ = password_step(app)
    assert enter_code(owner, phone.code()).status_code == 302
    monkeypatch.setitem(app.config, "TWO_STEP_RECENT", timedelta(0))  # ten minutes later
    thief = copy_of(app, owner)
    assert signed_in(thief)
    changes = {
        "/mypage/totp/disable": {"password": PASSWORD},
        "/mypage/security/recovery-codes": {"password": PASSWORD},
        "/mypage/tokens": TOKEN_FORM,  # a token would outlast the session
        "/mypage/email": {"email": "thief@example.com", "password": PASSWORD},
    }
    for path, form in changes.items():
        answer = thief.post(path, form)
        assert answer.status_code == 302
        assert answer.headers["Location"].startswith("/auth/two-step?next=")
    assert enter_code(thief, "000000", "/mypage/security").status_code == 400
    with app.app_context():
        assert db.session.scalar(select(TotpCredential)) is not None
        assert RecoveryCode.left(db.session.scalar(select(User.id))) == 10
        assert db.session.scalar(select(AccessToken)) is None
        assert db.session.scalars(select(User.email)).all() == [ANN]
    deliver(app)
    assert mail_server.to("thief@example.com") == []


def test_a_token_is_made_after_a_recent_code(app, verified, monkeypatch):
    turn_on(verified)  # a code passed just now in this session
    answer = verified.submit("/mypage/tokens", TOKEN_FORM)
    assert answer.status_code == 200
    assert "memo_pat_" in answer.get_data(as_text=True)
    monkeypatch.setitem(app.config, "TWO_STEP_RECENT", timedelta(0))  # ten minutes later
    answer = verified.post("/mypage/tokens", TOKEN_FORM)
    assert answer.headers["Location"].startswith("/auth/two-step?next=")
    assert "tokens" in answer.headers["Location"]  # and back to the tokens page after


def test_turning_it_off_needs_a_recent_code_and_mails_the_undo_link(app, verified, mail_server):
    phone, _ = turn_on(verified)  # a code passed just now in this session
    assert verified.post("/mypage/totp/disable", {"password": "wrong"}).status_code == 400
    answer = verified.post("/mypage/totp/disable", {"password": PASSWORD})
    assert answer.status_code == 302
    assert "Off" in verified.get("/mypage/security").get_data(as_text=True)
    browser, answer = password_step(app)
    assert answer.headers["Location"] == "/" and signed_in(browser)
    notice = notice_to_ann(app, mail_server, "is off")
    assert "/auth/secure/" in link_in(notice, "secure")


def test_new_recovery_codes_void_the_old_ones(app, verified, mail_server):
    phone, old = turn_on(verified)
    answer = verified.post("/mypage/security/recovery-codes", {"password": PASSWORD})
    new = RECOVERY_CODE.findall(answer.get_data(as_text=True))
    assert answer.status_code == 200 and len(new) == 10 and not set(new) & set(old)
    browser, _ = password_step(app)
    assert enter_code(browser, old[0]).status_code == 400
    assert enter_code(browser, new[0]).status_code == 302
    deliver(app)
    assert any("New recovery codes" in subject for subject in subjects(mail_server))


def test_the_undo_link_turns_off_an_app_an_intruder_turned_on(app, verified, mail_server):
    """An intruder who knew the password turned the app on with their own phone: the owner's
    "this was not me" link takes it off, with the password, and she signs in again."""
    turn_on(verified)  # the intruder's phone
    notice = notice_to_ann(app, mail_server, "is on")
    assert owner_undoes(app, notice).status_code == 302
    browser, answer = password_step(app, password=NEW_PASSWORD)
    assert answer.headers["Location"] == "/" and signed_in(browser)
    assert not signed_in(verified), "the intruder's session ended"
