"""No mailed link hands an account to someone else (docs/mail.md, "Who may undo what").

Each test plays one attack of issue 30's outside review, with real mail through the real
queue to a real SMTP server: an intruder who knows the password, a second sign-up with an
unconfirmed address, a squatter who signed up first, a flood of mail to one address.
"""

import pytest

from app.extensions import db
from app.models import Note
from devenv.visitors import PASSWORD, Browser
from tests import mailbox

INTRUDER = "intruder@attacker.example"
SQUATTERS_PASSWORD = "the squatter's password"
NO_LONGER_WORKS = "no longer works"

pytestmark = pytest.mark.usefixtures("no_jobs")


def intruder_moves_the_account(app, mail_server):
    """An intruder who knows ann's password asks to move her account to their address;
    return (the intruder's browser, the link in the intruder's mailbox)."""
    intruder = Browser(app.test_client())
    assert intruder.login(mailbox.ANN, PASSWORD).status_code == 302
    assert mailbox.change_email(intruder, INTRUDER).status_code == 302
    mailbox.deliver(app)
    return intruder, mailbox.link_in(mailbox.only_mail_to(mail_server, INTRUDER))


def press(browser, link):
    """Open a mailed link and press its button; return the answer."""
    browser.get(mailbox.path_of(link))
    return browser.post(mailbox.path_of(link))


def notes_seen_by(browser):
    return browser.get("/").get_data(as_text=True)


# --- Finding 1: a pending email change dies with the password change its notice prescribes


def test_a_pending_email_change_dies_with_the_reset_its_notice_prescribes(
    app, verified, mail_server
):
    intruder, move_link = intruder_moves_the_account(app, mail_server)
    notice = mailbox.only_mail_to(mail_server, mailbox.ANN)
    assert notice["Subject"] == "A change of your Memo address was asked for"
    mailbox.ask_reset(app)
    assert mailbox.set_new_password(
        Browser(app.test_client()), mailbox.reset_link(app, mail_server)
    ).status_code
    answer = press(Browser(app.test_client()), move_link)
    assert answer.status_code == 400
    assert NO_LONGER_WORKS in answer.get_data(as_text=True)
    assert mailbox.users(app) == [mailbox.ANN]
    assert intruder.get("/").status_code == 302, "the intruder's session has ended"
    assert Browser(app.test_client()).login(mailbox.ANN, mailbox.NEW_PASSWORD).status_code == 302


def test_a_pending_email_change_dies_with_a_password_change_on_my_page(app, verified, mail_server):
    _, move_link = intruder_moves_the_account(app, mail_server)
    verified.change_password(PASSWORD, mailbox.NEW_PASSWORD)
    assert press(Browser(app.test_client()), move_link).status_code == 400
    assert mailbox.users(app) == [mailbox.ANN]


def test_this_was_not_me_cancels_the_move_and_locks_the_intruder_out(app, verified, mail_server):
    intruder, move_link = intruder_moves_the_account(app, mail_server)
    secure = mailbox.link_in(mailbox.only_mail_to(mail_server, mailbox.ANN), "secure")
    owner = Browser(app.test_client())
    page = owner.get(mailbox.path_of(secure)).get_data(as_text=True)
    assert "Secure your account" in page
    done = mailbox.set_new_password(owner, secure)
    assert done.headers["Location"] == "/auth/login"
    assert "Your account is safe again" in owner.get("/auth/login").get_data(as_text=True)
    assert press(intruder, move_link).status_code == 400
    assert intruder.get("/").status_code == 302
    assert Browser(app.test_client()).login(mailbox.ANN, PASSWORD).status_code == 400
    assert Browser(app.test_client()).login(mailbox.ANN, mailbox.NEW_PASSWORD).status_code == 302
    assert mailbox.set_new_password(owner, secure, "once more").status_code == 400, "it works once"


def test_this_was_not_me_takes_a_moved_account_back_even_after_the_intruder_changes_the_password(
    app, verified, mail_server
):
    intruder, move_link = intruder_moves_the_account(app, mail_server)
    assert press(intruder, move_link).status_code == 302
    assert mailbox.users(app) == [INTRUDER]
    intruder.login(INTRUDER, PASSWORD)
    intruder.change_password(PASSWORD, "the intruder's own password")
    mailbox.deliver(app)
    moved = [
        m for m in mail_server.to(mailbox.ANN) if m["Subject"] == "Your Memo address was changed"
    ]
    secure = mailbox.link_in(moved[-1], "secure")
    mailbox.set_new_password(Browser(app.test_client()), secure)
    assert mailbox.users(app) == [mailbox.ANN]
    assert intruder.get("/").status_code == 302
    assert Browser(app.test_client()).login(mailbox.ANN, mailbox.NEW_PASSWORD).status_code == 302
    intruders_password = Browser(app.test_client()).login(INTRUDER, "the intruder's own password")
    assert intruders_password.status_code == 400


def test_confirming_a_move_signs_in_nobody_who_was_not_signed_in(app, verified, mail_server):
    _, move_link = intruder_moves_the_account(app, mail_server)
    presser = Browser(app.test_client())
    answer = press(presser, move_link)
    assert answer.headers["Location"] == "/auth/login"
    assert presser.get("/").status_code == 302, "confirming signs nobody in"


# --- Finding 2: a second sign-up with an unconfirmed address keeps nothing


def test_a_second_sign_up_with_an_unconfirmed_address_never_sets_its_password(app, mail_server):
    victim = Browser(app.test_client())
    mailbox.sign_up(victim)
    victim.login(mailbox.ANN, PASSWORD)
    victim.submit("/notes/new", {"title": "My diary", "content": "private words"})
    attacker = Browser(app.test_client())
    answer = mailbox.sign_up(attacker, nickname="attacker", password="the attacker's password")
    assert answer.headers["Location"] == "/auth/login"
    mailbox.deliver(app)
    first, second = mail_server.to(mailbox.ANN)
    assert first["Subject"] == "Confirm your email address for Memo"
    assert second["Subject"] == "Someone signed up for Memo again with your address"
    assert "/auth/verify/" not in mailbox.text_of(second), "no second verification to mistake"
    for message in (first, second):  # the victim presses every link a careless person would
        if "/auth/verify/" in mailbox.text_of(message):
            press(victim, mailbox.link_in(message))
    assert (
        Browser(app.test_client()).login(mailbox.ANN, "the attacker's password").status_code == 400
    )
    again = Browser(app.test_client())
    assert again.login(mailbox.ANN, PASSWORD).status_code == 302
    assert "My diary" in notes_seen_by(again)


# --- Finding 3: a squatter who signed up first keeps nothing once the owner steps in


def squatter_signs_up_first(app):
    """Someone signs up with ann's address first and stays signed in (remember me)."""
    squatter = Browser(app.test_client())
    mailbox.sign_up(squatter, nickname="squatter", password=SQUATTERS_PASSWORD)
    assert squatter.login(mailbox.ANN, SQUATTERS_PASSWORD, remember="y").status_code == 302
    return squatter


def test_a_squatter_loses_the_account_once_the_mailbox_holder_resets_its_password(app, mail_server):
    squatter = squatter_signs_up_first(app)
    owner = Browser(app.test_client())
    mailbox.sign_up(owner, nickname="realann", password=mailbox.NEW_PASSWORD)
    mailbox.deliver(app)
    notice = mail_server.to(mailbox.ANN)[-1]
    assert notice["Subject"] == "Someone signed up for Memo again with your address"
    assert "/auth/reset" in mailbox.text_of(notice)
    mailbox.ask_reset(app)
    mailbox.set_new_password(owner, mailbox.reset_link(app, mail_server))
    owner.login(mailbox.ANN, mailbox.NEW_PASSWORD)
    owner.submit("/notes/new", {"title": "Owner secret", "content": "for my eyes"})
    assert squatter.get("/").status_code == 302, "the squatter's remembered session ended"
    assert Browser(app.test_client()).login(mailbox.ANN, SQUATTERS_PASSWORD).status_code == 400
    assert "Owner secret" in notes_seen_by(owner)


def test_the_verification_link_signs_in_only_the_browser_that_signed_up(app, mail_server):
    squatter_signs_up_first(app)
    mailbox.deliver(app)
    holder = Browser(app.test_client())
    answer = mailbox.open_and_confirm(
        holder, mailbox.link_in(mailbox.only_mail_to(mail_server, mailbox.ANN))
    )
    assert answer.headers["Location"] == "/auth/login"
    assert holder.get("/").status_code == 302, "confirming the address signed nobody in"


def test_the_holder_of_an_address_removes_an_account_someone_made_with_it(app, mail_server):
    squatter = squatter_signs_up_first(app)
    squatter.submit("/notes/new", {"title": "Squatter note", "content": "x"})
    mailbox.deliver(app)
    remove = mailbox.link_in(mailbox.only_mail_to(mail_server, mailbox.ANN), "remove")
    holder = Browser(app.test_client())
    page = holder.get(mailbox.path_of(remove)).get_data(as_text=True)
    assert "Remove this account" in page
    assert holder.post(mailbox.path_of(remove)).headers["Location"] == "/auth/signup"
    assert mailbox.users(app) == []
    with app.app_context():
        assert db.session.query(Note).count() == 0
    assert squatter.get("/").status_code == 302
    assert holder.post(mailbox.path_of(remove)).status_code == 400, "it works once"
    mailbox.sign_up(holder, nickname="realann", password=mailbox.NEW_PASSWORD)
    assert mailbox.users(app) == [mailbox.ANN]


def test_a_removal_link_is_void_once_the_address_is_confirmed(app, browser, mail_server):
    mailbox.sign_up(browser)
    mailbox.deliver(app)
    message = mailbox.only_mail_to(mail_server, mailbox.ANN)
    mailbox.open_and_confirm(browser, mailbox.link_in(message))
    answer = press(Browser(app.test_client()), mailbox.link_in(message, "remove"))
    assert answer.status_code == 400
    assert mailbox.users(app) == [mailbox.ANN]


# --- Finding 8: every other link dies with a change of password or address


def test_a_spare_verification_link_is_void_after_a_reset(app, signed_up_user, mail_server):
    mailbox.deliver(app)
    spare = mailbox.link_in(mailbox.only_mail_to(mail_server, mailbox.ANN))
    mailbox.ask_reset(app)
    mailbox.set_new_password(Browser(app.test_client()), mailbox.reset_link(app, mail_server))
    answer = press(Browser(app.test_client()), spare)
    assert answer.status_code == 400
    assert NO_LONGER_WORKS in answer.get_data(as_text=True)


def test_a_reset_link_sent_to_the_old_address_is_void_after_a_move(app, verified, mail_server):
    mailbox.ask_reset(app)
    old_reset = mailbox.reset_link(app, mail_server)
    mailbox.change_email(verified, "ann.new@example.com")
    mailbox.deliver(app)
    mailbox.open_and_confirm(
        verified, mailbox.link_in(mailbox.only_mail_to(mail_server, "ann.new@example.com"))
    )
    answer = mailbox.set_new_password(Browser(app.test_client()), old_reset)
    assert answer.status_code == 400
    assert NO_LONGER_WORKS in answer.get_data(as_text=True)


# --- Finding 5: mail to one address is limited, whoever asks for it


def test_mail_to_one_address_is_limited_across_accounts(app, mail_server):
    limit = app.config["MAILS_PER_RECIPIENT"]
    victim = "victim@example.com"
    answers = []
    for number in range(3):
        sender = Browser(app.test_client())
        assert sender.signup(f"sender{number}@example.com", f"sender{number}").status_code == 302
        answers += [mailbox.change_email(sender, victim) for _ in range(3)]
    answers.append(mailbox.sign_up(Browser(app.test_client()), victim, "victim"))
    assert {answer.status_code for answer in answers} == {302}, "every asker is told the same"
    mailbox.deliver(app)
    assert len(mail_server.to(victim)) == limit


# --- Finding 6: an address Memo cannot deliver to is refused, not accepted and lost


@pytest.mark.parametrize("address", ["josé@example.com", "홍길동@example.com"])
def test_an_address_with_a_non_latin_local_part_is_refused_with_a_reason(app, verified, address):
    answer = mailbox.sign_up(Browser(app.test_client()), address, "jose")
    assert answer.status_code == 400
    assert "before the @" in answer.get_data(as_text=True)
    moved = mailbox.change_email(verified, address)
    assert moved.status_code == 400
    assert "before the @" in moved.get_data(as_text=True)
    assert mailbox.users(app) == [mailbox.ANN]


def test_a_korean_domain_is_still_welcome(app, browser, mail_server):
    assert mailbox.sign_up(browser, "ann@네이버.com", "ann").headers["Location"] == "/auth/login"
    mailbox.deliver(app)
    assert len(mail_server.messages()) == 1
