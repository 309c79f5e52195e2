"""Who is signed in: the login session behind the cookie, and signing a browser in.

Flask-Login asks load_user() for the user of each request's cookie; an anonymous visitor of a
page that needs an account is sent to the sign-in form, with the page to come back to.
"""

import time
from datetime import UTC, datetime

from flask import current_app, flash, g, redirect, request, session, url_for
from flask_babel import gettext
from flask_login import current_user, login_user, logout_user

from app.extensions import db, login_manager
from app.models import LoginSession, hash_token, lock_user

# When this login session last confirmed the account's password (app/features/grants/).
PASSWORD_PROVEN = "password_proven"  # noqa: S105  (a key of the session, not a secret)


@login_manager.user_loader
def load_user(session_token):
    """Return the user of the live login session named in the cookie, or None."""
    user = LoginSession.load_user(session_token, current_app.config["LOGIN_SESSION_LIFETIME"])
    # Whatever the request then does, its response carries this user's data: no-store.
    g.signed_in_user_loaded = user is not None
    return user


def made_for_a_signed_in_user():
    """Return whether load_user loaded a signed-in user for this request."""
    # Set even if the request then signs out; a static file never loads a user.
    return g.get("signed_in_user_loaded", False)


@login_manager.unauthorized_handler
def ask_to_sign_in():
    """Send an anonymous visitor to the login page, remembering where they were going."""
    target = request.full_path if request.query_string else request.path
    return redirect(url_for("auth.login", next=target))


def sign_in(user, remember=False, password_at=None):
    """Sign `user` in on a fresh session: nothing from before (the CSRF secret) carries over.
    `password_at`: when the password of this sign-in was entered (None: none was, as for a
    passkey alone or a confirmed address)."""
    session.clear()
    login_user(user, remember=remember)
    if password_at is not None:
        mark_password_proven(password_at)


def password_mark():
    """Return a digest naming this login session (not its token) for its password's proof."""
    return hash_token(f"password\n{current_user.session_token or ''}")[:32]


def mark_password_proven(at=None):
    """Remember in this (signed-in) session that the password was confirmed `at` (a Unix
    time; now by default). A session restored from a remember-me cookie has no such mark."""
    session[PASSWORD_PROVEN] = {"session": password_mark(), "at": at or time.time()}


def password_proven_at():
    """Return when this login session last confirmed the password, or None: none recorded,
    or recorded for another login session (a cookie carried over)."""
    proven = session.get(PASSWORD_PROVEN)
    if not isinstance(proven, dict) or not current_user.is_authenticated:
        return None
    at = proven.get("at")
    if proven.get("session") != password_mark() or not isinstance(at, int | float):
        return None
    return datetime.fromtimestamp(at, UTC)


def lock_signed_in_account():
    """Lock the signed-in account's row and read it again; return None, or the answer for a
    session that ended meanwhile.

    A change of password, address or the account from my page and an act of recovery at the
    same moment run one after the other: the change waits for the act, then finds its
    session ended (and changes nothing), or the act waits for the change and undoes it. Call
    it after anything that commits (the throttles do): a commit lets the lock go.
    """
    lock_user(current_user.id)
    db.session.expire(current_user._get_current_object())  # the password as it is now
    lifetime = current_app.config["LOGIN_SESSION_LIFETIME"]
    if LoginSession.load_user(current_user.session_token, lifetime) is not None:
        return None
    db.session.rollback()
    logout_user()
    session.clear()
    flash(gettext("You were signed out: this session has ended."), "info")
    return redirect(url_for("auth.login"))
