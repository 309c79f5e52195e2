"""Notes that link, as the links and renames tests set them up: many notes written by the
writer at once."""

from sqlalchemy import select

from app.extensions import db
from app.features.notes import service
from app.models import User


def write_notes(app, texts, email="ann@example.com"):
    """Write (title, content) notes of the account as its writer does, past the write rate
    (as an import does); return their ids."""
    with app.app_context():
        user_id = db.session.scalar(select(User.id).where(User.email == email))
        drafts = [{"title": title, "content": content} for title, content in texts]
        notes = service.create_many(user_id, drafts)
        db.session.commit()
        return [note.id for note in notes]
