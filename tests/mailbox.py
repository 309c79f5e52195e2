"""Reading what the tests' SMTP server received: the links in a mail, the mail of one kind."""

import re
from datetime import timedelta

from sqlalchemy import text, update

from app.extensions import db
from app.models import MailToken, User, utcnow
from tests.workers import run_queued_jobs

LINK = re.compile(r"https?://[^\s<>\"]+/auth/(?:verify|reset)/[A-Za-z0-9_-]+")


def deliver(app):
    """Run the mail jobs queued so far (procrastinate's real worker, in this process)."""
    run_queued_jobs(app)


def text_of(message):
    """Return the plain-text part of a message."""
    return message.get_body(preferencelist=("plain",)).get_content()


def html_of(message):
    """Return the HTML part of a message."""
    return message.get_body(preferencelist=("html",)).get_content()


def link_in(message):
    """Return the one link to open in a mail (a verification, reset or change link)."""
    (link,) = set(LINK.findall(text_of(message)))
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
