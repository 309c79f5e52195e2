"""What a note's page shows of its attachments: the list, and the form to add one."""

import logging
from dataclasses import dataclass, field

from flask import url_for

from app import storage
from app.attachments.uploads import (
    UploadRefused,
    form_ticket,
    note_attachments,
    sign,
    upload_form,
)
from app.errors import STORE_DOWN

logger = logging.getLogger("memo.attachments")


@dataclass
class Panel:
    """A note's attachments, and either a signed upload form or why there is none."""

    attachments: list
    upload_url: str = ""
    fields: dict = field(default_factory=dict)
    refusal: str = ""


def attachments_panel(note):
    """Return the note's attachments and, if the limits allow, a form signed for one more.

    Writes nothing: the upload is a signed ticket in the store's redirect back to Memo.
    """
    panel = Panel(note_attachments(note.id))
    try:
        ticket = form_ticket(note, panel.attachments)
        back = url_for("attachments.confirm", note_id=note.id, upload=sign(ticket), _external=True)
        panel.upload_url, panel.fields = upload_form(ticket, ("redirect", back))
    except UploadRefused as refusal:
        panel.refusal = str(refusal)
    except storage.StorageError as error:
        logger.warning("no upload form: %s", error)
        panel.refusal = str(STORE_DOWN)
    return panel
