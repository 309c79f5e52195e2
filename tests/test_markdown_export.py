"""An export's Markdown files carry each note's front matter (tags, pin, archive, trash, done,
times), and an archive of those files alone imports back into the same notes."""

import io
import zipfile

from sqlalchemy import text

from app import frontmatter
from app.extensions import db
from tests.importing import exported, rows, send
from tests.note_writers import set_up_directly

STATE = (
    "SELECT title, content, completed, pinned, archived_at IS NOT NULL,"
    " deleted_at IS NOT NULL, created_at, updated_at FROM note ORDER BY created_at, title"
)


def markdown_only(archive_bytes):
    """Return a zip of the export's notes/*.md entries alone (no account.json)."""
    source = zipfile.ZipFile(io.BytesIO(archive_bytes))
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
        for name in source.namelist():
            if name.startswith("notes/") and name.endswith(".md"):
                archive.writestr(name, source.read(name))
    return buffer.getvalue()


def test_the_markdown_files_alone_import_back_into_the_same_notes(app, user, other_user):
    for title, content in [("회의록", "#회의록 다음 주 일정"), ("Pinned", "top"), ("Old", "kept"),
                           ("Gone", "trashed"), ("Done", "- [x] all")]:  # fmt: skip
        user.create_note(title, content)
    with app.app_context(), set_up_directly():  # the states, in one statement each
        db.session.execute(text("UPDATE note SET pinned = true WHERE title = 'Pinned'"))
        db.session.execute(text("UPDATE note SET archived_at = now() WHERE title = 'Old'"))
        db.session.execute(text("UPDATE note SET deleted_at = now() WHERE title = 'Gone'"))
        db.session.execute(text("UPDATE note SET completed = true WHERE title = 'Done'"))
        db.session.commit()
    before = rows(app, STATE)
    archive = markdown_only(exported(app, user))
    with app.app_context(), set_up_directly():  # gone, to come back from the archive
        db.session.execute(text("DELETE FROM note"))
        db.session.commit()
    page = send(app, other_user, archive, "notes.zip")
    assert "notes.zip imported: 5 notes and 0 attachments added." in page
    assert rows(app, STATE) == before


def test_hostile_front_matter_still_imports_the_text_and_nothing_else(app, user):
    lines = ["---", 'title: "Kept title"', "pinned: yes", "trashed: [1, 2]",
             'created: "9999-12-31T00:00:00+00:00"', "evil: {}", "no colon here"]  # fmt: skip
    page = send(app, user, "\n".join([*lines, "---", "", "the text"]).encode(), "a.md")
    assert "a.md imported: 1 notes and 0 attachments added." in page
    [(title, content, completed, pinned, archived, trashed, created, _)] = rows(app, STATE)
    assert (title, content, completed, pinned, archived, trashed) == (
        "Kept title", "the text", False, False, False, False)  # fmt: skip
    assert created.year < 9999  # clamped to tomorrow at most


def test_a_block_that_never_closes_is_text():
    endless = "---\n" + "a: 1\n" * 50 + "the text"
    assert frontmatter.read(endless) == ({}, endless)
    fields = {"title": '제목 "quoted"\nnext', "tags": ["회의록"], "pinned": True}
    assert frontmatter.read(frontmatter.write(fields) + "body") == (fields, "body")
