"""Losing every second step and every recovery code (docs/mail.md, "The one rule":
Waits): the password alone asks to turn the second step off; every address with standing is
told at once, and only after a week with no second step, reset or undo can the password
finish it. Real PostgreSQL, the real queue and SMTP server."""

from datetime import timedelta

import pytest
from sqlalchemy import func, select

from app.extensions import db
from app.models import Passkey, RecoveryCode, SecondStepRecovery, TotpCredential
from tests import signing_in
from tests.mailbox import NEW_PASSWORD, deliver, link_in, notice_to_ann, subjects, text_of
from tests.passkeying import SoftPasskey, add_passkey, sign_in_with
from tests.phones import turn_on

pytestmark = pytest.mark.usefixtures("no_jobs")


def ask_to_drop(browser):
    """Press the code page's "Ask to turn two-step sign-in off" (or "Finish") button."""
    browser.get("/auth/two-step")
    return browser.post("/auth/two-step/lost")


def count(app, model):
    with app.app_context():
        return db.session.scalar(select(func.count()).select_from(model))


def test_asking_tells_every_address_and_signs_nobody_in_for_a_week(app, verified, mail_server):
    turn_on(verified)
    browser, _ = signing_in.password_step(app)
    page = browser.get("/auth/two-step").get_data(as_text=True)
    assert "Ask to turn two-step sign-in off" in page
    answer = ask_to_drop(browser)
    assert answer.headers["Location"] == "/auth/two-step"
    assert "Every address of the account is told" in browser.get("/auth/two-step").get_data(
        as_text=True
    )
    assert not signing_in.signed_in(browser)
    again = ask_to_drop(browser)  # the week has not passed
    assert "can be turned off after" in browser.get(again.headers["Location"]).get_data(
        as_text=True
    )
    assert not signing_in.signed_in(browser) and count(app, TotpCredential) == 1
    notice = notice_to_ann(app, mail_server, "two-step sign-in was asked")
    assert "(UTC)" in text_of(notice) and "/auth/secure/" in link_in(notice, "secure")


def test_after_the_wait_the_password_turns_it_off_and_ends_every_other_session(
    app, verified, mail_server, monkeypatch
):
    turn_on(verified)
    add_passkey(verified, SoftPasskey())  # a code passed just now: no second step asked
    browser, _ = signing_in.password_step(app)
    ask_to_drop(browser)
    monkeypatch.setitem(app.config, "SECOND_STEP_RECOVERY_WAIT", timedelta(0))  # a week on
    finished = ask_to_drop(browser)
    assert finished.headers["Location"] == "/mypage/security" and signing_in.signed_in(browser)
    assert [count(app, m) for m in (TotpCredential, Passkey, RecoveryCode)] == [0, 0, 0]
    assert count(app, SecondStepRecovery) == 0
    assert not signing_in.signed_in(verified), "every other session ended"
    deliver(app)
    assert "Two-step sign-in is off for your Memo account" in subjects(mail_server)


def test_a_second_step_that_passes_meanwhile_stops_the_request(app, verified, monkeypatch):
    passkey = SoftPasskey()
    add_passkey(verified, passkey)
    asker, _ = signing_in.password_step(app)
    ask_to_drop(asker)
    owner, _ = signing_in.password_step(app)
    assert sign_in_with(owner, passkey).status_code == 302 and signing_in.signed_in(owner)
    monkeypatch.setitem(app.config, "SECOND_STEP_RECOVERY_WAIT", timedelta(0))
    ask_to_drop(asker)  # a new request, not the old one's end
    assert not signing_in.signed_in(asker) and count(app, Passkey) == 1


def test_an_undo_or_a_reset_meanwhile_stops_the_request(app, verified, mail_server):
    turn_on(verified)
    asker, _ = signing_in.password_step(app)
    ask_to_drop(asker)
    notice = notice_to_ann(app, mail_server, "two-step sign-in was asked")
    assert signing_in.owner_undoes(app, notice).status_code == 302
    assert count(app, SecondStepRecovery) == 0  # (and the app of this week is gone too)
    owner = signing_in.sign_in_as_owner(app)
    turn_on(owner, NEW_PASSWORD)
    signing_in.settle_second_steps(app)  # the owner's own app, weeks old: a reset keeps it
    asker, _ = signing_in.password_step(app, password=NEW_PASSWORD)
    ask_to_drop(asker)
    assert count(app, SecondStepRecovery) == 1
    assert signing_in.owner_resets(app, mail_server).status_code == 302
    assert count(app, SecondStepRecovery) == 0 and count(app, TotpCredential) == 1


def test_without_a_right_password_there_is_nothing_to_ask(app, verified):
    turn_on(verified)
    stranger = signing_in.new_browser(app)
    stranger.get("/auth/login")
    assert stranger.post("/auth/two-step/lost").headers["Location"] == "/auth/login"
    browser, _ = signing_in.password_step(app)
    assert browser.post("/auth/two-step/lost", csrf=False).status_code == 400
    assert count(app, SecondStepRecovery) == 0
    signed = verified.get("/auth/two-step?next=/mypage").get_data(as_text=True)
    assert "Ask to turn two-step sign-in off" not in signed  # only where a sign-in waits
