"""Attachments: downloading and deleting one. Starting an upload and confirming it, which need
the note, are on this blueprint from app/features/note_page/attachments.py."""

from flask import Blueprint, flash, redirect, url_for
from flask_babel import gettext
from flask_login import current_user, login_required
from werkzeug.exceptions import NotFound

from app.features.attachments.lookup import owned_attachment
from app.features.attachments.uploads import delete_attachment, download_url

bp = Blueprint("attachments", __name__)


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
