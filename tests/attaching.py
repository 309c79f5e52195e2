"""Attachments in tests: ann and bob, each signed in with a note (fixtures), and what the
database, the queue and a page say."""

import re

import pytest
from sqlalchemy import select, text

from app.extensions import db
from app.models import Attachment
from devenv.uploads import (
    Attacher,
)

PDF = b"%PDF-1.7\n%\xe2\xe3\xcf\xd3\n1 0 obj\n<< /Type /Catalog >>\nendobj\n" * 20
MIB = 1024 * 1024


@pytest.fixture
def ann(user):
    """ann, signed in, with one note, as an Attacher."""
    user.create_note()
    return Attacher(user)


@pytest.fixture
def bob(other_user):
    """bob, signed in, with one note (id 2), as an Attacher."""
    other_user.create_note("Bob's note")
    return Attacher(other_user)


def attachments(app):
    """Return every attachment row, oldest first."""
    with app.app_context():
        rows = db.session.scalars(select(Attachment).order_by(Attachment.id)).all()
        db.session.expunge_all()
        return rows


def confirmed(app):
    """Return the confirmed attachments' (name, type, size)."""
    return [(a.name, a.content_type, a.size) for a in attachments(app) if a.state == "confirmed"]


def queued_jobs(app):
    """Return the jobs in the queue as dicts."""
    query = "SELECT task_name, status, attempts, scheduled_at FROM procrastinate_jobs ORDER BY id"
    with app.app_context():
        return [dict(row._mapping) for row in db.session.execute(text(query))]


def retry_now(app):
    """Make every job waiting for a retry due now, as time passing would."""
    with app.app_context():
        db.session.execute(text("UPDATE procrastinate_jobs SET scheduled_at = now()"))
        db.session.commit()


def page_text(response):
    return response.get_data(as_text=True)


FLASH = re.compile(r'<p class="flash[^"]*" role="status">([^<]*)</p>')


def flashed(response):
    """Return the status messages on a page."""
    return " ".join(FLASH.findall(page_text(response)))
