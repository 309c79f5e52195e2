"""Who is signed in: the login session behind the cookie, and signing a browser in.

Flask-Login asks load_user() for the user of each request's cookie; an anonymous visitor of a
page that needs an account is sent to the sign-in form, with the page to come back to.
"""

from flask import current_app, g, redirect, request, session, url_for
from flask_login import login_user

from app.extensions import login_manager
from app.models import LoginSession


@login_manager.user_loader
def load_user(session_token):
    """Return the user of the live login session named in the cookie, or None."""
    user = LoginSession.load_user(session_token, current_app.config["LOGIN_SESSION_LIFETIME"])
    # Whatever the request then does, its response carries this user's data: no-store.
    g.signed_in_user_loaded = user is not None
    return user


@login_manager.unauthorized_handler
def ask_to_sign_in():
    """Send an anonymous visitor to the login page, remembering where they were going."""
    target = request.full_path if request.query_string else request.path
    return redirect(url_for("auth.login", next=target))


def sign_in(user, remember=False):
    """Sign `user` in on a fresh session: nothing from before (the CSRF secret) carries over."""
    session.clear()
    login_user(user, remember=remember)
