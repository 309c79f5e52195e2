"""Two-step sign-in: the security page, turning the authenticator app on and off, recovery
codes, and the page that asks for a code (docs/security/two-step.md, "Two-step sign-in")."""

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
from flask_babel import gettext, ngettext
from flask_babel import lazy_gettext as _l
from flask_login import current_user, login_required
from werkzeug.exceptions import TooManyRequests

from app import throttle
from app.accounts import ways_in
from app.accounts.mails import local_time
from app.accounts.pausing import paused_for
from app.accounts.sessions import lock_signed_in_account, sign_in
from app.accounts.tasks import defer_notices
from app.extensions import db
from app.features.second_step import totp
from app.features.second_step.ceremonies import relying_party
from app.features.second_step.forms import (
    CodeForm,
    LostForm,
    PasskeyAnswerForm,
    PasskeyOptionsForm,
    PasswordConfirmForm,
    RemovePasskeyForm,
    RenamePasskeyForm,
    TotpSetupForm,
)
from app.features.second_step.session import (
    ask_for_recent_second_step,
    chain_for_new_second_step,
    mark_passed,
    pending_sign_in,
    recent_second_step,
    recent_step_needed,
    second_step_on,
)
from app.models import (
    Passkey,
    RecoveryCode,
    SecondStepRecovery,
    TotpCredential,
    lock_user,
    utcnow,
)
from app.validators import is_same_site_path

bp = Blueprint("two_step", __name__)

TRIES_WARNED = 2  # from this many codes left before the wait, a wrong code says how many


def tries_left(left):
    """Return the warning of how many more codes may be tried before the wait."""
    if left <= 0:
        return gettext("That was the last try for now: the next code has to wait a while.")
    return ngettext(
        "You can try %(num)d more code before Memo makes you wait.",
        "You can try %(num)d more codes before Memo makes you wait.",
        left,
    )


WRONG_CODE = _l("That code is not right, or it was used already. Each code works once.")
STALE_SETUP = _l("This page was open too long: scan the new QR code and enter its code.")


def no_store(page, status=200):
    """Answer `page` so that no cache keeps it (codes and secrets are on it)."""
    return page, status, {"Cache-Control": "no-store"}


def security_page(status=200, **forms):
    """Render the security page with a fresh form for each action but those given."""
    credential = TotpCredential.of(current_user.id)
    passkeys = Passkey.of(current_user.id)
    rename_forms = forms.pop("rename_forms", {})
    for passkey in passkeys:
        rename_forms.setdefault(passkey.id, RenamePasskeyForm(formdata=None, name=passkey.name))
    context = {
        "credential": credential,
        "passkeys": passkeys,
        "passkeys_here": relying_party() is not None,
        "rename_forms": rename_forms,
        "add_form": PasskeyOptionsForm(formdata=None),
        "remove_form": RemovePasskeyForm(formdata=None),
        "passkeys_full": len(passkeys) >= current_app.config["PASSKEYS_PER_ACCOUNT"],
        "codes_left": RecoveryCode.left(current_user.id) if credential or passkeys else 0,
        "disable_form": PasswordConfirmForm(formdata=None),
        "codes_form": PasswordConfirmForm(formdata=None),
        **forms,
    }
    return no_store(render_template("two_step/security.html", **context), status)


@bp.get("/mypage/security")
@login_required
def security():
    """Show the account's ways to sign in: the authenticator app, recovery codes left."""
    return security_page()


def setup_page(form, secret, status=200):
    """Render the set-up page for `secret`: its QR code, its letters, the form."""
    uri = totp.provisioning_uri(secret, current_user.email)
    qr = totp.qr_svg(uri, gettext("QR code for your authenticator app"))
    page = render_template("two_step/totp.html", form=form, secret=secret, qr=qr, uri=uri)
    return no_store(page, status)


@bp.route("/mypage/totp", methods=["GET", "POST"])
@login_required
def set_up():
    """Show a new secret; with a current code for it and the password, turn the app on."""
    if TotpCredential.of(current_user.id) is not None:
        flash(gettext("Your authenticator app is on already."), "info")
        return redirect(url_for("two_step.security"))
    asked = recent_step_needed(current_user, url_for("two_step.set_up"))  # beside a passkey
    if asked:
        return asked
    if not current_user.email_verified:
        flash(
            gettext("Confirm your email address first: it is how you recover the account."), "info"
        )
        return redirect(url_for("two_step.security"))
    form = TotpSetupForm()
    secret = (
        totp.read_setup_token(form.setup.data, current_user.id) if form.is_submitted() else None
    )
    if secret is None:
        secret = totp.new_secret()
        form.setup.data = totp.setup_token(current_user.id, secret)
        if form.is_submitted():
            form.code.errors = [STALE_SETUP]
            return setup_page(form, secret, 400)
    if not form.validate_on_submit():
        return setup_page(form, secret, 400 if form.is_submitted() else 200)
    step = totp.matching_step(secret, form.code.data.strip())
    if step is None:
        form.code.errors.append(WRONG_CODE)
        return setup_page(form, secret, 400)
    ended = lock_signed_in_account()  # after the password's check, which commits its count
    if ended:
        return ended
    if TotpCredential.of(current_user.id) is not None:  # turned on from another tab meanwhile
        db.session.rollback()
        return redirect(url_for("two_step.security"))
    first = not second_step_on(current_user)
    chain = chain_for_new_second_step(current_user)
    codes = totp.turn_on(current_user.id, secret, step, chain)
    ended = ways_in.first_second_step_on(current_user) if first else ways_in.Ended()
    ways_in.second_step_changed(current_user)
    details = ended.as_details()
    defer_notices("two_step_on", current_user, at=utcnow().isoformat(), ended=details)
    db.session.commit()
    mark_passed(session, chain)
    return recovery_codes_page(codes, turned_on="app", ended=details)


def recovery_codes_page(codes, turned_on=None, ended=None):
    """Show new recovery codes, this once; `turned_on`: "app" or "passkey", when the second
    step has just been turned on with it, and what that ended and paused (`ended`)."""
    paused = paused_for(current_user.id, "first_second_step") if ended else None
    context = {"codes": codes, "turned_on": turned_on, "ended": ended, "paused": paused}
    return no_store(render_template("two_step/recovery_codes.html", **context))


def needs_recent_step():
    """Return the answer that asks for a code first, or None after a recent second step."""
    if not second_step_on(current_user):
        flash(gettext("Two-step sign-in is off for your account."), "info")
        return redirect(url_for("two_step.security"))
    if not recent_second_step(session):
        return ask_for_recent_second_step(url_for("two_step.security"))
    return None


@bp.post("/mypage/totp/disable")
@login_required
def disable():
    """Turn the app off (after a recent second step and with the password); mail a notice."""
    if TotpCredential.of(current_user.id) is None:
        flash(gettext("Your authenticator app is off."), "info")
        return redirect(url_for("two_step.security"))
    asked = needs_recent_step()
    if asked:
        return asked
    form = PasswordConfirmForm()
    if not form.validate_on_submit():
        return security_page(400, disable_form=form)
    ended = lock_signed_in_account()
    if ended:
        return ended
    TotpCredential.turn_off(current_user.id)
    ways_in.second_step_changed(current_user)
    passkeys_left = second_step_on(current_user)
    defer_notices(
        "two_step_off", current_user, at=utcnow().isoformat(), passkeys_left=passkeys_left
    )
    db.session.commit()
    if passkeys_left:
        flash(gettext("Your authenticator app is off: signing in asks for a passkey."), "info")
    else:
        flash(
            gettext("Your authenticator app is off: signing in asks for your password only."),
            "info",
        )
    return redirect(url_for("two_step.security"))


@bp.post("/mypage/security/recovery-codes")
@login_required
def new_codes():
    """Make new recovery codes, voiding the earlier ones; mail a notice."""
    asked = needs_recent_step()
    if asked:
        return asked
    form = PasswordConfirmForm()
    if not form.validate_on_submit():
        return security_page(400, codes_form=form)
    ended = lock_signed_in_account()
    if ended:
        return ended
    codes = totp.new_recovery_codes(current_user.id, chain_for_new_second_step(current_user))
    defer_notices("recovery_codes_made", current_user, at=utcnow().isoformat())
    db.session.commit()
    return recovery_codes_page(codes)


def code_page(form, user, target, status=200):
    """Render the page that asks for the second step: a passkey, a code from the app (the
    keypad of digits) or a recovery code (of letters)."""
    has_app = TotpCredential.of(user.id) is not None
    page = render_template(
        "two_step/check.html",
        form=form,
        has_app=has_app,
        recovery=request.args.get("with") == "recovery" or not has_app,
        has_passkeys=Passkey.count_of(user.id) > 0 and relying_party() is not None,
        passkey_form=PasskeyAnswerForm(formdata=None, next=target),
        lost_form=None if current_user.is_authenticated else LostForm(formdata=None),
        asked=SecondStepRecovery.of(user.id),
    )
    return no_store(page, status)


@bp.route("/auth/two-step", methods=["GET", "POST"])
def check():
    """Ask for a code: to finish a sign-in whose password was right, or, signed in, before
    something that needs a recent second step. Then go on to `next` (a same-site path)."""
    pending = None
    if current_user.is_authenticated:
        user, target = current_user, request.args.get("next", "")
    else:
        user, pending = pending_sign_in(session)
        if user is None:
            flash(gettext("Sign in first: the time to enter a code ran out."), "info")
            return redirect(url_for("auth.login"))
        target = pending["next"]
    target = target if is_same_site_path(target) else url_for("notes.index")
    if not second_step_on(user):
        return redirect(target)
    form = CodeForm()
    if not form.validate_on_submit():
        return code_page(form, user, target, 400 if form.is_submitted() else 200)
    try:
        throttle.spend_second_step(user.id)  # committed: it stands whatever happens next
    except TooManyRequests as refused:  # the code page still, saying how long to wait
        form.code.errors.append(refused.description)
        page, status, headers = code_page(form, user, target, 429)
        return page, status, {**headers, "Retry-After": str(refused.retry_after)}
    used = totp.spend_code(user.id, form.code.data)
    # Read before the sign-in's commit: a code may be the account's last.
    used_chain = totp.chain_of(user.id, used)
    if used is None:
        db.session.rollback()
        form.code.errors.append(WRONG_CODE)
        left = throttle.second_steps_left()
        if left is not None and left <= TRIES_WARNED:
            form.code.errors.append(tries_left(left))
        return code_page(form, user, target, 400)
    passed(user, used, used_chain, pending)
    return redirect(target)


def passed(user, used, used_chain, pending):
    """Finish a check whose code passed: its attempt given back, a lost-phone ask ended, the
    sign-in finished (`pending`, for a browser not signed in yet) and the session marked with
    the chain of the step that passed."""
    throttle.give_back_second_step(user.id)
    SecondStepRecovery.end(user.id)  # a second step is not lost after all
    if not current_user.is_authenticated:
        user.start_session()
        db.session.commit()
        sign_in(user, remember=pending["remember"], password_at=pending["at"])
    db.session.commit()
    mark_passed(session, used_chain)
    if used == "recovery":
        left = RecoveryCode.left(user.id)
        message = ngettext(
            "You used a recovery code; %(num)d is left.",
            "You used a recovery code; %(num)d are left.",
            left,
        )
        flash(message, "info")


def ask_to_turn_off(user, wait):
    """Record the ask to turn the second step off, tell every address with standing, and say
    when the person may sign in to finish it."""
    SecondStepRecovery.ask(user.id)
    ends = utcnow() + wait
    lapses = ends + SecondStepRecovery.FINISH_WITHIN
    defer_notices(
        "second_step_recovery_asked",
        user,
        at=utcnow().isoformat(),
        ends=ends.isoformat(),
        lapses=lapses.isoformat(),
    )
    db.session.commit()
    message = gettext(
        "Every address of the account is told. If no one stops it, sign in again between "
        "%(date)s and %(lapses)s to turn two-step sign-in off; no reminder is sent.",
        date=local_time(user, ends),
        lapses=local_time(user, lapses),
    )
    flash(message, "info")
    return redirect(url_for("two_step.check"))


@bp.post("/auth/two-step/lost")
def lost():
    """For a sign-in whose password was right and whose every second step and recovery code
    is lost: ask to turn the second step off, told to every address with standing; after
    SECOND_STEP_RECOVERY_WAIT with no second step, reset or undo meanwhile, turn it off and
    sign in (docs/mail.md, "The one rule": Waits)."""
    user, pending = pending_sign_in(session)
    if user is None:
        flash(gettext("Sign in first: the time to enter a code ran out."), "info")
        return redirect(url_for("auth.login"))
    if not LostForm().validate_on_submit():
        return redirect(url_for("two_step.check"))
    lock_user(user.id)
    wait = current_app.config["SECOND_STEP_RECOVERY_WAIT"]
    asked = SecondStepRecovery.of(user.id)
    if asked is not None and asked.lapsed(wait):  # asked long ago: void, asked anew
        SecondStepRecovery.end(user.id)
        asked = None
    if asked is None:
        return ask_to_turn_off(user, wait)
    if utcnow() < asked.asked_at + wait:
        db.session.rollback()
        message = gettext(
            "Two-step sign-in can be turned off after %(date)s, if no one stops it.",
            date=local_time(user, asked.asked_at + wait),
        )
        flash(message, "info")
        return redirect(url_for("two_step.check"))
    ways_in.drop_second_steps(user)
    user.end_every_session()
    defer_notices("second_step_recovered", user, at=utcnow().isoformat())
    user.start_session()
    db.session.commit()
    sign_in(user, remember=pending["remember"], password_at=pending["at"])
    flash(
        gettext("Two-step sign-in is off. Turn it on again here, with a new phone or passkey."),
        "info",
    )
    return redirect(url_for("two_step.security"))
