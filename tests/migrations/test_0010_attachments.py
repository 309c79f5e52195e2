"""Revision 0010 adds the attachment table beside notes with rows, and takes it away again."""

from datetime import UTC, datetime

import pytest
from sqlalchemy import func
from sqlalchemy.exc import IntegrityError

from devenv.revisions import script_directory
from tests.migrations import note, user
from tests.migrations.revisions import kept, rows_at, under_test

REVISION, PARENT, pytestmark = under_test("0010")
NOTES = "SELECT id, title, content, created_at, user_id FROM note ORDER BY id"
# A user with two notes.
notes_at_parent = rows_at(PARENT, user=user(), note=[note("first"), note("second")])


def attachment(note_id, key, state="confirmed"):
    """Return an attachment row as the app writes it."""
    done = state == "confirmed"
    return {
        "user_id": 1,
        "note_id": note_id,
        "key": key,
        "state": state,
        "name": "report.pdf" if done else None,
        "content_type": "application/pdf" if done else None,
        "size": 1234 if done else None,
        "created_at": func.now(),
        "expires_at": func.now(),
        "confirmed_at": datetime(2026, 11, 23, 7, tzinfo=UTC) if done else None,
    }


def test_0010_is_marked_backward_compatible():
    assert script_directory().get_revision(REVISION).module.backward_compatible is True


def test_0010_adds_the_table_and_keeps_every_note(notes_at_parent, alembic_runner, database):
    with kept(database, NOTES):
        alembic_runner.migrate_up_to(REVISION)
    alembic_runner.insert_into("attachment", attachment(1, "attachments/1/a"))
    alembic_runner.insert_into("attachment", attachment(2, "attachments/1/b", state="pending"))
    rows = database.rows("SELECT note_id, state, name FROM attachment ORDER BY id")
    assert rows == [
        {"note_id": 1, "state": "confirmed", "name": "report.pdf"},
        {"note_id": 2, "state": "pending", "name": None},
    ]
    # The previous release, still serving, writes notes without knowing the table.
    alembic_runner.insert_into("note", note("from the old release", content=""))


def test_0010_deleting_a_note_or_user_deletes_its_attachments(
    notes_at_parent, alembic_runner, database
):
    alembic_runner.migrate_up_to(REVISION)
    alembic_runner.insert_into("attachment", attachment(1, "attachments/1/a"))
    alembic_runner.insert_into("attachment", attachment(2, "attachments/1/b"))
    database.execute("DELETE FROM note WHERE id = 1")
    assert database.rows("SELECT key FROM attachment") == [{"key": "attachments/1/b"}]
    database.execute('DELETE FROM "user"')
    assert database.rows("SELECT key FROM attachment") == []


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
def test_0010_refuses_rows_the_app_never_writes(
    notes_at_parent, alembic_runner, database, statement, constraint
):
    alembic_runner.migrate_up_to(REVISION)
    alembic_runner.insert_into("attachment", attachment(1, "attachments/1/a"))
    alembic_runner.insert_into("attachment", attachment(1, "attachments/1/b"))
    with pytest.raises(IntegrityError, match=constraint):
        database.execute(statement)


def test_0010_downgrade_drops_the_table_and_keeps_every_note(
    notes_at_parent, alembic_runner, database
):
    with kept(database, NOTES):
        alembic_runner.migrate_up_to(REVISION)
        alembic_runner.insert_into("attachment", attachment(1, "attachments/1/a"))
        alembic_runner.migrate_down_to(PARENT)
        assert "attachment" not in database.tables()
    assert alembic_runner.current == PARENT
