"""What a note's page shows of its attachments: the list, and the form to add one."""

import logging
from dataclasses import dataclass, field

from flask import url_for

from app import storage
from app.attachments.uploads import UploadRefused, note_attachments, start_upload, upload_form
from app.extensions import db

logger = logging.getLogger("memo.attachments")
STORE_DOWN = "Files cannot be attached right now: the file store is not answering."


@dataclass
class Panel:
    """A note's attachments, and either a signed upload form or why there is none."""

    attachments: list
    upload_url: str = ""
    fields: dict = field(default_factory=dict)
    refusal: str = ""


def attachments_panel(note):
    """Return the note's attachments and, if the limits allow, a form signed for one more."""
    panel = Panel(note_attachments(note.id))
    try:
        upload, room = start_upload(note)
        back = url_for("attachments.confirm", note_id=note.id, _external=True)
        panel.upload_url, panel.fields = upload_form(upload, room, ("redirect", back))
    except UploadRefused as refusal:
        db.session.rollback()
        panel.refusal = str(refusal)
    except storage.StorageError as error:
        logger.warning("no upload form: %s", error)
        panel.refusal = STORE_DOWN
    return panel
