"""Notes that link, as the links and renames tests set them up: many notes written by the
writer at once, and the statements a block runs."""

from contextlib import contextmanager

from sqlalchemy import event, select

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


@contextmanager
def statements_run(app):
    """Collect the SQL statements run inside the block."""
    seen = []

    def record(conn, cursor, statement, parameters, context, executemany):
        seen.append(statement)

    with app.app_context():
        engine = db.engine
    event.listen(engine, "before_cursor_execute", record)
    try:
        yield seen
    finally:
        event.remove(engine, "before_cursor_execute", record)
