"""Signing in as the two-step tests do it: a new browser, the password's step, whether a
browser is signed in, a copy of a browser's cookies (a stolen session), and second steps
older than the undo window."""

from datetime import timedelta

from sqlalchemy import update

from app.accounts import ways_in
from app.extensions import db
from app.models import MailToken, Passkey, RecoveryCode, TotpCredential, utcnow
from devenv.visitors import PASSWORD, Browser
from tests.mailbox import ANN, NEW_PASSWORD, ask_reset, link_in, reset_link, set_new_password


def new_browser(app):
    return Browser(app.test_client())


def signed_in(browser):
    """Return whether the browser's session opens my page."""
    return browser.get("/mypage").status_code == 200


def password_step(app, remember=False, next_path=None, password=PASSWORD):
    """Sign in with the right password (the first, or one set since) in a new browser; return
    it and the answer."""
    browser = new_browser(app)
    url = "/auth/login" + (f"?next={next_path}" if next_path else "")
    form = {"email": ANN, "password": password, **({"remember": "y"} if remember else {})}
    answer = browser.submit(url, form)
    return browser, answer


def copy_of(app, browser):
    """Return a new browser holding a copy of `browser`'s cookies (a stolen session)."""
    thief = new_browser(app)
    for cookie in browser.client._cookies.values():
        thief.client.set_cookie(cookie.key, cookie.value, domain=cookie.domain, path=cookie.path)
    return thief


def settle_second_steps(app, days=30):
    """Date the account's app and passkeys `days` back: older than the undo window, they are
    the owner's own to a recovery (docs/mail.md, "The one rule")."""
    with app.app_context():
        then = utcnow() - timedelta(days=days)
        db.session.execute(update(TotpCredential).values(enabled_at=then, chain_started_at=then))
        db.session.execute(update(Passkey).values(created_at=then, chain_started_at=then))
        db.session.execute(update(RecoveryCode).values(created_at=then, chain_started_at=then))
        db.session.commit()


def sign_in_as_owner(app, password=NEW_PASSWORD):
    """Sign in with the owner's (new) password in a new browser; return the browser."""
    browser = new_browser(app)
    browser.submit("/auth/login", {"email": ANN, "password": password})
    return browser


def owner_undoes(app, notice):
    """The owner presses a notice's "this was not me" link in a new browser and sets a new
    password there; return the answer."""
    return set_new_password(new_browser(app), link_in(notice, "secure"))


def meet_the_second_step_after_a_reset(app, mail_server):
    """The owner, whose second steps are weeks old (her own), resets the password by mail and
    signs in with the new one in a new browser; return that browser, which the second step
    still stops (a reset never turns it off)."""
    settle_second_steps(app)
    assert owner_resets(app, mail_server).status_code == 302
    browser, answer = password_step(app, password=NEW_PASSWORD)
    assert answer.headers["Location"] == "/auth/two-step" and not signed_in(browser)
    return browser


def owner_resets(app, mail_server):
    """The owner asks for a reset link and sets a new password with it; return the answer."""
    ask_reset(app)
    return set_new_password(new_browser(app), reset_link(app, mail_server))


def recovered(user):
    """Walk the ways in as the owner's reset link would, within an app context; return what
    the recovery ended."""
    token = MailToken.issue(user, "reset", user.email, timedelta(minutes=30))
    link, _ = MailToken.look_up(token, ("reset",))
    return ways_in.recover(user, link).ended
