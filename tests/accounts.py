"""Accounts for tests that are not about signing up: made by the app's own code, not its forms.

Signing up and in through the forms costs five requests, two throttles and the pages they
render, for each of the hundreds of tests that only need someone signed in. `sign_up_by_code`
makes the same account the sign-up form makes (unconfirmed, its verification mail queued, the
language and time zone of the page it was read in) and signs a browser in as the sign-in form
does: a server-side login session, and the cookie that `sign_in` writes. The tests of signing
up and in themselves use the forms (`Browser.signup`, the fixture `signed_up_user`).
"""

import time

from flask import session
from flask_babel import get_locale

from app.accounts.sessions import sign_in
from app.accounts.tasks import defer_unasked_mail
from app.extensions import db
from app.i18n.choice import usual_time_zone
from app.models import User
from devenv.visitors import PASSWORD


def sign_up_by_code(browser, email="ann@example.com", nickname="ann", password=PASSWORD):
    """Make an account as the sign-up form does and sign `browser` in to it; leave it on the
    page signing in leads to (which gives it the session's CSRF token), and return it."""
    app = browser.client.application
    # The test client's own environment (its User-Agent): Flask-Login ties a session to it.
    with app.test_request_context("/auth/login", environ_base=browser.client.environ_base):
        language = get_locale().language
        user = User(
            email=email,
            nickname=nickname,
            email_verified_at=None,
            language=language,
            time_zone=usual_time_zone(language),
        )
        user.set_password(password)
        db.session.add(user)
        db.session.flush()
        defer_unasked_mail("verify", user.id, user.email)
        user.start_session()
        db.session.commit()
        sign_in(user, password_at=time.time())  # as the sign-in form: its password just now
        signed_in = dict(session)
    with browser.client.session_transaction() as cookie_session:
        cookie_session.update(signed_in)
    assert browser.get("/").status_code == 200
    return browser
