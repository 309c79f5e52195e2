"""Attachments: starting an upload from a script, confirming it, downloading and deleting."""

from flask import Blueprint, flash, jsonify, redirect, request, url_for
from flask_babel import gettext
from flask_login import current_user, login_required
from werkzeug.exceptions import NotFound, default_exceptions

from app.attachments.forms import UploadStartForm
from app.attachments.lookup import owned_attachment
from app.attachments.uploads import (
    UploadRefused,
    confirm_upload,
    delete_attachment,
    download_url,
    sign,
    start_upload,
    upload_form,
)
from app.errors import handle_http_error, wants_json
from app.extensions import db
from app.notes.lookup import get_note
from app.notes.routes import detail

bp = Blueprint("attachments", __name__)


@bp.errorhandler(UploadRefused)
def upload_refused(refusal):
    """Answer a refused upload with its message and status (HTML or JSON)."""
    db.session.rollback()
    if request.endpoint == "attachments.confirm" and refusal.status != 404 and not wants_json():
        # A browser back from the store: the note page, the refusal in words in its panel.
        flash(str(refusal), "attachments-error")
        return detail(request.view_args["note_id"]), refusal.status
    error = default_exceptions[refusal.status](description=str(refusal))
    if refusal.retry_after:
        error.retry_after = refusal.retry_after
    return handle_http_error(error)


def get_attachment(attachment_id):
    """Return the signed-in user's confirmed attachment, or abort 404."""
    attachment = owned_attachment(current_user.id, attachment_id)
    if attachment is None:
        raise NotFound()
    return attachment


def back_to_panel(note_id):
    """Redirect to the note's attachments, where the message (an `attachments-` category,
    shown in the panel, not at the top of the page) says what happened."""
    return redirect(url_for("notes.detail", note_id=note_id, _anchor=PANEL_ID))


PANEL_ID = "attachments"  # the panel's id on the note page (attachments/_panel.html)


@bp.post("/notes/<id:note_id>/attachments/upload")
@login_required
def start(note_id):
    """Check a file's name and size against the limits and sign its upload (for the script)."""
    note = get_note(note_id)
    form = UploadStartForm()
    if not form.validate_on_submit():
        messages = [message for errors in form.errors.values() for message in errors]
        raise UploadRefused(" ".join(messages))
    ticket = start_upload(note, form.name.data, form.size.data)
    url, fields = upload_form(ticket, ("status", "201"), exact=True)
    confirm = url_for("attachments.confirm", note_id=note.id, upload=sign(ticket))
    return jsonify(url=url, fields=fields, confirm=confirm)


@bp.get("/notes/<id:note_id>/attachments/confirm")
@login_required
def confirm(note_id):
    """Accept the file the store reports for an upload, then go back to the note."""
    # A GET, as the store's redirect is: the one GET that writes. It is bound to the upload
    # Memo signed for this user and note (`upload`; the store's own `key` and `bucket` are
    # ignored), so a forged link does nothing the user did not begin, and it is idempotent.
    note = get_note(note_id)
    attachment, confirmed = confirm_upload(note, request.args.get("upload", ""))
    if wants_json():  # a script that sends several files (a share): it goes on by itself
        return jsonify(id=attachment.id, name=attachment.name, attached=confirmed)
    if confirmed:
        flash(gettext("%(name)s is attached.", name=attachment.name), "attachments-success")
    else:
        flash(gettext("%(name)s was already attached.", name=attachment.name), "attachments-info")
    return back_to_panel(note.id)


@bp.get("/attachments/<id:attachment_id>")
@login_required
def download(attachment_id):
    """Send the owner to a short-lived link that downloads the file under its own name."""
    attachment = get_attachment(attachment_id)
    response = redirect(download_url(attachment))
    response.headers["Cache-Control"] = "no-store"
    return response


@bp.post("/attachments/<id:attachment_id>/delete")
@login_required
def delete(attachment_id):
    """Delete an attachment and its file."""
    attachment = get_attachment(attachment_id)
    delete_attachment(attachment)
    flash(gettext("%(name)s is deleted.", name=attachment.name), "attachments-info")
    return back_to_panel(attachment.note_id)
