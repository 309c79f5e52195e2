"""Importing into an account as its owner does, and reading back what it made.

Shared by the import tests (tests/test_import*.py, tests/test_markdown_export.py).
"""

import io
import urllib.request
import zipfile
from html import unescape

from sqlalchemy import text

from app.extensions import db
from devenv.uploads import Importer
from tests.workers import run_queued_jobs

NOTES = (
    "SELECT title, content, completed, created_at, updated_at FROM note ORDER BY created_at, title"
)
FILES = "SELECT a.name, a.content_type, a.size FROM attachment a ORDER BY a.name"


def my_page(user):
    return unescape(user.get("/mypage").get_data(as_text=True))


def send(app, user, data, name="memo-export.zip"):
    """Import a file as my page does (to the store, back, confirm); let the worker run it."""
    response = Importer(user).send(data, name)
    assert response.status_code == 302, response.get_data(as_text=True)
    assert response.headers["Location"] == "/mypage"
    run_queued_jobs(app)
    return my_page(user)


def rows(app, query):
    with app.app_context():
        found = db.session.execute(text(query)).all()
        db.session.rollback()
        return [tuple(row) for row in found]


def exported(app, user):
    """Export the account and return the archive's bytes, as its owner downloads them."""
    user.get("/mypage/export")
    user.post("/mypage/export")
    run_queued_jobs(app)
    link = user.get("/mypage/export/download").headers["Location"]
    with urllib.request.urlopen(link, timeout=10) as answer:
        return answer.read()


def zip_of(entries):
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
        for name, data in entries.items():
            archive.writestr(name, data)
    return buffer.getvalue()
