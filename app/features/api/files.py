"""The API's files: a note's attachments (a presigned upload, then a confirm) and the export.

The same code as the pages': app/features/attachments/uploads.py signs the upload with the same
limits (per note, per account, in flight) and confirms what arrived the same way;
app/features/mypage/tasks.py starts an export, which a worker writes.
"""

from flask import current_app
from flask_babel import gettext
from sqlalchemy import select

from app.extensions import db
from app.features.api import bp
from app.features.api.auth import api_user
from app.features.api.documented import problems
from app.features.api.notes import find_note
from app.features.api.problems import Problem
from app.features.api.schemas import (
    AttachmentList,
    AttachmentOut,
    AttachmentStart,
    ExportState,
    Upload,
)
from app.features.attachments.lookup import owned_attachment
from app.features.attachments.uploads import (
    Ticket,
    confirm_upload,
    delete_attachment,
    download_url,
    note_attachments,
    sign,
    start_upload,
    upload_form,
)
from app.features.mypage import export, tasks
from app.models import AccountExport, Attachment

# The store's answer to the upload's POST: 201, as the page's script asks for.
AFTER_UPLOAD = ("status", "201")


def attachment_json(attachment, url=None):
    """Return an attachment as the API shows it."""
    return {
        "id": attachment.id,
        "note_id": attachment.note_id,
        "name": attachment.name,
        "size": attachment.size,
        "content_type": attachment.content_type,
        "state": attachment.state,
        "created_at": attachment.created_at,
        "download_url": url,
    }


def find_attachment(attachment_id, state="confirmed"):
    """Return the account's attachment, or 404."""
    attachment = owned_attachment(api_user().id, attachment_id, state)
    if attachment is None:
        raise Problem(404, "not-found", gettext("You have no attachment with this id."))
    return attachment


@bp.get("/notes/<id:note_id>/attachments")
@bp.response(200, AttachmentList)
@problems(404)
def list_attachments(note_id):
    """List a note's attachments.

    Oldest first.
    """
    note = find_note(note_id)
    return {"items": [attachment_json(found) for found in note_attachments(note.id)]}


@bp.post("/notes/<id:note_id>/attachments")
@bp.arguments(AttachmentStart)
@bp.response(201, Upload)
@problems(403, 404, 413, 422, 429)
def upload_attachment(body, note_id):
    """Start uploading an attachment.

    `POST` the file to `url` with `fields` (a form, the file last), then confirm it. The file
    must be of the `size` announced.
    """
    note = find_note(note_id)
    ticket = start_upload(note, body["name"], body["size"])
    url, fields = upload_form(ticket, AFTER_UPLOAD, exact=True)
    pending = db.session.scalar(select(Attachment).where(Attachment.key == ticket.key))
    return {"id": pending.id, "url": url, "fields_": fields, "expires_at": ticket.expires_at}, 201


@bp.post("/notes/<id:note_id>/attachments/<id:attachment_id>/confirm")
@bp.response(200, AttachmentOut)
@problems(403, 404, 413, 429)
def confirm(note_id, attachment_id):
    """Confirm an attachment's upload.

    The file that arrived is accepted; one that breaks a limit is deleted.
    """
    note = find_note(note_id)
    upload = find_attachment(attachment_id, state=None)
    if upload.note_id != note.id:
        raise Problem(404, "not-found", gettext("This note has no upload with this id."))
    if upload.state == "confirmed":
        return attachment_json(upload)
    token = upload.key.rsplit("/", 1)[1]
    room = current_app.config["ATTACHMENT_MAX_BYTES"]  # confirm_upload checks the room left
    ticket = Ticket(note.user_id, note.id, token, upload.expires_at, room)
    attachment, _ = confirm_upload(note, sign(ticket))
    return attachment_json(attachment)


@bp.get("/attachments/<id:attachment_id>")
@bp.response(200, AttachmentOut)
@problems(404)
def read_attachment(attachment_id):
    """Read an attachment, with a short-lived download link."""
    attachment = find_attachment(attachment_id)
    return attachment_json(attachment, download_url(attachment))


@bp.delete("/attachments/<id:attachment_id>")
@bp.response(204)
@problems(403, 404)
def remove_attachment(attachment_id):
    """Delete an attachment and its file."""
    delete_attachment(find_attachment(attachment_id))
    return "", 204


def export_json(latest):
    """Return the state of the account's latest export (`none` without one)."""
    user = api_user()
    done = latest is not None and latest.status == "done"
    return {
        "id": latest.id if latest else None,
        "state": latest.status if latest else "none",
        "created_at": latest.created_at if latest else None,
        "download_url": export.download_url(latest, user.time_zone) if done else None,
    }


@bp.get("/export")
@bp.response(200, ExportState)
@problems()
def export_state():
    """Read the latest export's state.

    `none`, `queued`, `running`, `done` or `failed`, with a short-lived `download_url` once
    done.
    """
    return export_json(AccountExport.latest(api_user().id))


@bp.post("/export")
@bp.response(202, ExportState)
@problems(403)
def start_export():
    """Start an export of the whole account.

    One at a time; a worker writes the archive.
    """
    started, _ = tasks.start_export(api_user().id)
    return export_json(started), 202
