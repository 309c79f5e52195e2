"""My page's photo sent straight to the store: where the store sends the browser back, and
the confirm that queues the photo (app/features/mypage/photo_uploads.py). Routes on mypage's
`bp`."""

from flask import flash, redirect, render_template, request, url_for
from flask_babel import gettext
from flask_login import current_user, login_required

from app.extensions import db
from app.features.mypage import photo_uploads
from app.features.mypage.forms import ImportConfirmForm
from app.features.mypage.routes import bp, too_many_uploads
from app.models import TooManyUnfinished


@bp.get("/photo/arrived")
@login_required
def photo_arrived():
    """Where the store sends the browser once the photo is there: writes nothing; its one
    button (pressed by a script, or by the person) hands the photo to the worker."""
    form = ImportConfirmForm(formdata=None, upload=request.args.get("upload", "")[:1000])
    return render_template("mypage/photo_arrived.html", form=form)


@bp.post("/photo/confirm")
@login_required
def confirm_photo():
    """Check the photo the store holds for this upload and queue its processing."""
    form = ImportConfirmForm()
    if not form.validate_on_submit():
        raise photo_uploads.PhotoRefused(photo_uploads.NOT_SENT, 404)
    try:
        queued = photo_uploads.confirm(current_user.id, form.upload.data)
    except TooManyUnfinished:
        db.session.rollback()
        raise too_many_uploads() from None
    if queued:
        flash(gettext("Your photo is uploaded; it appears here once it is processed."), "success")
    return redirect(url_for("mypage.index"))
