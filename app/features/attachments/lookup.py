"""Finding an account's attachment: the pages and the API (app/features/api/) share it."""

from sqlalchemy import select

from app.extensions import db
from app.models import Attachment


def owned_attachment(user_id, attachment_id, state="confirmed"):
    """Return the user's attachment in `state` (in any with None), or None: another
    account's is as good as missing."""
    where = [Attachment.id == attachment_id, Attachment.user_id == user_id]
    if state is not None:
        where.append(Attachment.state == state)
    return db.session.scalar(select(Attachment).where(*where))
