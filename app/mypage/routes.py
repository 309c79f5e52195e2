"""My page: every route acts on the signed-in user's own account, never on an id it is given."""

from flask import (
    Response,
    current_app,
    flash,
    redirect,
    render_template,
    session,
    stream_with_context,
    url_for,
)
from flask_login import current_user, login_required, logout_user
from sqlalchemy.exc import IntegrityError
from werkzeug.exceptions import TooManyRequests

from app import jobs, storage
from app.attachments.uploads import delete_user_attachments
from app.extensions import db
from app.models import PhotoUpload, TooManyUnfinished
from app.mypage import bp, photos
from app.mypage.forms import DeleteAccountForm, NicknameForm, PasswordForm, PhotoForm


def render_page(status=200, **forms):
    """Render my page with a fresh form for each action, except those given with errors."""
    upload = PhotoUpload.latest(current_user.id)
    forms = {
        "upload": upload if upload and upload.status != "done" else None,
        "photo_form": PhotoForm(formdata=None),
        "nickname_form": NicknameForm(formdata=None, nickname=current_user.nickname),
        "password_form": PasswordForm(formdata=None),
        "delete_form": DeleteAccountForm(formdata=None),
        **forms,
    }
    return render_template("mypage/index.html", **forms), status


@bp.get("")
@login_required
def index():
    """Show the profile and the forms that change it."""
    return render_page()


def too_many_uploads():
    """Return the 429 for a user whose earlier uploads are still being processed."""
    return TooManyRequests(
        "Your earlier photos are still being processed. Try again in a moment.",
        retry_after=current_app.config["UNFINISHED_RETRY_AFTER_SECONDS"],
    )


@bp.post("/photo")
@login_required
def upload_photo():
    """Keep the upload as sent and queue it: a worker makes the photo and swaps it in."""
    form = PhotoForm()
    if not form.validate_on_submit():
        return render_page(400, photo_form=form)
    try:
        photos.accept_upload(current_user.id, form.data)
    except TooManyUnfinished:
        db.session.rollback()
        raise too_many_uploads() from None
    flash("Your photo is uploaded; it appears here once it is processed.", "success")
    return redirect(url_for("mypage.index"))


@bp.post("/photo/delete")
@login_required
def remove_photo():
    """Go back to the placeholder and delete the photo's object."""
    removed, current_user.image_url = current_user.image_url, None
    db.session.commit()
    storage.delete_photo(removed)
    flash("Your photo is removed.", "info")
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
        form.nickname.errors.append("This nickname is taken.")
        return render_page(400, nickname_form=form)
    flash("Your nickname is changed.", "success")
    return redirect(url_for("mypage.index"))


@bp.post("/password")
@login_required
def change_password():
    """Change the password and sign out every other session; this one stays signed in."""
    form = PasswordForm()
    if not form.validate_on_submit():
        return render_page(400, password_form=form)
    current_user.set_password(form.new_password.data)
    current_user.end_other_sessions()
    db.session.commit()
    flash("Your password is changed. Your other sessions are signed out.", "success")
    return redirect(url_for("mypage.index"))


@bp.get("/export")
@login_required
def export():
    """Download everything the user owns as one JSON file."""
    # Streamed as it is read: a large account never sits in memory as one document.
    chunks = stream_with_context(current_user.export_json())
    response = Response(chunks, mimetype="application/json")
    response.headers["Content-Disposition"] = 'attachment; filename="memo-export.json"'
    response.headers["Cache-Control"] = "no-store"
    return response


@bp.post("/delete")
@login_required
def delete_account():
    """Delete the account with everything it owns, and sign out."""
    form = DeleteAccountForm()
    if not form.validate_on_submit():
        return render_page(400, delete_form=form)
    # The objects go in jobs deferred in the same transaction: retried until the store answers.
    jobs.defer(jobs.delete_user_objects, user_id=current_user.id)
    delete_user_attachments(current_user.id)
    db.session.delete(current_user._get_current_object())  # notes, attachments, sessions cascade
    db.session.commit()
    logout_user()
    session.clear()
    flash("Your account and everything in it are deleted.", "info")
    return redirect(url_for("auth.signup"))
