"""Grants as the grant tests make and read them: a feed made on the page, a thief's copy of a
remember-me cookie, a password confirmed long ago, and the notices a grant mails."""

import re

from sqlalchemy import func, select

from app.accounts.sessions import PASSWORD_PROVEN
from app.extensions import db
from tests import signing_in
from tests.mailbox import ANN

GRANT_MADE = "A way to read your Memo notes without signing in was made"
FEED_URL = re.compile(r'value="http://localhost(/feeds/memo_feed_[A-Za-z0-9_-]+)"')


def count(app, model):
    with app.app_context():
        return db.session.scalar(select(func.count()).select_from(model))


def rows(app, model):
    with app.app_context():
        return db.session.scalars(select(model).order_by(model.id)).all()


def make_feed(browser):
    """Make a feed on the webhooks page; return its path, shown this once."""
    made = browser.post("/mypage/webhooks/feeds", {"tag": ""})
    assert made.status_code == 200, made.get_data(as_text=True)
    return FEED_URL.search(made.get_data(as_text=True))[1]


def copy_of_the_remember_me_cookie(app, browser):
    """Return a new browser holding only `browser`'s remember-me cookie."""
    thief = signing_in.new_browser(app)
    for cookie in browser.client._cookies.values():
        if cookie.key == app.config.get("REMEMBER_COOKIE_NAME", "remember_token"):
            thief.client.set_cookie(cookie.key, cookie.value, domain=cookie.domain)
    return thief


def password_not_recent(browser):
    """Date this session's confirmation of the password an hour back."""
    with browser.client.session_transaction() as cookie_session:
        proven = dict(cookie_session[PASSWORD_PROVEN])
        proven["at"] -= 3600
        cookie_session[PASSWORD_PROVEN] = proven


def grant_notices(mail_server):
    return [m for m in mail_server.to(ANN) if m["Subject"] == GRANT_MADE]
