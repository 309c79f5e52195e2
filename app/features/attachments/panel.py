"""What a note's page shows of its attachments: the list, and the form to add one."""

import hashlib
import hmac
import logging
from base64 import urlsafe_b64encode
from dataclasses import dataclass, field

from flask import current_app, url_for
from sqlalchemy import Text, cast, func, literal_column, select
from sqlalchemy.dialects.postgresql import aggregate_order_by

from app import storage
from app.errors import STORE_DOWN
from app.extensions import db
from app.features.attachments.uploads import (
    TOKEN_LENGTH,
    Ticket,
    UploadRefused,
    note_attachments,
    room_left,
    sign,
    upload_form,
    upload_lifetime,
)
from app.models import Attachment, utcnow
from app.revalidation import fresh_until, not_reusable

logger = logging.getLogger("memo.attachments")
# The attachment id sequence's last value, as a column: see form_token.
GENERATION = "(SELECT CASE WHEN is_called THEN last_value ELSE 0 END FROM attachment_id_seq)"


@dataclass
class Panel:
    """A note's attachments, and either a signed upload form or why there is none."""

    files_shown: str | None  # a digest of the confirmed files, as panel_columns() reads it
    attachments: list | None = None  # the files themselves, read once the page is made
    upload_url: str = ""
    fields: dict = field(default_factory=dict)
    refusal: str = ""
    ticket: Ticket | None = None  # the upload the form is for, before it is signed

    def shown(self):
        """Return what the panel shows that a database change can change: each attachment,
        and the room left or why there is none (the note page's tag, app/revalidation.py)."""
        return self.files_shown, self.refusal, self.ticket and self.ticket.max_bytes


def attachments_panel(note, panel=None):
    """Return the note's attachments and, if the limits allow, a form signed for one more;
    `panel`: what attachments_read() read of them already.

    Writes nothing: the upload is a signed ticket in the store's redirect back to Memo.
    """
    panel = panel or attachments_read(note)
    panel.attachments = note_attachments(note.id)
    if panel.ticket is None:
        return panel
    try:
        ticket = panel.ticket
        back = url_for("attachments.confirm", note_id=note.id, upload=sign(ticket), _external=True)
        panel.upload_url, panel.fields = upload_form(ticket, ("redirect", back))
    except storage.StorageError as error:
        logger.warning("no upload form: %s", error)
        panel.refusal = str(STORE_DOWN)
        not_reusable()  # the store may be back by the next visit
    else:
        # A page reused by a 304 offers this form: at least three quarters of its life left.
        fresh_until(ticket.expires_at - upload_lifetime() * 3 / 4)
    return panel


def panel_columns(note_id, user_id):
    """Return the columns that tell what a note's attachment panel shows, for one statement
    to read beside others (the note's page reads them with the note): a digest of the note's
    confirmed files (each one's id, name, size, type and confirmation), their number, the
    bytes the user's files take, and the attachment id sequence's generation (read, not
    advanced: it takes no lock and writes nothing). `note_id`, `user_id`: values or
    bound parameters."""
    confirmed = (Attachment.note_id == note_id) & (Attachment.state == "confirmed")
    each = func.json_build_array(
        Attachment.id,
        Attachment.name,
        Attachment.size,
        Attachment.content_type,
        Attachment.confirmed_at,
    )
    listed = func.json_agg(aggregate_order_by(each, Attachment.id))
    return (
        select(func.md5(cast(listed, Text))).where(confirmed).scalar_subquery().label("files"),
        select(func.count()).where(confirmed).scalar_subquery().label("files_count"),
        select(func.coalesce(func.sum(Attachment.size), 0))
        .where(Attachment.user_id == user_id, Attachment.state == "confirmed")
        .scalar_subquery()
        .label("files_bytes"),
        literal_column(GENERATION).label("files_generation"),
    )


def attachments_read(note, row=None):
    """Return what a note's attachment panel shows and the ticket of its upload form (or why
    there is none), unsigned: the database's part of the panel. `row`: panel_columns() as a
    statement of the caller's read them, else they are read here."""
    if row is None:
        row = db.session.execute(select(*panel_columns(note.id, note.user_id))).one()
    panel = Panel(row.files)
    try:
        # PostgreSQL sums bigints as numeric
        room = room_left(row.files_count, int(row.files_bytes))
    except UploadRefused as refusal:
        panel.refusal = str(refusal)
    else:
        token = form_token(note.user_id, note.id, row.files_generation)
        panel.ticket = Ticket(note.user_id, note.id, token, utcnow() + upload_lifetime(), room)
    return panel


def form_token(user_id, note_id, generation):
    """Return the token of the note page's upload: the same on every view for a while.

    Derived, not stored, so a page view writes nothing: an HMAC of the user, the note, the
    current period of one policy lifetime, and the attachment id sequence's `generation`
    (panel_columns), which moves on once a file is confirmed (and never goes back), so a
    confirmed token is not offered again. Page views therefore cannot pile up upload keys:
    one a note per period, give or take.
    """
    period = int(utcnow().timestamp() // max(upload_lifetime().total_seconds(), 1))
    message = f"{user_id}:{note_id}:{period}:{generation}".encode()
    secret = current_app.secret_key.encode()
    digest = hmac.new(secret, b"attachment-form:" + message, hashlib.sha256).digest()
    return urlsafe_b64encode(digest).decode()[:TOKEN_LENGTH]
