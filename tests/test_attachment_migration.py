"""Migration 0010 adds the attachment table beside notes with rows, and takes it away again."""

import importlib.util
from pathlib import Path

import pytest
from sqlalchemy.exc import IntegrityError

REVISION_FILE = (
    Path(__file__).resolve().parent.parent / "migrations" / "versions" / "0010_attachments.py"
)


def revision_module():
    """Load the revision file, to read its parent (the orchestrator may relink it)."""
    spec = importlib.util.spec_from_file_location("revision_0010", REVISION_FILE)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


REVISION = revision_module()
PARENT = REVISION.down_revision
INSERT_ATTACHMENT = (
    "INSERT INTO attachment (user_id, note_id, key, state, name, content_type, size,"
    " created_at, expires_at, confirmed_at)"
    " VALUES (1, :note, :key, :state, :name, :type, :size, now(), now(), :confirmed)"
)


@pytest.fixture
def notes_at_parent(scratch_schema):
    """A database at the revision before 0010, holding a user with two notes."""
    scratch_schema.upgrade(PARENT)
    scratch_schema.execute(
        'INSERT INTO "user" (email, nickname, password_hash, created_at)'
        " VALUES ('a@example.com', 'ann', 'x', now())"
    )
    for title in ("first", "second"):
        scratch_schema.execute(
            "INSERT INTO note (title, content, created_at, updated_at, user_id)"
            " VALUES (:title, 'body', now(), now(), 1)",
            title=title,
        )
    return scratch_schema


def notes(schema):
    return schema.rows("SELECT id, title, content, created_at, user_id FROM note ORDER BY id")


def attach(schema, note, key, state="confirmed"):
    """Insert an attachment row as the app writes it."""
    done = state == "confirmed"
    schema.execute(
        INSERT_ATTACHMENT,
        note=note,
        key=key,
        state=state,
        name="report.pdf" if done else None,
        type="application/pdf" if done else None,
        size=1234 if done else None,
        confirmed=None if not done else "2026-11-23T07:00:00Z",
    )


def test_0010_is_marked_backward_compatible():
    assert REVISION.backward_compatible is True


def test_0010_adds_the_table_and_keeps_every_note(notes_at_parent):
    before = notes(notes_at_parent)
    notes_at_parent.upgrade(REVISION.revision)
    assert notes(notes_at_parent) == before
    attach(notes_at_parent, 1, "attachments/1/a")
    attach(notes_at_parent, 2, "attachments/1/b", state="pending")
    rows = notes_at_parent.rows("SELECT note_id, state, name FROM attachment ORDER BY id")
    assert rows == [
        {"note_id": 1, "state": "confirmed", "name": "report.pdf"},
        {"note_id": 2, "state": "pending", "name": None},
    ]
    # The previous release, still serving, writes notes without knowing the table.
    notes_at_parent.execute(
        "INSERT INTO note (title, content, created_at, updated_at, user_id)"
        " VALUES ('from the old release', '', now(), now(), 1)"
    )


def test_0010_deleting_a_note_or_user_deletes_its_attachments(notes_at_parent):
    notes_at_parent.upgrade(REVISION.revision)
    attach(notes_at_parent, 1, "attachments/1/a")
    attach(notes_at_parent, 2, "attachments/1/b")
    notes_at_parent.execute("DELETE FROM note WHERE id = 1")
    assert notes_at_parent.rows("SELECT key FROM attachment") == [{"key": "attachments/1/b"}]
    notes_at_parent.execute('DELETE FROM "user"')
    assert notes_at_parent.rows("SELECT key FROM attachment") == []


@pytest.mark.parametrize(
    ("statement", "constraint"),
    [
        ("UPDATE attachment SET key = 'attachments/1/a' WHERE key = 'attachments/1/b'", "uq_"),
        ("UPDATE attachment SET state = 'lost'", "ck_attachment_state"),
        ("UPDATE attachment SET name = NULL", "ck_attachment_confirmed_complete"),
        ("UPDATE attachment SET size = -1", "ck_attachment_size_not_negative"),
        ("UPDATE attachment SET name = repeat('x', 256)", "ck_attachment_name_length"),
    ],
)
def test_0010_refuses_rows_the_app_never_writes(notes_at_parent, statement, constraint):
    notes_at_parent.upgrade(REVISION.revision)
    attach(notes_at_parent, 1, "attachments/1/a")
    attach(notes_at_parent, 1, "attachments/1/b")
    with pytest.raises(IntegrityError, match=constraint):
        notes_at_parent.execute(statement)


def test_0010_downgrade_drops_the_table_and_keeps_every_note(notes_at_parent):
    before = notes(notes_at_parent)
    notes_at_parent.upgrade(REVISION.revision)
    attach(notes_at_parent, 1, "attachments/1/a")
    notes_at_parent.downgrade(PARENT)
    assert "attachment" not in notes_at_parent.tables()
    assert notes(notes_at_parent) == before
    assert notes_at_parent.current() == PARENT
