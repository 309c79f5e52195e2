"""Revision 0023 adds a note's summary columns and the list's order by last edit, and goes back."""

from tests.migrations import note, user
from tests.migrations.revisions import kept, rows_at, under_test

REVISION, PARENT, pytestmark = under_test("0023")
NOTES = "SELECT id, title, content, version, tags, updated_at FROM note ORDER BY id"
SUMMARY = "SELECT preview, tasks_done, tasks_total FROM note ORDER BY id"
INDEXES = "SELECT indexname FROM pg_indexes WHERE tablename = 'note'"
notes_at_parent = rows_at(PARENT, user=user(), note=[note("one", "- [x] done"), note("two")])


def test_0023_keeps_every_note_and_the_previous_release_still_writes(
    notes_at_parent, alembic_runner, database
):
    with kept(database, NOTES):
        alembic_runner.migrate_up_to(REVISION)
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
    with kept(database, NOTES):
        alembic_runner.migrate_up_to(REVISION)
        database.execute("UPDATE note SET preview = 'done', tasks_done = 1, tasks_total = 1")
        alembic_runner.migrate_down_to(PARENT)
    assert not {"preview", "tasks_done", "tasks_total"} & database.columns("note")
    names = {row["indexname"] for row in database.rows(INDEXES)}
    assert not {"ix_note_user_id_pinned_updated_at", "ix_note_unsummarised"} & names
    alembic_runner.migrate_up_to(REVISION)
