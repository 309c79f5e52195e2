"""Attachments on the note's page: starting an upload from a script and confirming it; a
refused upload answers with the note's page, the refusal in its panel."""

from flask import flash, jsonify, request, url_for
from flask_babel import gettext
from flask_login import login_required
from werkzeug.exceptions import default_exceptions

from app.errors import handle_http_error, wants_json
from app.extensions import db
from app.features.attachments.forms import UploadStartForm
from app.features.attachments.routes import back_to_panel, bp
from app.features.attachments.uploads import (
    UploadRefused,
    confirm_upload,
    sign,
    start_upload,
    upload_form,
)
from app.features.notes.lookup import get_note
from app.features.pages.note import detail


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
