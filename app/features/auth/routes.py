"""Sign up, sign in and out; the pages a mailed link opens are in app/features/auth/mailed.py."""

import hashlib
import hmac
import secrets
import time

from flask import (
    Blueprint,
    current_app,
    flash,
    redirect,
    request,
    session,
    url_for,
)
from flask_babel import get_locale, gettext
from flask_babel import lazy_gettext as _l
from flask_login import current_user, login_required, logout_user
from sqlalchemy.exc import IntegrityError

from app import throttle
from app.accounts.sessions import sign_in
from app.accounts.tasks import defer_unasked_mail
from app.extensions import db
from app.features.auth.forms import (
    NICKNAME_TAKEN,
    LoginForm,
    SignupForm,
)
from app.features.second_step.ceremonies import relying_party
from app.features.second_step.forms import PasskeyAnswerForm
from app.features.second_step.session import ask_for_code, second_step_on
from app.forms import render_form
from app.i18n.choice import is_time_zone, usual_time_zone
from app.models import (
    User,
    burn_password_check,
    comparison_key,
)
from app.offline.marks import CLEARED_AT_SIGN_OUT
from app.validators import is_same_site_path

bp = Blueprint("auth", __name__, url_prefix="/auth")

LOGIN_FAILED = _l("Email or password is incorrect.")
# The one answer to a signup, whether it created an account or found one: the mail tells.
SIGNED_UP = _l("Check your email: we sent you a message to finish signing up.")
# In the session of the browser that signed up: a mark of the account it made (signup_mark),
# or, for a sign-up that found an account, a mark of nothing, that looks the same.
SIGNED_UP_AS = "signed_up_as"
SIGNED_UP_EMAIL = "signed_up_email"  # for the next sign-in form; kept alike for any address


def signup_mark(email, account):
    """Return what the browser that made `account` with `email` keeps in its session: a keyed
    digest, so that a second sign-up with the address (which made nothing) never matches."""
    key = current_app.config["SECRET_KEY"].encode()
    message = f"{comparison_key(email)}\n{account}".encode()
    return hmac.new(key, message, hashlib.sha256).hexdigest()


def time_zone_of(form):
    """Return the zone the browser reported at sign-up, else the usual one of the language."""
    reported = form.timezone.data
    return reported if is_time_zone(reported) else usual_time_zone(get_locale().language)


@bp.route("/signup", methods=["GET", "POST"])
def signup():
    """Create an account, then send everyone to sign in: whether the email had one is not said."""
    form = SignupForm()
    if not form.validate_on_submit():
        return render_form("auth/signup.html", form)
    throttle.spend_signup()
    user = User(
        email=form.email.data,
        nickname=form.nickname.data,
        email_verified_at=None,
        # The language the sign-up page was read in: the account's from now on (and its mails').
        language=get_locale().language,
        time_zone=time_zone_of(form),
    )
    user.set_password(form.password.data)  # hashed either way, so both answers take as long
    # Either way one mail is queued: a verification, or a notice to the address's holder.
    # A second sign-up keeps nothing, not even its password (docs/mail.md).
    owner = User.find_by_email(user.email)
    if owner is None:
        db.session.add(user)
    try:
        db.session.flush()
        kind = "verify" if owner is None else "signup_notice"
        defer_unasked_mail(kind, (owner or user).id, user.email)
        db.session.commit()
    except IntegrityError as error:
        # Another signup took the email or the nickname since we looked.
        db.session.rollback()
        if "nickname" in (error.orig.diag.constraint_name or ""):
            form.nickname.errors.append(NICKNAME_TAKEN)
            return render_form("auth/signup.html", form)
    # Confirming the address signs in the browser that made the account only (see verify).
    # The cookie can be read: both answers leave a mark that looks the same.
    made = user.id if owner is None and user.id is not None else secrets.token_hex(8)
    session[SIGNED_UP_AS] = signup_mark(user.email, made)
    session[SIGNED_UP_EMAIL] = form.email.data
    flash(str(SIGNED_UP), "info")
    return redirect(url_for("auth.login"))


def login_page(form):
    """Render the sign-in page: the password's form, and signing in with a passkey where the
    site's address can have them."""
    passkey_form = PasskeyAnswerForm(formdata=None) if relying_party() is not None else None
    return render_form("auth/login.html", form, passkey_form=passkey_form)


@bp.route("/login", methods=["GET", "POST"])
def login():
    """Sign in with email and password; go on to `next` if it is a local path."""
    form = LoginForm(data={"email": session.pop(SIGNED_UP_EMAIL, None)})  # typed at sign-up
    target = request.args.get("next", "")
    if not form.validate_on_submit():
        return login_page(form)
    throttle.spend_attempt(form.email.data)
    user = User.find_by_email(form.email.data)
    if user is None:
        burn_password_check(form.password.data)
    if user is None or not user.check_password(form.password.data):
        form.password.errors.append(LOGIN_FAILED)
        return login_page(form)
    throttle.forgive(form.email.data)
    if second_step_on(user):  # not signed in until a code passes (second_step/session.py)
        db.session.commit()  # a hash upgraded by check_password
        return ask_for_code(session, user, form.remember.data, target)
    user.start_session()
    db.session.commit()  # the session row, and a hash upgraded by check_password
    sign_in(user, remember=form.remember.data, password_at=time.time())
    return redirect(target if is_same_site_path(target) else url_for("notes.index"))


@bp.post("/logout")
@login_required
def logout():
    """Sign out: revoke the login session server-side and forget the cookie."""
    current_user.end_session()
    db.session.commit()
    logout_user()
    session.clear()
    flash(gettext("You have been signed out."), "info")
    response = redirect(url_for("auth.login"))
    response.headers["Clear-Site-Data"] = CLEARED_AT_SIGN_OUT
    return response


@bp.get("/signed-in")
def signed_in():
    """Answer 204 for a live login session, else 401: the front asks before reading an upload.

    The front (front/) reads an upload, or a form past the share of anonymous bodies, only for
    a signed-in person, so that strangers cannot hold its slots with bodies that never end. The
    account's id (X-Memo-Account, the caller's own) lets it count upload slots per account too.
    """
    if not current_user.is_authenticated:
        return "", 401
    return "", 204, {"X-Memo-Account": str(current_user.id)}
