"""Reading what the tests' SMTP server received: the links in a mail, the mail of one kind."""

import re
from datetime import timedelta

from sqlalchemy import select, text, update

from app.extensions import db
from app.models import MailToken, User, utcnow
from devenv.visitors import PASSWORD, Browser
from tests.workers import run_queued_jobs

ANN = "ann@example.com"
NEW_PASSWORD = "a brand new passphrase"
# Every link in the tests' mail is built on this (never on a request's Host).
PUBLIC_URL = "http://localhost"


def link_pattern(kinds):
    """Return the pattern of a mailed link to /auth/<one of kinds>/<token>."""
    return re.compile(rf"https?://[^\s<>\"]+/auth/(?:{kinds})/[A-Za-z0-9_-]+")


# The link a mail is for: a verification, reset or change link.
LINK = link_pattern("verify|reset")


def deliver(app):
    """Run the mail jobs queued so far (procrastinate's real worker, in this process)."""
    run_queued_jobs(app)


def text_of(message):
    """Return the plain-text part of a message."""
    return message.get_body(preferencelist=("plain",)).get_content()


def html_of(message):
    """Return the HTML part of a message."""
    return message.get_body(preferencelist=("html",)).get_content()


def link_in(message, kind=None):
    """Return the one link to open in a mail (a verification, reset or change link), or its
    one link of `kind`: "secure" (this was not me) or "remove" (an unconfirmed account)."""
    pattern = link_pattern(kind) if kind else LINK
    (link,) = set(pattern.findall(text_of(message)))
    assert link in html_of(message), "the HTML part carries the same link"
    return link


def path_of(link):
    """Return a link's path, to open it with the test client."""
    return "/" + link.split("/", 3)[3]


def verify_email(app, email):
    """Mark an account's address verified, as opening its mailed link does."""
    with app.app_context():
        db.session.execute(
            update(User).where(User.email == email).values(email_verified_at=utcnow())
        )
        db.session.commit()


def expire_links(app):
    """Make every mailed link an hour past its expiry."""
    with app.app_context():
        past = utcnow() - timedelta(hours=1)
        db.session.execute(update(MailToken).values(expires_at=past))
        db.session.commit()


def mail_jobs(app):
    """Return (status, attempts) of every mail job, oldest first."""
    with app.app_context():
        return db.session.execute(
            text(
                "SELECT status, attempts FROM procrastinate_jobs"
                " WHERE task_name = 'send_account_mail' ORDER BY id"
            )
        ).all()


# --- What a person does with the forms and the mail -------------------------------------


def sign_up(browser, email=ANN, nickname="ann", password=PASSWORD):
    """Submit the sign-up form only (no sign-in)."""
    form = {"email": email, "nickname": nickname, "password": password}
    return browser.submit("/auth/signup", {**form, "password_confirm": password})


def open_and_confirm(browser, link):
    """Open a mailed verification or change link, then press its button."""
    page = browser.get(path_of(link))
    assert page.status_code == 200
    assert "Confirm my address" in page.get_data(as_text=True)
    return browser.post(path_of(link))


def subjects(mail_server, address=ANN):
    """Return the subjects of the mail `address` received, oldest first."""
    return [message["Subject"] for message in mail_server.to(address)]


def notice_to_ann(app, mail_server, words):
    """Deliver the queued mail; return the one mail to Ann whose subject has `words`."""
    deliver(app)
    (notice,) = [m for m in mail_server.to(ANN) if words in m["Subject"]]
    return notice


def only_mail_to(mail_server, address):
    """Return the one message `address` received."""
    (message,) = mail_server.to(address)
    return message


def users(app):
    with app.app_context():
        return db.session.scalars(select(User.email).order_by(User.id)).all()


def ask_reset(app, email=ANN, **kwargs):
    """Ask for a reset link for `email` as a new visitor; return the answer."""
    return Browser(app.test_client()).submit("/auth/reset", {"email": email}, **kwargs)


def reset_link(app, mail_server):
    """Deliver the queued mail and return the link of the last reset mail."""
    deliver(app)
    resets = [m for m in mail_server.to(ANN) if m["Subject"] == "Reset your Memo password"]
    return link_in(resets[-1])


def set_new_password(browser, link, password=NEW_PASSWORD):
    return browser.submit(
        path_of(link), {"new_password": password, "new_password_confirm": password}
    )


def change_email(browser, new_email, password=PASSWORD):
    return browser.submit("/mypage/email", {"email": new_email, "password": password})
