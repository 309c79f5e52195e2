"""Revision 0023 adds a note's summary columns and the list's order by last edit, and goes back."""

import pytest

from devenv.revisions import parent_revision
from tests.migrations import note, user

REVISION = "0023"
PARENT = parent_revision(REVISION)
pytestmark = pytest.mark.start_at(PARENT)
NOTES = "SELECT id, title, content, version, tags, updated_at FROM note ORDER BY id"
SUMMARY = "SELECT preview, tasks_done, tasks_total FROM note ORDER BY id"
INDEXES = "SELECT indexname FROM pg_indexes WHERE tablename = 'note'"


@pytest.fixture
def notes_at_parent(alembic_runner):
    """A database at 0023's parent with an account and two notes."""
    alembic_runner.migrate_up_to(PARENT)
    alembic_runner.insert_into("user", user())
    alembic_runner.insert_into("note", [note("one", "- [x] done"), note("two")])


def test_0023_keeps_every_note_and_the_previous_release_still_writes(
    notes_at_parent, alembic_runner, database
):
    before = database.rows(NOTES)
    alembic_runner.migrate_up_to(REVISION)
    assert database.rows(NOTES) == before
    # Existing notes and the previous release's new ones have no summary yet: the retag
    # job's index finds them.
    alembic_runner.insert_into("note", note("three"))
    assert (
        database.rows(SUMMARY) == [{"preview": None, "tasks_done": None, "tasks_total": None}] * 3
    )
    unsummarised = "SELECT id FROM note WHERE preview IS NULL ORDER BY id"
    assert [row["id"] for row in database.rows(unsummarised)] == [1, 2, 3]
    names = {row["indexname"] for row in database.rows(INDEXES)}
    assert {"ix_note_user_id_pinned_updated_at", "ix_note_unsummarised"} <= names


def test_0023_downgrade_keeps_the_notes_and_drops_what_it_added(
    notes_at_parent, alembic_runner, database
):
    before = database.rows(NOTES)
    alembic_runner.migrate_up_to(REVISION)
    database.execute("UPDATE note SET preview = 'done', tasks_done = 1, tasks_total = 1")
    alembic_runner.migrate_down_to(PARENT)
    assert database.rows(NOTES) == before
    assert not {"preview", "tasks_done", "tasks_total"} & database.columns("note")
    names = {row["indexname"] for row in database.rows(INDEXES)}
    assert not {"ix_note_user_id_pinned_updated_at", "ix_note_unsummarised"} & names
    alembic_runner.migrate_up_to(REVISION)
