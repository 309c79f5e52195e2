"""Memo reaches its users by mail: verification, forgotten passwords, email change, notices.

Every mail goes through the real job queue to a real SMTP server (aiosmtpd), and the tests
read what arrived and open its links as the person would.
"""

import logging
import threading
from datetime import timedelta

import pytest

from app.extensions import db
from app.models import MailToken
from devenv.visitors import PASSWORD, Browser
from tests import mailbox

CHECK_EMAIL = "Check your email"


pytestmark = pytest.mark.usefixtures("no_jobs")


def test_signup_mails_a_verification_link_that_verifies_and_signs_in(app, browser, mail_server):
    answer = mailbox.sign_up(browser)
    assert answer.headers["Location"] == "/auth/login"
    assert CHECK_EMAIL in browser.get("/auth/login").get_data(as_text=True)
    mailbox.deliver(app)
    message = mailbox.only_mail_to(mail_server, mailbox.ANN)
    assert message["Subject"] == "Confirm your email address for Memo"
    assert message["Auto-Submitted"] == "auto-generated"
    assert message["Message-ID"].endswith("@localhost>") and message["Date"]
    assert message["From"] == "Memo <memo@localhost>"
    link = mailbox.link_in(message)
    assert link.startswith(f"{mailbox.PUBLIC_URL}/auth/verify/")
    confirmed = mailbox.open_and_confirm(browser, link)
    assert confirmed.headers["Location"] == "/"
    home = browser.get("/").get_data(as_text=True)
    assert "Your email address is confirmed" in home
    assert "not confirmed yet" not in home


@pytest.mark.parametrize(
    ("lifetime", "said"),
    [(timedelta(days=2), "for 48 hours."), (timedelta(hours=1), "for 1 hour.")],
    ids=["hours", "one-hour"],
)
def test_a_verification_mail_states_the_links_lifetime_in_words(
    app, browser, mail_server, monkeypatch, lifetime, said
):
    monkeypatch.setitem(app.config, "VERIFY_LINK_LIFETIME", lifetime)
    mailbox.sign_up(browser)
    mailbox.deliver(app)
    assert f"The link works once, {said}" in mailbox.text_of(
        mailbox.only_mail_to(mail_server, mailbox.ANN)
    )


def test_opening_a_link_alone_changes_nothing(app, browser, mail_server):
    mailbox.sign_up(browser)
    mailbox.deliver(app)
    link = mailbox.link_in(mailbox.only_mail_to(mail_server, mailbox.ANN))
    for _ in range(2):  # a mail scanner fetching the link, twice
        assert Browser(app.test_client()).get(mailbox.path_of(link)).status_code == 200
    assert mailbox.open_and_confirm(browser, link).status_code == 302


def test_a_taken_address_gets_a_notice_and_no_second_account(app, verified, mail_server):
    newcomer = Browser(app.test_client())
    answer = mailbox.sign_up(newcomer, nickname="newcomer", password="another password")
    assert answer.headers["Location"] == "/auth/login"
    assert CHECK_EMAIL in newcomer.get("/auth/login").get_data(as_text=True)
    mailbox.deliver(app)
    message = mailbox.only_mail_to(mail_server, mailbox.ANN)
    assert message["Subject"] == "Someone tried to sign up for Memo with your address"
    assert f"{mailbox.PUBLIC_URL}/auth/reset" in mailbox.text_of(message)
    assert mailbox.users(app) == [mailbox.ANN]


def test_an_unverified_account_signs_in_sees_a_banner_and_asks_again(
    app, signed_up_user, mail_server
):
    page = signed_up_user.get("/").get_data(as_text=True)
    assert "Your email address is not confirmed yet" in page
    assert signed_up_user.post("/auth/verify").headers["Location"] == "/"
    mailbox.deliver(app)
    first, second = mail_server.to(mailbox.ANN)  # the sign-up's link and the one asked again
    assert mailbox.link_in(first) != mailbox.link_in(second)
    assert mailbox.open_and_confirm(signed_up_user, mailbox.link_in(second)).status_code == 302


def test_an_unverified_address_receives_no_notices(app, signed_up_user, mail_server):
    signed_up_user.change_password(PASSWORD, mailbox.NEW_PASSWORD)
    mailbox.change_email(signed_up_user, "ann.new@example.com", mailbox.NEW_PASSWORD)
    mailbox.deliver(app)
    subjects = {message["Subject"] for message in mail_server.to(mailbox.ANN)}
    assert subjects == {"Confirm your email address for Memo"}, "the sign-up's link alone"


def test_forgot_password_resets_ends_every_session_and_sends_a_notice(app, verified, mail_server):
    login_page = Browser(app.test_client()).get("/auth/login").get_data(as_text=True)
    assert 'href="/auth/reset"' in login_page
    answer = mailbox.ask_reset(app)
    assert answer.headers["Location"] == "/auth/login"
    link = mailbox.reset_link(app, mail_server)
    assert link.startswith(f"{mailbox.PUBLIC_URL}/auth/reset/")
    stranger = Browser(app.test_client())
    done = mailbox.set_new_password(stranger, link)
    assert done.headers["Location"] == "/auth/login"
    assert "Your password is changed" in stranger.get("/auth/login").get_data(as_text=True)
    assert stranger.get("/").status_code == 302, "a reset signs nobody in"
    assert verified.get("/").status_code == 302, "the signed-in session has ended"
    assert Browser(app.test_client()).login(mailbox.ANN, PASSWORD).status_code == 400
    assert Browser(app.test_client()).login(mailbox.ANN, mailbox.NEW_PASSWORD).status_code == 302
    mailbox.deliver(app)
    assert mail_server.to(mailbox.ANN)[-1]["Subject"] == "Your Memo password was changed"
    again = mailbox.set_new_password(Browser(app.test_client()), link, "yet another password")
    assert again.status_code == 400
    assert "used already" in again.get_data(as_text=True)


def test_a_reset_clears_the_sign_in_throttle_of_the_account(app, verified, mail_server):
    guesser = Browser(app.test_client())
    for _ in range(app.config["LOGIN_FAILURES_PER_EMAIL"] + 1):
        guesser.login(mailbox.ANN, "wrong password")
    assert Browser(app.test_client()).login(mailbox.ANN, PASSWORD).status_code == 429
    mailbox.ask_reset(app)
    mailbox.set_new_password(Browser(app.test_client()), mailbox.reset_link(app, mail_server))
    assert Browser(app.test_client()).login(mailbox.ANN, mailbox.NEW_PASSWORD).status_code == 302


def test_an_unknown_address_gets_the_same_answer_and_no_mail(app, verified, mail_server):
    known, unknown = mailbox.ask_reset(app), mailbox.ask_reset(app, "nobody@example.com")
    assert known.status_code == unknown.status_code == 302
    assert known.headers["Location"] == unknown.headers["Location"]
    mailbox.deliver(app)
    assert [m["To"] for m in mail_server.messages()] == [mailbox.ANN]


def test_a_reset_link_is_void_once_the_password_changed_another_way(app, verified, mail_server):
    mailbox.ask_reset(app)
    link = mailbox.reset_link(app, mail_server)
    verified.change_password(PASSWORD, mailbox.NEW_PASSWORD)
    for answer in (
        verified.get(mailbox.path_of(link)),
        mailbox.set_new_password(verified, link, "another one"),
    ):
        assert answer.status_code == 400
        assert "no longer works" in answer.get_data(as_text=True)
    assert Browser(app.test_client()).login(mailbox.ANN, mailbox.NEW_PASSWORD).status_code == 302


def test_expired_links_get_a_clear_page_with_a_way_to_ask_again(app, user, mail_server):
    mailbox.ask_reset(app)
    mailbox.verify_email(app, mailbox.ANN)  # after the sign-up's link was sent
    user.post("/auth/verify")
    mailbox.deliver(app)
    mailbox.expire_links(app)
    for message in mail_server.to(mailbox.ANN):
        page = user.get(mailbox.path_of(mailbox.link_in(message)))
        assert page.status_code == 400
        text = page.get_data(as_text=True)
        assert "This link has expired" in text
        assert 'href="/auth/reset"' in text or 'href="/auth/login"' in text


@pytest.mark.parametrize(
    "path",
    [
        "/auth/verify/not-a-token",
        "/auth/reset/not-a-token",
        "/auth/verify/" + "x" * 5000,
        "/auth/reset/%00%0d%0a",
        "/auth/verify/%F0%9F%98%80",
    ],
)
def test_unknown_or_mangled_tokens_get_a_clear_page_never_a_500(browser, path):
    for answer in (browser.get(path), browser.post(path, {"new_password": "x" * 10})):
        assert answer.status_code == 400
        assert "This link is not valid" in answer.get_data(as_text=True)


def test_a_tampered_token_does_not_work(app, browser, mail_server):
    mailbox.sign_up(browser)
    mailbox.deliver(app)
    link = mailbox.link_in(mailbox.only_mail_to(mail_server, mailbox.ANN))
    tampered = link[:-1] + ("A" if link[-1] != "A" else "B")
    assert browser.get(mailbox.path_of(tampered)).status_code == 400
    assert browser.post(mailbox.path_of(tampered)).status_code == 400


def test_two_resets_with_one_token_at_once_exactly_one_succeeds(app, verified, mail_server):
    mailbox.ask_reset(app)
    link = mailbox.reset_link(app, mail_server)
    browsers = [Browser(app.test_client()) for _ in range(2)]
    for browser in browsers:
        browser.get(mailbox.path_of(link))
    start, answers = threading.Barrier(2), []

    def submit(browser, password):
        start.wait()
        form = {"new_password": password, "new_password_confirm": password}
        answers.append((password, browser.post(mailbox.path_of(link), form).status_code))

    threads = [
        threading.Thread(target=submit, args=(browser, f"parallel password {n}"))
        for n, browser in enumerate(browsers)
    ]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(30)
    assert sorted(status for _, status in answers) == [302, 400]
    (winner,) = [password for password, status in answers if status == 302]
    assert Browser(app.test_client()).login(mailbox.ANN, winner).status_code == 302


@pytest.mark.parametrize(
    "headers",
    [{"Host": "evil.example"}, {"X-Forwarded-Host": "evil.example"}],
    ids=["host", "x-forwarded-host"],
)
def test_host_headers_naming_another_site_change_no_link(app, verified, mail_server, headers):
    visitor = Browser(app.test_client())
    visitor.get("/auth/reset", headers=headers)
    visitor.post("/auth/reset", {"email": mailbox.ANN}, headers=headers)
    newcomer = Browser(app.test_client())
    newcomer.get("/auth/signup", headers=headers)
    form = {"email": "bob@example.com", "nickname": "bob", "password": PASSWORD}
    newcomer.post("/auth/signup", {**form, "password_confirm": PASSWORD}, headers=headers)
    mailbox.deliver(app)
    assert len(mail_server.messages()) == 2
    for message in mail_server.messages():
        assert "evil.example" not in message.as_string()
        assert mailbox.link_in(message).startswith(mailbox.PUBLIC_URL + "/auth/")


def test_resets_are_throttled_per_address_with_retry_after(app, verified):
    for _ in range(app.config["RESETS_PER_EMAIL"]):
        assert mailbox.ask_reset(app).status_code == 302
    refused = mailbox.ask_reset(app, "ANN@example.com")
    assert refused.status_code == 429
    assert int(refused.headers["Retry-After"]) > 0
    assert "Too many password resets" in refused.get_data(as_text=True)


def test_resets_are_throttled_per_client(app):
    for number in range(app.config["RESETS_PER_CLIENT"]):
        assert mailbox.ask_reset(app, f"someone{number}@example.com").status_code == 302
    assert mailbox.ask_reset(app, "one-more@example.com").status_code == 429


def test_changing_email_takes_effect_when_the_new_address_confirms(app, verified, mail_server):
    answer = mailbox.change_email(verified, "ann.new@example.com")
    assert answer.headers["Location"] == "/mypage"
    assert "Check the new address" in verified.get("/mypage").get_data(as_text=True)
    mailbox.deliver(app)
    old_notice = mailbox.only_mail_to(mail_server, mailbox.ANN)
    assert old_notice["Subject"] == "A change of your Memo address was asked for"
    link = mailbox.link_in(mailbox.only_mail_to(mail_server, "ann.new@example.com"))
    assert mailbox.users(app) == [mailbox.ANN], "nothing changes before the link is opened"
    assert mailbox.open_and_confirm(verified, link).status_code == 302
    assert mailbox.users(app) == ["ann.new@example.com"]
    mailbox.deliver(app)
    assert mail_server.to(mailbox.ANN)[-1]["Subject"] == "Your Memo address was changed"
    assert Browser(app.test_client()).login("ann.new@example.com").status_code == 302


def test_changing_email_needs_the_current_password(app, verified, mail_server):
    answer = mailbox.change_email(verified, "ann.new@example.com", password="not my password")
    assert answer.status_code == 400
    mailbox.deliver(app)
    assert mail_server.messages() == []


def test_changing_to_a_taken_address_tells_the_requester_nothing(
    app, verified, other_user, mail_server
):
    mailbox.verify_email(app, "bob@example.com")
    taken = mailbox.change_email(verified, "BOB@example.com")
    free = mailbox.change_email(verified, "ann.new@example.com")
    assert taken.status_code == free.status_code == 302
    mailbox.deliver(app)
    (notice,) = mail_server.to("bob@example.com")
    assert notice["Subject"] == "Someone tried to move an account to your address"
    assert [m["Subject"] for m in mail_server.to(mailbox.ANN)] == [
        "A change of your Memo address was asked for"
    ] * 2
    assert mailbox.users(app) == [mailbox.ANN, "bob@example.com"]


def test_a_change_link_fails_clearly_if_the_address_was_taken_since(app, verified, mail_server):
    mailbox.change_email(verified, "carol@example.com")
    mailbox.deliver(app)
    link = mailbox.link_in(mailbox.only_mail_to(mail_server, "carol@example.com"))
    mailbox.sign_up(Browser(app.test_client()), "carol@example.com", "carol")
    answer = open_and_confirm_expecting_problem(verified, link)
    assert "belongs to another account" in answer
    assert mailbox.users(app) == [mailbox.ANN, "carol@example.com"]


def open_and_confirm_expecting_problem(browser, link):
    """Press a change link's button and return the page that says why it did not work."""
    browser.get(mailbox.path_of(link))
    answer = browser.post(mailbox.path_of(link))
    assert answer.status_code == 400
    return answer.get_data(as_text=True)


def test_deleting_the_account_sends_a_notice_to_its_address(app, verified, mail_server):
    verified.submit("/mypage/delete", {"password": PASSWORD})
    mailbox.deliver(app)
    assert (
        mailbox.only_mail_to(mail_server, mailbox.ANN)["Subject"] == "Your Memo account was deleted"
    )


def test_a_mailed_links_token_stays_out_of_the_request_log(app, browser, mail_server, caplog):
    mailbox.sign_up(browser)
    mailbox.deliver(app)
    link = mailbox.link_in(mailbox.only_mail_to(mail_server, mailbox.ANN))
    token = link.rsplit("/", 1)[1]
    with caplog.at_level(logging.INFO, logger="memo.request"):
        mailbox.open_and_confirm(browser, link)
    paths = [record.path for record in caplog.records if record.name == "memo.request"]
    assert [path for path in paths if path.startswith("/auth/verify")] == [
        "/auth/verify/<token>"
    ] * 2
    assert token not in caplog.text


def test_the_maintenance_job_prunes_spent_links(app, user, mail_server):
    user.post("/auth/verify")
    mailbox.deliver(app)
    link = mailbox.link_in(mail_server.to(mailbox.ANN)[-1])
    mailbox.open_and_confirm(user, link)
    with app.app_context():
        assert MailToken.delete_spent() == 0, "a used link is kept a day, to say it was used"
    mailbox.expire_links(app)
    with app.app_context():
        # Two verification mails, each with a link to remove the account if it is not yours.
        assert MailToken.delete_spent() == 4
        db.session.commit()
