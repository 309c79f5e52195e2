"""Sign up, verify the address, sign in and out, and reset a forgotten password."""

import hashlib
import hmac
import secrets

from flask import (
    Blueprint,
    current_app,
    flash,
    redirect,
    render_template,
    request,
    session,
    url_for,
)
from flask_babel import get_locale, gettext
from flask_babel import lazy_gettext as _l
from flask_login import current_user, login_required, logout_user
from sqlalchemy.exc import IntegrityError

from app import objects, throttle
from app.accounts.sessions import sign_in
from app.accounts.tasks import defer_mail, defer_notices, defer_unasked_mail
from app.extensions import db
from app.features.auth.forms import (
    NICKNAME_TAKEN,
    ConfirmForm,
    LoginForm,
    ResetPasswordForm,
    ResetRequestForm,
    SignupForm,
)
from app.features.auth.links import (
    link_problem,
    look_up,
    move_back,
    move_to,
    redeemable,
    say_what_ended,
    take_back,
    who_may_undo,
)
from app.features.second_step.ceremonies import relying_party
from app.features.second_step.forms import PasskeyAnswerForm
from app.features.second_step.session import ask_for_code, second_step_on
from app.forms import render_form
from app.i18n.choice import is_time_zone, usual_time_zone
from app.models import (
    AddressHold,
    SecondStepRecovery,
    User,
    burn_password_check,
    comparison_key,
    utcnow,
)
from app.offline.marks import CLEARED_AT_SIGN_OUT
from app.validators import is_same_site_path

bp = Blueprint("auth", __name__, url_prefix="/auth")

LOGIN_FAILED = _l("Email or password is incorrect.")
# The one answer to a signup, whether it created an account or found one: the mail tells.
SIGNED_UP = _l("Check your email: we sent you a message to finish signing up.")
# The one answer to a reset, whether the address has an account or not.
RESET_ASKED = _l(
    "Check your email: if the address has an account, a link to choose a new password is on "
    "its way. It works for 30 minutes."
)
# In the session of the browser that signed up: a mark of the account it made (signup_mark),
# or, for a sign-up that found an account, a mark of nothing, that looks the same.
SIGNED_UP_AS = "signed_up_as"
SIGNED_UP_EMAIL = "signed_up_email"  # for the next sign-in form; kept alike for any address
# What confirming each kind of address says to whoever pressed the button: signed in to the
# account already, or not (then asked to sign in).
CONFIRMED = {
    "verify": _l("Your email address is confirmed."),
    "email": _l("Your account's new address is confirmed: sign in with it from now on."),
}
CONFIRMED_SIGN_IN = {
    "verify": _l("Your email address is confirmed. Sign in to go on."),
    "email": _l("The account's new address is confirmed. Sign in with it from now on."),
}


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


def sign_out_here():
    """End this browser's sign-in, if it has one (its server-side session is gone already)."""
    if current_user.is_authenticated:
        logout_user()
        session.clear()


ASK_FOR_VERIFICATION = {
    "ask_url": "/auth/login",
    "ask_text": _l("Sign in, then ask for a new link from the banner at the top of the page."),
}


@bp.route("/verify/<secret:token>", methods=["GET", "POST"])
def verify(token):
    """Confirm an address from a mailed link: the account's own, or the one it moves to.

    Opening the link shows a button; pressing it (a POST) confirms, so a mail scanner that
    fetches links changes nothing. Confirming signs in nobody who was not signed in to the
    account already, except the browser that signed up with the address (docs/mail.md).
    """
    form = ConfirmForm()
    row, refusal = redeemable(token, ("verify", "email"), form, ASK_FOR_VERIFICATION)
    if refusal:
        return refusal
    if not form.validate_on_submit():
        return render_template("auth/verify.html", form=form, row=row)
    user = row.user
    if row.purpose == "email" and not move_to(user, row.email):
        db.session.rollback()
        return link_problem("taken", ASK_FOR_VERIFICATION)
    user.email_verified_at = utcnow()
    row.spend()
    already_in = current_user.is_authenticated and current_user.id == user.id
    mark = signup_mark(user.email, user.id)
    signer = row.purpose == "verify" and hmac.compare_digest(session.get(SIGNED_UP_AS, ""), mark)
    signer = signer and not second_step_on(user)  # such an account signs in with a code
    if signer and not already_in:
        user.start_session()
    db.session.commit()
    if row.purpose == "email":
        flash(who_may_undo(user), "info")
    if already_in:
        flash(CONFIRMED[row.purpose], "success")
        return redirect(url_for("notes.index"))
    if signer:
        sign_in(user)
        flash(gettext("Your email address is confirmed. Welcome to Memo!"), "success")
        return redirect(url_for("notes.index"))
    flash(CONFIRMED_SIGN_IN[row.purpose], "success")
    return redirect(url_for("auth.login"))


@bp.post("/verify")
@login_required
def resend_verification():
    """Send the signed-in account another verification link."""
    if current_user.email_verified:
        flash(gettext("Your email address is confirmed already."), "info")
        return redirect(url_for("notes.index"))
    throttle.spend_account_mail(current_user.id)
    defer_unasked_mail("verify", current_user.id, current_user.email)
    db.session.commit()
    flash(gettext("A new link is on its way to %(email)s.", email=current_user.email), "info")
    return redirect(url_for("notes.index"))


@bp.route("/reset", methods=["GET", "POST"])
def reset():
    """Ask for a link to choose a new password; the answer never says if the address is known."""
    form = ResetRequestForm()
    if not form.validate_on_submit():
        return render_form("auth/reset.html", form)
    throttle.spend_reset(form.email.data)
    user = User.find_by_email(form.email.data)
    # A job either way (for no account it does nothing): both answers do the same work.
    defer_mail("reset", user.id if user else None)
    db.session.commit()
    flash(str(RESET_ASKED), "info")
    return redirect(url_for("auth.login"))


ASK_FOR_RESET = {
    "ask_url": "/auth/reset",
    "ask_text": _l("Ask for a new link to reset your password."),
}


def reset_page(form, user):
    """Render the form for a new password, saying what the reset keeps and what it ends."""
    return render_form(
        "auth/reset_password.html",
        form,
        two_step=second_step_on(user),
        drop_asked=SecondStepRecovery.of(user.id) is not None,
    )


@bp.route("/reset/<secret:token>", methods=["GET", "POST"])
def reset_password(token):
    """Choose a new password from a mailed link: every session ends; nobody is signed in."""
    form = ResetPasswordForm()
    if not form.validate_on_submit():
        row, problem = look_up(token, ("reset",))
        if problem:
            return link_problem(problem, ASK_FOR_RESET)
        return reset_page(form, row.user)
    row, problem = look_up(token, ("reset",), lock=True)
    if problem:
        db.session.rollback()
        return link_problem(problem, ASK_FOR_RESET)
    user = row.user
    # An act from this address: older undo links sent here, and lower addresses' links, go.
    dropped, ended = take_back(user, row, form.new_password.data)
    details = ended.as_details()
    defer_notices("password_changed", user, actor=user.email, farewell=dropped, ended=details)
    db.session.commit()
    sign_out_here()
    flash(
        gettext("Your password is changed, and every session is signed out. Sign in with it."),
        "success",
    )
    say_what_ended(ended)
    return redirect(url_for("auth.login"))


ASK_FOR_HELP = {
    "ask_url": "/auth/reset",
    "ask_text": _l("If someone else is in your account, choose a new password here."),
}


@bp.route("/secure/<secret:token>", methods=["GET", "POST"])
def secure(token):
    """Undo what a notice announced, from its "this was not me" link, with a new password.

    Only an address that ranks at least as high as the account's current one may (docs/mail.md,
    "Who may undo what"). The account goes back to that address if it moved away, every link
    that address outranks is deleted (a pending move's, a lower address's, older ones sent
    to it), every session ends, and every address with standing is told.
    """
    form = ResetPasswordForm()
    row, refusal = redeemable(token, ("secure",), form, ASK_FOR_HELP)
    if refusal:
        return refusal
    if not AddressHold.may_undo(row.user, row.email):
        db.session.rollback()
        return link_problem("outranked", ASK_FOR_HELP)
    if not form.validate_on_submit():
        return render_form("auth/secure.html", form, row=row)
    user = row.user
    away = comparison_key(user.email) != comparison_key(row.email)
    moved_back = not away or move_back(user, row)
    dropped, ended = take_back(user, row, form.new_password.data)
    moved = away and moved_back
    defer_notices(
        "account_secured",
        user,
        actor=row.email,
        farewell=dropped,
        moved_back=moved,
        ended=ended.as_details(),
    )
    db.session.commit()
    sign_out_here()
    if moved_back:
        message = gettext(
            "Your account is safe again: every session is signed out and any change of address "
            "is undone. Sign in with %(email)s and your new password.",
            email=user.email,
        )
    else:
        message = gettext(
            "Every session is signed out and your password is changed, but %(old)s now belongs "
            "to another account. Sign in with %(email)s and your new password.",
            old=row.email,
            email=user.email,
        )
    flash(message, "success")
    say_what_ended(ended)
    return redirect(url_for("auth.login"))


@bp.route("/remove/<secret:token>", methods=["GET", "POST"])
def remove(token):
    """Remove an unconfirmed account made with someone's address, from a link sent there."""
    form = ConfirmForm()
    row, refusal = redeemable(token, ("remove",), form, ASK_FOR_HELP)
    if refusal:
        return refusal
    if not form.validate_on_submit():
        return render_template("auth/remove.html", form=form, row=row)
    user = row.user
    # The objects go in a job deferred in the same transaction, as my page's deletion does.
    objects.delete_later(prefixes=objects.user_prefixes(user.id))
    signed_in_as_it = current_user.is_authenticated and current_user.id == user.id
    db.session.delete(user)  # its notes, sessions and links cascade
    db.session.commit()
    if signed_in_as_it:
        sign_out_here()
    flash(gettext("The account made with your address is removed, with everything in it."), "info")
    return redirect(url_for("auth.signup"))


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
