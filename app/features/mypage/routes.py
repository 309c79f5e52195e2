"""My page: every route acts on the signed-in user's own account, never on an id it is given."""

from flask import (
    Blueprint,
    abort,
    current_app,
    flash,
    redirect,
    render_template,
    session,
    url_for,
)
from flask_babel import get_locale, gettext, refresh
from flask_babel import lazy_gettext as _l
from flask_login import current_user, login_required, logout_user
from sqlalchemy.exc import IntegrityError
from werkzeug.exceptions import TooManyRequests

from app import objects, throttle
from app.accounts.pausing import pause_made_by
from app.accounts.sessions import lock_signed_in_account
from app.accounts.tasks import defer_mail, defer_notices, defer_unasked_mail, tell_reading_changed
from app.extensions import db
from app.features.mypage import import_uploads, photo_uploads, tasks
from app.features.mypage.forms import (
    DeleteAccountForm,
    EmailForm,
    ImportForm,
    NicknameForm,
    PasswordForm,
    PhotoForm,
    SettingsForm,
)
from app.features.mypage.language import remember_language
from app.features.second_step.session import recent_step_needed
from app.features.shares.links import live_links
from app.i18n.stored import translated_text
from app.models import (
    AccountExport,
    AccountImport,
    AddressHold,
    LoginSession,
    MailToken,
    PhotoUpload,
    TooManyUnfinished,
    User,
    comparison_key,
)

bp = Blueprint("mypage", __name__, url_prefix="/mypage")

# The one answer to an email change, whether the new address is free or taken.
EMAIL_CHANGE_ASKED = _l(
    "Check the new address: the change happens when you open the link we mailed there. "
    "Until then your account keeps its address."
)


def html_language():
    """Return the language this page is in (what a user who never chose one reads)."""
    return get_locale().language


def first_error(form):
    """Return the id of `form`'s first field with an error, or None."""
    return next((field.id for field in form if field.errors), None)


def keep_hours():
    """Return how many hours an export's archive is kept."""
    return int(current_app.config["EXPORT_KEEP"].total_seconds() // 3600)


def render_page(status=200, **forms):
    """Render my page with a fresh form for each action, except those given with errors.

    A form given with errors is summed up at the top, and its first wrong field has the
    focus (autofocus, so without scripts too): the browser shows it where the person looks.
    """
    failed = next(iter(forms.values()), None)
    upload = PhotoUpload.latest(current_user.id)
    latest_import = AccountImport.latest(current_user.id)
    forms = {
        "upload": upload if upload and upload.status != "done" else None,
        "photo_form": PhotoForm(formdata=None),
        "photo_upload": photo_uploads.page_form(current_user.id, upload),
        "nickname_form": NicknameForm(formdata=None, nickname=current_user.nickname),
        "email_form": EmailForm(formdata=None),
        "password_form": PasswordForm(formdata=None),
        "settings_form": SettingsForm(
            formdata=None,
            language=current_user.language or html_language(),
            timezone=current_user.time_zone,
        ),
        "delete_form": DeleteAccountForm(formdata=None),
        "pending_moves": MailToken.pending_moves(current_user),
        "export": AccountExport.latest(current_user.id),
        "import_form": ImportForm(formdata=None),
        "import_upload": import_uploads.page_form(current_user.id, latest_import),
        "latest_import": latest_import,
        "keep_hours": keep_hours(),
        "share_links": live_links(current_user.id),
        **forms,
    }
    focus = first_error(failed) if failed is not None else None
    return render_template(
        "mypage/index.html", **forms, failed_form=failed if focus else None, focus=focus
    ), status


@bp.get("")
@login_required
def index():
    """Show the profile and the forms that change it."""
    return render_page()


def too_many_uploads():
    """Return the 429 for a user whose earlier uploads are still being processed."""
    return TooManyRequests(
        gettext("Your earlier photos are still being processed. Try again in a moment."),
        retry_after=current_app.config["UNFINISHED_RETRY_AFTER_SECONDS"],
    )


@bp.post("/photo")
@login_required
def upload_photo():
    """Keep a photo sent through the web (what scripts use; my page sends it to the store
    instead) and queue it: a worker makes the photo and swaps it in."""
    form = PhotoForm()
    if not form.validate_on_submit():
        return render_page(400, photo_form=form)
    try:
        tasks.queue_photo(current_user.id, form.data)
    except TooManyUnfinished:
        db.session.rollback()
        raise too_many_uploads() from None
    flash(gettext("Your photo is uploaded; it appears here once it is processed."), "success")
    return redirect(url_for("mypage.index"))


@bp.get("/photo/status")
@login_required
def photo_status():
    """Answer where the latest photo upload is, as JSON, for my page to follow without reloading."""
    upload = PhotoUpload.latest(current_user.id)
    if upload is None:
        abort(404)
    finished = upload.status in ("done", "failed")
    if upload.status == "failed":
        message = gettext(
            "Your new photo could not be used: %(reason)s", reason=translated_text(upload.error)
        )
    elif finished:
        message = gettext("Your new photo is in place.")
    else:
        message = gettext("Your new photo is being processed; it appears here once it is ready.")
    show = {"photo": current_user.image_url} if upload.status == "done" else {}
    return {"status": upload.status, "finished": finished, "message": message, "show": show}


@bp.post("/photo/delete")
@login_required
def remove_photo():
    """Go back to the placeholder and delete the photo's object."""
    objects.delete_photo_later(current_user.image_url)
    current_user.image_url = None
    db.session.commit()
    flash(gettext("Your photo is removed."), "info")
    return redirect(url_for("mypage.index"))


@bp.post("/nickname")
@login_required
def change_nickname():
    """Change the nickname, under the rules of signup."""
    form = NicknameForm()
    if not form.validate_on_submit():
        return render_page(400, nickname_form=form)
    current_user.nickname = form.nickname.data
    try:
        db.session.commit()
    except IntegrityError:
        # Another account took the nickname between our check and this update.
        db.session.rollback()
        form.nickname.errors.append(gettext("This nickname is taken."))
        return render_page(400, nickname_form=form)
    flash(gettext("Your nickname is changed."), "success")
    return redirect(url_for("mypage.index"))


@bp.post("/settings")
@login_required
def change_settings():
    """Save the language and time zone that every page follows from now on."""
    form = SettingsForm()
    if not form.validate_on_submit():
        return render_page(400, settings_form=form)
    old_language, old_zone = current_user.language, current_user.time_zone
    current_user.language, current_user.time_zone = form.language.data, form.timezone.data
    tell_reading_changed(current_user, old_language, old_zone)
    db.session.commit()
    refresh()  # the message below is in the language just chosen
    flash(gettext("Your language and time zone are saved."), "success")
    return remember_language(redirect(url_for("mypage.index")), form.language.data)


@bp.post("/email")
@login_required
def change_email():
    """Mail a link to the new address and a notice to the old one; the link makes the change.

    A taken address gets a notice for its owner instead, and the answer is the same. With
    the authenticator app on, a code must have passed in this session within 10 minutes.
    """
    asked = recent_step_needed(current_user, url_for("mypage.index"))
    if asked:
        return asked
    form = EmailForm()
    if not form.validate_on_submit():
        return render_page(400, email_form=form)
    throttle.spend_account_mail(current_user.id)
    # Locked after the form's checks, which commit the throttle's count.
    ended = lock_signed_in_account()
    if ended:
        return ended
    new_email = form.email.data
    owner = User.find_by_email(new_email)
    # Mail to an address that is not the account's own counts against that address's budget.
    if owner is None:
        # Bound to this session: a recovery that ends it before the mail leaves voids it.
        session_id = LoginSession.id_of(current_user.session_token)
        defer_unasked_mail(
            "email_change", current_user.id, new_email, new_email=new_email, session_id=session_id
        )
    elif owner.id != current_user.id:
        defer_unasked_mail("email_in_use", owner.id, owner.email)
    if comparison_key(new_email) != comparison_key(current_user.email):
        defer_notices("email_change_requested", current_user)
    db.session.commit()
    flash(str(EMAIL_CHANGE_ASKED), "info")
    return redirect(url_for("mypage.index"))


@bp.post("/email/cancel")
@login_required
def cancel_email_change():
    """Cancel every pending move to a new address: the links mailed there stop working."""
    for row in MailToken.pending_moves(current_user):
        db.session.delete(row)
    db.session.commit()
    flash(gettext("The change of address is cancelled; your account keeps its address."), "info")
    return redirect(url_for("mypage.index"))


@bp.post("/password")
@login_required
def change_password():
    """Change the password and sign out every other session; this one stays signed in."""
    form = PasswordForm()
    if not form.validate_on_submit():
        return render_page(400, password_form=form)
    # Locked after the form's checks, which commit the throttle's count.
    ended = lock_signed_in_account()
    if ended:
        return ended
    current_user.set_password(form.new_password.data)
    ended_sessions = current_user.end_other_sessions()
    pause_made_by(current_user.id, "password_change", sessions=ended_sessions)
    defer_notices("password_changed", current_user)
    db.session.commit()
    flash(gettext("Your password is changed. Your other sessions are signed out."), "success")
    return redirect(url_for("mypage.index"))


@bp.post("/delete")
@login_required
def delete_account():
    """Delete the account with everything it owns, and sign out."""
    form = DeleteAccountForm()
    if not form.validate_on_submit():
        return render_page(400, delete_form=form)
    # Locked after the form's checks, which commit the throttle's count.
    ended = lock_signed_in_account()
    if ended:
        return ended
    # The objects go in a job deferred in the same transaction: retried until the store answers.
    objects.delete_later(prefixes=objects.user_prefixes(current_user.id))
    nickname, language = current_user.nickname, current_user.language
    for address, _, left_at in AddressHold.standing(current_user):
        if left_at is not None or current_user.email_verified:  # a left one was verified
            defer_mail("account_deleted", address=address, nickname=nickname, language=language)
    db.session.delete(current_user._get_current_object())  # notes, attachments, sessions cascade
    db.session.commit()
    logout_user()
    session.clear()
    flash(gettext("Your account and everything in it are deleted."), "info")
    return redirect(url_for("auth.signup"))
