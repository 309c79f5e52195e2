"""Sign up, sign in and sign out."""

from flask import current_app, flash, g, redirect, render_template, request, session, url_for
from flask_login import current_user, login_required, login_user, logout_user
from sqlalchemy.exc import IntegrityError

from app.auth import bp, throttle
from app.auth.forms import NICKNAME_TAKEN, LoginForm, SignupForm
from app.extensions import db, login_manager
from app.models import LoginSession, User, burn_password_check
from app.validators import is_same_site_path

LOGIN_FAILED = "Email or password is incorrect."
# The one answer to a signup, whether it created an account or found one (Memo sends no mail).
SIGNED_UP = (
    "If this email had no account, it has one now: sign in with this email and your new "
    "password. If it already had one, that account is unchanged: sign in with its password."
)


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


def render_form(template, form):
    """Render a form page: 400 when a submission failed validation, else 200."""
    return render_template(template, form=form), 400 if form.is_submitted() else 200


@bp.route("/signup", methods=["GET", "POST"])
def signup():
    """Create an account, then send everyone to sign in: whether the email had one is not said."""
    form = SignupForm()
    if not form.validate_on_submit():
        return render_form("auth/signup.html", form)
    throttle.spend_signup()
    user = User(email=form.email.data, nickname=form.nickname.data)
    user.set_password(form.password.data)  # hashed either way, so both answers take as long
    if not User.email_taken(user.email):
        db.session.add(user)
        try:
            db.session.commit()
        except IntegrityError as error:
            # Another signup took the email or the nickname since we looked.
            db.session.rollback()
            if "nickname" in (error.orig.diag.constraint_name or ""):
                form.nickname.errors.append(NICKNAME_TAKEN)
                return render_form("auth/signup.html", form)
    flash(SIGNED_UP, "info")
    return redirect(url_for("auth.login"))


@bp.route("/login", methods=["GET", "POST"])
def login():
    """Sign in with email and password; go on to `next` if it is a local path."""
    form = LoginForm()
    target = request.args.get("next", "")
    if not form.validate_on_submit():
        return render_form("auth/login.html", form)
    throttle.spend_attempt(form.email.data)
    user = User.find_by_email(form.email.data)
    if user is None:
        burn_password_check(form.password.data)
    if user is None or not user.check_password(form.password.data):
        form.password.errors.append(LOGIN_FAILED)
        return render_form("auth/login.html", form)
    throttle.forgive(form.email.data)
    user.start_session()
    db.session.commit()  # the session row, and a hash upgraded by check_password
    sign_in(user, remember=form.remember.data)
    return redirect(target if is_same_site_path(target) else url_for("notes.index"))


@bp.post("/logout")
@login_required
def logout():
    """Sign out: revoke the login session server-side and forget the cookie."""
    current_user.end_session()
    db.session.commit()
    logout_user()
    session.clear()
    flash("You have been signed out.", "info")
    return redirect(url_for("auth.login"))
