"""Passkeys: add, rename and remove them on the security page; sign in with one alone or
as the second step (docs/security/two-step.md, "Passkeys").

Each ceremony has two requests: a POST for its options (JSON, with the CSRF token in a
header), which keeps the challenge in the session, then the form the page's script fills
with the browser's answer. Without a script or a browser that knows passkeys, the forms
stay hidden and the pages offer the other ways.
"""

from flask import (
    Blueprint,
    abort,
    current_app,
    flash,
    jsonify,
    redirect,
    session,
    url_for,
)
from flask_babel import gettext, ngettext
from flask_babel import lazy_gettext as _l
from flask_login import current_user, login_required
from sqlalchemy.exc import IntegrityError

from app import throttle
from app.accounts import ways_in
from app.accounts.sessions import lock_signed_in_account, sign_in
from app.accounts.tasks import defer_notices
from app.extensions import db
from app.features.second_step import ceremonies
from app.features.second_step.forms import (
    AddPasskeyForm,
    PasskeyAnswerForm,
    PasskeyOptionsForm,
    RemovePasskeyForm,
    RenamePasskeyForm,
)
from app.features.second_step.routes import recovery_codes_page, security_page
from app.features.second_step.session import (
    chain_for_new_second_step,
    mark_passed,
    pending_sign_in,
    recent_step_needed,
    second_step_on,
)
from app.features.second_step.totp import new_recovery_codes
from app.models import Passkey, SecondStepRecovery, User, utcnow
from app.validators import is_same_site_path

bp = Blueprint("passkeys", __name__)

NOT_HERE = _l("Passkeys cannot be used at this address.")
REFUSED = _l(
    "That passkey did not work here, or it was used for this already. Try again, or use "
    "another way to sign in."
)
ADD_REFUSED = _l("The passkey was not added: your browser's answer did not hold. Try again.")


def unavailable():
    """Return the answer for a site whose address cannot have passkeys, or None."""
    if ceremonies.relying_party() is None:
        return jsonify(error=str(NOT_HERE)), 409
    return None


def room_left(user_id):
    """Return whether the account may add another passkey."""
    return Passkey.count_of(user_id) < current_app.config["PASSKEYS_PER_ACCOUNT"]


def too_many():
    """Return the message that the account has as many passkeys as it may."""
    return ngettext(
        "You have %(num)d passkey, as many as an account keeps. Remove one first.",
        "You have %(num)d passkeys, as many as an account keeps. Remove one first.",
        current_app.config["PASSKEYS_PER_ACCOUNT"],
    )


def form_errors(form):
    """Return a refused form's errors as JSON (400), field by field."""
    errors = {name: [str(error) for error in errors] for name, errors in form.errors.items()}
    return jsonify(errors=errors), 400


@bp.post("/mypage/passkeys/options")
@login_required
def add_options():
    """Check the name and the password, then answer the options to make a passkey (JSON)."""
    refused = unavailable()
    if refused:
        return refused
    asked = recent_step_needed(current_user, url_for("two_step.security"))
    if asked:
        return jsonify(go=asked.location), 403
    if not current_user.email_verified:
        message = gettext("Confirm your email address first: it is how you recover the account.")
        return jsonify(error=message), 409
    if not room_left(current_user.id):
        return jsonify(error=too_many()), 409
    form = PasskeyOptionsForm()
    if not form.validate_on_submit():
        db.session.commit()  # the password check's count
        return form_errors(form)
    db.session.commit()
    return current_app.response_class(
        ceremonies.registration_options(session, current_user),
        mimetype="application/json",
        headers={"Cache-Control": "no-store"},
    )


@bp.post("/mypage/passkeys")
@login_required
def add():
    """Add the browser's new passkey (made after add_options); mail a notice."""
    form = AddPasskeyForm()
    if not form.validate_on_submit() or ceremonies.relying_party() is None:
        session.pop(ceremonies.CEREMONY, None)
        flash(ADD_REFUSED, "error")
        return redirect(url_for("two_step.security"))
    ended = lock_signed_in_account()
    if ended:
        return ended
    passkey = ceremonies.registered(session, current_user, form.answer.data, form.name.data)
    if passkey is None or Passkey.by_credential(passkey.credential_id) is not None:
        db.session.rollback()
        flash(ADD_REFUSED, "error")
        return redirect(url_for("two_step.security"))
    if not room_left(current_user.id):
        db.session.rollback()
        flash(too_many(), "error")
        return redirect(url_for("two_step.security"))
    first = not second_step_on(current_user)
    passkey.chain_started_at = chain_for_new_second_step(current_user)
    db.session.add(passkey)
    codes = new_recovery_codes(current_user.id, passkey.chain_started_at) if first else None
    ended = ways_in.first_second_step_on(current_user) if first else ways_in.Ended()
    ways_in.second_step_changed(current_user)
    defer_notices(
        "passkey_added",
        current_user,
        name=passkey.name,
        at=utcnow().isoformat(),
        ended=ended.as_details(),
    )
    try:
        db.session.commit()
    except IntegrityError:  # the same credential, added to another account at this moment
        db.session.rollback()
        flash(ADD_REFUSED, "error")
        return redirect(url_for("two_step.security"))
    mark_passed(session, passkey.chain_started_at)
    if codes:
        return recovery_codes_page(codes, turned_on="passkey", ended=ended.as_details())
    flash(gettext("Your passkey “%(name)s” is added.", name=passkey.name), "success")
    return redirect(url_for("two_step.security"))


def own_passkey(passkey_id):
    """Return the signed-in account's passkey `passkey_id`, or answer 404."""
    passkey = Passkey.own(current_user.id, passkey_id)
    if passkey is None:
        abort(404)
    return passkey


@bp.post("/mypage/passkeys/<id:passkey_id>/rename")
@login_required
def rename(passkey_id):
    """Give a passkey another name."""
    passkey = own_passkey(passkey_id)
    form = RenamePasskeyForm()
    if not form.validate_on_submit():
        return security_page(400, rename_forms={passkey.id: form})
    passkey.name = form.name.data
    db.session.commit()
    flash(gettext("The passkey is now called “%(name)s”.", name=passkey.name), "success")
    return redirect(url_for("two_step.security"))


@bp.post("/mypage/passkeys/<id:passkey_id>/delete")
@login_required
def remove(passkey_id):
    """Remove a passkey (after a recent second step); mail a notice."""
    passkey = own_passkey(passkey_id)
    asked = recent_step_needed(current_user, url_for("two_step.security"))
    if asked:
        return asked
    if not RemovePasskeyForm().validate_on_submit():
        abort(400)
    ended = lock_signed_in_account()
    if ended:
        return ended
    name = passkey.name
    Passkey.remove(passkey)
    ways_in.second_step_changed(current_user)
    defer_notices("passkey_removed", current_user, name=name, at=utcnow().isoformat())
    db.session.commit()
    if second_step_on(current_user):
        flash(gettext("The passkey “%(name)s” is removed.", name=name), "info")
    else:
        message = gettext(
            "The passkey “%(name)s” is removed: signing in asks for your password only.",
            name=name,
        )
        flash(message, "info")
    return redirect(url_for("two_step.security"))


def signing_in_as():
    """Return whose second step a passkey would be now: the signed-in account's, a pending
    sign-in's, or None (a passkey alone, anyone's)."""
    if current_user.is_authenticated:
        return current_user._get_current_object(), None
    return pending_sign_in(session)


@bp.post("/auth/passkey/options")
def sign_in_options():
    """Answer the options to sign in with a passkey (JSON): any of a known account's as its
    second step, or, with nobody known yet, a passkey alone."""
    refused = unavailable()
    if refused:
        return refused
    user, _ = signing_in_as()
    if user is not None and not Passkey.count_of(user.id):
        return jsonify(error=str(REFUSED)), 409
    return current_app.response_class(
        ceremonies.authentication_options(session, user),
        mimetype="application/json",
        headers={"Cache-Control": "no-store"},
    )


@bp.post("/auth/passkey")
def answer():
    """Sign in with the browser's passkey, alone or as the second step; go on to `next`."""
    user, pending = signing_in_as()
    form = PasskeyAnswerForm()
    back = url_for("two_step.check") if user is not None else url_for("auth.login")
    if not form.validate_on_submit() or ceremonies.relying_party() is None:
        session.pop(ceremonies.CEREMONY, None)
        flash(REFUSED, "error")
        return redirect(back)
    if user is not None:
        throttle.spend_second_step(user.id)  # committed: it stands whatever happens next
    else:
        throttle.spend_passkey_attempt()  # the same
    passkey = ceremonies.answered(session, form.answer.data, user)
    if passkey is None:
        db.session.commit()
        flash(REFUSED, "error")
        return redirect(back)
    owner = db.session.get(User, passkey.user_id) if user is None else user
    if user is not None:
        throttle.give_back_second_step(user.id)
    else:
        throttle.give_back_sign_in()
    SecondStepRecovery.end(owner.id)  # a second step is not lost after all
    target = pending["next"] if pending else form.next.data
    if not current_user.is_authenticated:
        owner.start_session()
        db.session.commit()
        remember = pending["remember"] if pending else form.remember.data
        # A passkey alone proves no password: what needs one asks for it (app/features/grants/).
        sign_in(owner, remember=remember, password_at=pending["at"] if pending else None)
    chain = passkey.chain_start()
    db.session.commit()
    mark_passed(session, chain)
    return redirect(target if is_same_site_path(target or "") else url_for("notes.index"))
