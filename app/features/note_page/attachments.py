"""Attachments on the note's page: starting an upload from a script and confirming it; a
refused confirm answers with the note's page, the refusal in its panel."""

from flask import flash, jsonify, request, url_for
from flask_babel import gettext
from flask_login import login_required

from app.errors import wants_json
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
from app.features.note_page.view import detail
from app.features.notes.lookup import get_note


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
    try:
        attachment, confirmed = confirm_upload(note, request.args.get("upload", ""))
    except UploadRefused as refusal:
        if refusal.status == 404 or wants_json():
            raise  # the error page or JSON (app/errors.py)
        # A browser back from the store: the note page, the refusal in words in its panel.
        db.session.rollback()
        flash(str(refusal), "attachments-error")
        return detail(note_id), refusal.status
    if wants_json():  # a script that sends several files (a share): it goes on by itself
        return jsonify(id=attachment.id, name=attachment.name, attached=confirmed)
    if confirmed:
        flash(gettext("%(name)s is attached.", name=attachment.name), "attachments-success")
    else:
        flash(gettext("%(name)s was already attached.", name=attachment.name), "attachments-info")
    return back_to_panel(note.id)
