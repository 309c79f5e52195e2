"""Who may undo what (docs/mail.md): the findings of the outside attack on the undo links.

Each test is a sequence an attacker played against 36974c7, with real mail through the real
queue to a real SMTP server. The sequences in general are tests/test_recovery_sequences.py.
"""

import threading
from datetime import timedelta

import pytest
from sqlalchemy import select, update

from app.extensions import db
from app.models import AddressHold, MailToken, User, utcnow
from devenv.visitors import PASSWORD, Browser
from tests import mailbox

INTRUDER = "intruder@attacker.example"
OWNERS_OTHER = "ann@new.example"
INTRUDERS_PASSWORD = "the intruder's own password"

pytestmark = pytest.mark.usefixtures("no_jobs")


def mail_to(mail_server, address, subject):
    """Return the messages `address` received with `subject`, oldest first."""
    return [m for m in mail_server.to(address) if m["Subject"] == subject]


def undo_links(mail_server, address):
    """Return every "this was not me" link mailed to `address`, oldest first."""
    return [
        mailbox.link_in(m, "secure")
        for m in mail_server.to(address)
        if "/auth/secure/" in mailbox.text_of(m)
    ]


def last_undo_link(mail_server, address):
    """Return the newest "this was not me" link mailed to `address`."""
    return undo_links(mail_server, address)[-1]


def moves_to(app, mail_server, browser, address, password=PASSWORD):
    """Ask to move the signed-in account to `address`, and confirm it from that mailbox."""
    assert mailbox.change_email(browser, address, password).status_code == 302
    mailbox.deliver(app)
    (confirm,) = [
        mailbox.link_in(m) for m in mail_server.to(address) if "/auth/verify/" in mailbox.text_of(m)
    ][-1:]
    presser = Browser(app.test_client())
    presser.get(mailbox.path_of(confirm))
    answer = presser.post(mailbox.path_of(confirm))
    mailbox.deliver(app)
    return answer, presser


def intruder_takes_the_account(app, mail_server):
    """With ann's password, an intruder moves her account to their address and confirms it."""
    intruder = Browser(app.test_client())
    assert intruder.login(mailbox.ANN, PASSWORD).status_code == 302
    answer, _ = moves_to(app, mail_server, intruder, INTRUDER)
    assert answer.status_code == 302
    assert mailbox.users(app) == [INTRUDER]
    assert intruder.login(INTRUDER, PASSWORD).status_code == 302
    return intruder


def can_sign_in(app, email, password):
    return Browser(app.test_client()).login(email, password).status_code == 302


# --- HIGH 1: the intruder outruns the owner's undo links with one of their own -------------


@pytest.mark.parametrize("second_notice", ["another move", "a password change"])
def test_the_intruders_own_undo_link_cannot_void_the_owners(
    app, verified, mail_server, second_notice
):
    intruder = intruder_takes_the_account(app, mail_server)
    owners_link = last_undo_link(mail_server, mailbox.ANN)
    if second_notice == "another move":
        assert mailbox.change_email(intruder, "elsewhere@attacker.example").status_code == 302
    else:
        intruder.change_password(PASSWORD, INTRUDERS_PASSWORD)
    mailbox.deliver(app)
    intruders_link = last_undo_link(mail_server, INTRUDER)
    assert mailbox.set_new_password(intruder, intruders_link, INTRUDERS_PASSWORD).status_code == 302
    mailbox.deliver(app)

    owner = Browser(app.test_client())
    assert mailbox.set_new_password(owner, owners_link).status_code == 302
    assert mailbox.users(app) == [mailbox.ANN]
    assert can_sign_in(app, mailbox.ANN, mailbox.NEW_PASSWORD)
    assert not can_sign_in(app, mailbox.ANN, INTRUDERS_PASSWORD)
    # Nothing the intruder holds works any more, and no undo link reaches them again.
    mailbox.deliver(app)
    for link in undo_links(mail_server, INTRUDER):
        assert (
            mailbox.set_new_password(Browser(app.test_client()), link, "mine again").status_code
            == 400
        )
    secured = mail_to(mail_server, INTRUDER, "Your Memo account was secured")
    assert all("/auth/secure/" not in mailbox.text_of(m) + mailbox.html_of(m) for m in secured)


def test_the_owners_undo_link_outranks_the_address_the_account_moved_to(app, verified, mail_server):
    intruder_takes_the_account(app, mail_server)
    # The intruder's address cannot undo the owner's recovery: it ranks below hers.
    intruders_notice_link = (
        last_undo_link(mail_server, INTRUDER)
        if any("/auth/secure/" in mailbox.text_of(m) for m in mail_server.to(INTRUDER))
        else None
    )
    mailbox.set_new_password(Browser(app.test_client()), last_undo_link(mail_server, mailbox.ANN))
    if intruders_notice_link:
        answer = mailbox.set_new_password(
            Browser(app.test_client()), intruders_notice_link, "x" * 12
        )
        assert answer.status_code == 400
    with app.app_context():
        user = db.session.scalar(select(User))
        assert not AddressHold.may_undo(user, INTRUDER)
        assert AddressHold.may_undo(user, mailbox.ANN)


# --- HIGH 2: an undo link outlives the owner's own reset ----------------------------------


def test_a_kept_undo_link_dies_with_the_owners_reset(app, verified, mail_server):
    verified.change_password(PASSWORD, "the owner's second password")
    mailbox.deliver(app)
    kept = last_undo_link(mail_server, mailbox.ANN)  # also read by someone at a shared computer
    mailbox.ask_reset(app)
    assert mailbox.set_new_password(
        Browser(app.test_client()), mailbox.reset_link(app, mail_server)
    ).status_code
    keeper = Browser(app.test_client())
    answer = mailbox.set_new_password(keeper, kept, "the keeper's password")
    assert answer.status_code == 400
    assert can_sign_in(app, mailbox.ANN, mailbox.NEW_PASSWORD)
    assert not can_sign_in(app, mailbox.ANN, "the keeper's password")


def test_an_undo_link_used_mails_every_address_with_standing(app, verified, mail_server):
    answer, presser = moves_to(app, mail_server, verified, OWNERS_OTHER)
    assert answer.status_code == 302
    page = presser.get(answer.headers["Location"]).get_data(as_text=True)
    assert f"the link mailed to {mailbox.ANN} can undo this move" in page
    mailbox.ask_reset(app, OWNERS_OTHER)
    mailbox.deliver(app)
    resets = mail_to(mail_server, OWNERS_OTHER, "Reset your Memo password")
    assert (
        mailbox.set_new_password(
            Browser(app.test_client()), mailbox.link_in(resets[-1])
        ).status_code
        == 302
    )
    # The address left ranks above for 7 days: its link still works, and it is not silent.
    old = last_undo_link(mail_server, mailbox.ANN)
    assert (
        mailbox.set_new_password(Browser(app.test_client()), old, "whoever reads A").status_code
        == 302
    )
    assert mailbox.users(app) == [mailbox.ANN]
    mailbox.deliver(app)
    (told,) = mail_to(mail_server, OWNERS_OTHER, "Your Memo account was secured")
    assert f"mailed to {mailbox.ANN}" in mailbox.text_of(told)


def test_an_address_left_more_than_7_days_ago_can_undo_nothing(app, verified, mail_server):
    answer, _ = moves_to(app, mail_server, verified, OWNERS_OTHER)
    assert answer.status_code == 302
    old = last_undo_link(mail_server, mailbox.ANN)
    with app.app_context():
        eight_days_ago = utcnow() - timedelta(days=8)
        db.session.execute(update(AddressHold).values(left_at=eight_days_ago))
        db.session.commit()
    answer = mailbox.set_new_password(Browser(app.test_client()), old, "whoever reads A")
    assert answer.status_code == 400
    assert "ranks above" in answer.get_data(as_text=True)
    assert mailbox.users(app) == [OWNERS_OTHER]


# --- The attack on the model itself (docs/security/accounts.md): what the first answer missed


def test_after_the_owners_recovery_the_intruders_address_has_no_standing(
    app, verified, mail_server
):
    intruder_takes_the_account(app, mail_server)
    mailbox.set_new_password(Browser(app.test_client()), last_undo_link(mail_server, mailbox.ANN))
    mailbox.deliver(app)
    heard = len(mail_server.to(INTRUDER))
    owner = Browser(app.test_client())
    assert owner.login(mailbox.ANN, mailbox.NEW_PASSWORD).status_code == 302
    answer, _ = moves_to(app, mail_server, owner, OWNERS_OTHER, mailbox.NEW_PASSWORD)
    assert answer.status_code == 302
    assert len(mail_server.to(INTRUDER)) == heard, "the intruder hears nothing of her moves"
    for link in undo_links(mail_server, INTRUDER):
        assert (
            mailbox.set_new_password(Browser(app.test_client()), link, "back to I").status_code
            == 400
        )
    assert mailbox.users(app) == [OWNERS_OTHER]
    with app.app_context():
        user = db.session.scalar(select(User))
        assert AddressHold.rank_of(user, INTRUDER) is None


def test_an_unconfirmed_account_made_with_the_address_gives_way_to_its_undo_link(
    app, verified, mail_server
):
    intruder_takes_the_account(app, mail_server)
    assert mailbox.sign_up(Browser(app.test_client()), mailbox.ANN, "squatter").status_code == 302
    owners_link = last_undo_link(mail_server, mailbox.ANN)
    assert mailbox.set_new_password(Browser(app.test_client()), owners_link).status_code == 302
    assert mailbox.users(app) == [mailbox.ANN]  # hers, back at A; the squatter's account is gone
    assert can_sign_in(app, mailbox.ANN, mailbox.NEW_PASSWORD)


def test_a_move_asked_by_a_session_the_recovery_ended_is_never_mailed(app, verified, mail_server):
    intruder = Browser(app.test_client())
    assert intruder.login(mailbox.ANN, PASSWORD).status_code == 302
    intruder.change_password(PASSWORD, INTRUDERS_PASSWORD)
    mailbox.deliver(app)
    owners_link = last_undo_link(mail_server, mailbox.ANN)
    assert mailbox.change_email(intruder, INTRUDER, INTRUDERS_PASSWORD).status_code == 302
    # The owner recovers before the worker has sent the move's link.
    assert mailbox.set_new_password(Browser(app.test_client()), owners_link).status_code == 302
    mailbox.deliver(app)
    assert [m for m in mail_server.to(INTRUDER) if "/auth/verify/" in mailbox.text_of(m)] == []
    assert mailbox.users(app) == [mailbox.ANN] and can_sign_in(
        app, mailbox.ANN, mailbox.NEW_PASSWORD
    )


def test_a_password_change_at_the_moment_of_the_recovery_never_outlasts_it(
    app, verified, mail_server
):
    for round_ in range(4):
        intruder = Browser(app.test_client())
        known = PASSWORD if round_ == 0 else f"intruder {round_ - 1}"
        assert intruder.login(mailbox.ANN, known).status_code == 302
        intruder.change_password(known, f"intruder {round_}")
        mailbox.deliver(app)
        owners_link = last_undo_link(mail_server, mailbox.ANN)
        owner = Browser(app.test_client())
        owner.get(mailbox.path_of(owners_link))
        intruder.get("/mypage")
        mine = f"the owner's {round_}"
        theirs = f"intruder {round_ + 1}"
        statuses = press_at_once(
            [
                (owner, owners_link, {"new_password": mine, "new_password_confirm": mine}),
                (
                    intruder,
                    "http://x/mypage/password",
                    {
                        "current_password": f"intruder {round_}",
                        "new_password": theirs,
                        "new_password_confirm": theirs,
                    },
                ),
            ]
        )
        with app.app_context():
            now = db.session.scalar(select(User))
            state = (now.check_password(mine), now.check_password(theirs))
        assert can_sign_in(app, mailbox.ANN, mine), f"round {round_}: {statuses} {state}, undone"
        assert not can_sign_in(app, mailbox.ANN, theirs)
        with app.app_context():
            # The next round starts from an intruder who knows the password again.
            user = db.session.scalar(select(User))
            user.set_password(f"intruder {round_}")
            db.session.commit()


def test_a_second_sign_up_with_the_address_does_not_sign_in_to_the_first(app, mail_server):
    squatter, owner = Browser(app.test_client()), Browser(app.test_client())
    assert (
        mailbox.sign_up(squatter, mailbox.ANN, "squatter", "the squatter's password").status_code
        == 302
    )
    assert mailbox.sign_up(owner, mailbox.ANN, "ann").status_code == 302
    mailbox.deliver(app)
    (verification,) = [
        m for m in mail_server.to(mailbox.ANN) if "/auth/verify/" in mailbox.text_of(m)
    ]
    link = mailbox.link_in(verification)
    owner.get(mailbox.path_of(link))
    answer = owner.post(mailbox.path_of(link))
    assert answer.headers["Location"] == "/auth/login", "confirmed, but nobody signed in"
    assert owner.get("/").status_code == 302


# --- INFO: confirm and remove at the same moment -------------------------------------------


def press_at_once(presses):
    """Press each (browser, link[, form]) at the same moment; return their statuses in order."""
    start, answers = threading.Barrier(len(presses)), {}

    def press(index, browser, link, form=None):
        start.wait()
        if form is None:
            answers[index] = browser.post(mailbox.path_of(link)).status_code
        else:
            answers[index] = browser.post(mailbox.path_of(link), form).status_code

    threads = [threading.Thread(target=press, args=(i, *each)) for i, each in enumerate(presses)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(30)
    return [answers.get(index) for index in range(len(presses))]


def test_a_confirm_link_read_as_its_account_is_removed_is_unknown_not_an_error(app, mail_server):
    # The interleaving the race below once hit (a 500): the confirm link's row is read, the
    # remove link then takes the account and its links, and only then is the account read.
    mailbox.sign_up(Browser(app.test_client()), "gone@example.com", "gone")
    mailbox.deliver(app)
    (message,) = mail_server.to("gone@example.com")
    remove = mailbox.link_in(message, "remove")
    remover = Browser(app.test_client())
    remover.get(mailbox.path_of(remove))
    with app.app_context():
        row = db.session.scalar(select(MailToken).where(MailToken.purpose == "verify"))
        (removed,) = press_at_once([(remover, remove)])  # another request, its own session
        assert removed == 302
        assert row.problem() == "unknown"


def test_confirm_and_remove_pressed_at_once_one_of_them_wins(app, mail_server):
    for round_ in range(5):
        email = f"race{round_}@example.com"
        mailbox.sign_up(Browser(app.test_client()), email, f"racer{round_}")
        mailbox.deliver(app)
        (message,) = mail_server.to(email)
        confirm, remove = mailbox.link_in(message), mailbox.link_in(message, "remove")
        pressers = [Browser(app.test_client()) for _ in range(2)]
        pressers[0].get(mailbox.path_of(confirm))
        pressers[1].get(mailbox.path_of(remove))
        confirmed, removed = press_at_once([(pressers[0], confirm), (pressers[1], remove)])
        assert sorted([confirmed, removed]) == [302, 400]
        with app.app_context():
            user = db.session.scalar(select(User).where(User.email == email))
            if confirmed == 302:
                assert user is not None and user.email_verified
            else:
                assert user is None
