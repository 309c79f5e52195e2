"""The pages a mailed link opens: confirming an address, choosing a new password, securing an
account taken over, and removing an account made with someone else's address. Each shows a
button; pressing it (a POST) acts, so a mail scanner that fetches links changes nothing."""

import hmac

from flask import flash, redirect, render_template, session, url_for
from flask_babel import gettext
from flask_babel import lazy_gettext as _l
from flask_login import current_user, login_required, logout_user

from app import objects, throttle
from app.accounts import ways_in
from app.accounts.sessions import sign_in
from app.accounts.tasks import defer_mail, defer_notices, defer_unasked_mail
from app.extensions import db
from app.features.auth.forms import ConfirmForm, ResetPasswordForm, ResetRequestForm
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
from app.features.auth.routes import SIGNED_UP_AS, bp, signup_mark
from app.features.second_step.session import second_step_on
from app.forms import render_form
from app.models import AddressHold, SecondStepRecovery, User, comparison_key, utcnow

# The one answer to a reset, whether the address has an account or not.
RESET_ASKED = _l(
    "Check your email: if the address has an account, a link to choose a new password is on "
    "its way. It works for 30 minutes."
)
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


def reset_page(form, row):
    """Render the form for a new password, saying what the reset keeps and what it ends:
    which of the account's second steps it removes (docs/mail.md, the 7-day rule)."""
    user = row.user
    removed = ways_in.what_a_recovery_removes(user, row) if second_step_on(user) else None
    return render_form(
        "auth/reset_password.html",
        form,
        two_step=removed,
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
        return reset_page(form, row)
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


def secured_message(user, row, moved_back):
    """Return what securing the account says: the address it signs in with from now on."""
    if moved_back:
        return gettext(
            "Your account is safe again: every session is signed out and any change of address "
            "is undone. Sign in with %(email)s and your new password.",
            email=user.email,
        )
    return gettext(
        "Every session is signed out and your password is changed, but %(old)s now belongs "
        "to another account. Sign in with %(email)s and your new password.",
        old=row.email,
        email=user.email,
    )


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
    flash(secured_message(user, row, moved_back), "success")
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
