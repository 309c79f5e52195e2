"""My page: every route acts on the signed-in user's own account, never on an id it is given."""

from flask import flash, jsonify, redirect, render_template, session, url_for
from flask_login import current_user, login_required, logout_user
from sqlalchemy.exc import IntegrityError

from app import storage
from app.attachments.uploads import delete_user_objects
from app.extensions import db
from app.mypage import bp
from app.mypage.forms import DeleteAccountForm, NicknameForm, PasswordForm, PhotoForm


def render_page(status=200, **forms):
    """Render my page with a fresh form for each action, except those given with errors."""
    forms = {
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


@bp.post("/photo")
@login_required
def upload_photo():
    """Store a new profile photo, then delete the one it replaces."""
    form = PhotoForm()
    if not form.validate_on_submit():
        return render_page(400, photo_form=form)
    replaced = current_user.image_url
    current_user.image_url = storage.put_image(current_user.id, *form.image)
    db.session.commit()
    storage.delete_photo(replaced)
    flash("Your photo is saved.", "success")
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
    response = jsonify(current_user.export())
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
    photos = storage.user_prefix(current_user.id)
    delete_user_objects(current_user.id)
    db.session.delete(current_user._get_current_object())  # notes, attachments, sessions cascade
    db.session.commit()
    logout_user()
    session.clear()
    storage.delete_or_log(f"photos under {photos}", storage.delete_prefix, photos)
    flash("Your account and everything in it are deleted.", "info")
    return redirect(url_for("auth.signup"))
