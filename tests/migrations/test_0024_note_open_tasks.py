"""Revision 0024 adds a note's open tasks and the version this release's rules read, and
goes back."""

from sqlalchemy import func

from tests.migrations import note, user
from tests.migrations.revisions import kept, rows_at, under_test

REVISION, PARENT, pytestmark = under_test("0024")
NOTES = "SELECT id, title, content, version, tags, preview, updated_at FROM note ORDER BY id"
INDEXES = "SELECT indexname FROM pg_indexes WHERE tablename = 'note'"
VERSION = {
    "note_id": 1,
    "title": "one",
    "content": "before",
    "saved_at": func.now(),
    "created_at": func.now(),
}
VERSIONS = "SELECT id, note_id, title, content, saved_at, created_at FROM note_version ORDER BY id"
notes_at_parent = rows_at(
    PARENT, user=user(), note=[note("one", "- [ ] open"), note("two")], note_version=VERSION
)


def test_0024_keeps_every_note_and_the_retag_job_finds_each(
    notes_at_parent, alembic_runner, database
):
    with kept(database, NOTES), kept(database, VERSIONS):
        alembic_runner.migrate_up_to(REVISION)
    # The previous release's history entries are saves, with nothing dropped counted.
    alembic_runner.insert_into("note_version", VERSION)
    kinds = "SELECT kind, dropped FROM note_version"
    assert database.rows(kinds) == [{"kind": None, "dropped": None}] * 2
    # The previous release still inserts and saves notes without naming the new columns.
    alembic_runner.insert_into("note", note("three"))
    database.execute("UPDATE note SET version = version + 1 WHERE id = 1")
    unread = "SELECT id, open_tasks FROM note WHERE read_version IS DISTINCT FROM version"
    assert database.rows(unread + " ORDER BY id") == [
        {"id": 1, "open_tasks": None},
        {"id": 2, "open_tasks": None},
        {"id": 3, "open_tasks": None},
    ]
    assert "ix_note_unread" in {row["indexname"] for row in database.rows(INDEXES)}


def test_0024_downgrade_keeps_the_notes_and_drops_what_it_added(
    notes_at_parent, alembic_runner, database
):
    with kept(database, NOTES), kept(database, VERSIONS):
        alembic_runner.migrate_up_to(REVISION)
        database.execute("""UPDATE note SET open_tasks = '[[0, "open"]]', read_version = version""")
        database.execute("UPDATE note_version SET kind = 'set_aside', dropped = 2")
        alembic_runner.migrate_down_to(PARENT)
    assert not {"open_tasks", "read_version"} & database.columns("note")
    assert not {"kind", "dropped"} & database.columns("note_version")
    assert "ix_note_unread" not in {row["indexname"] for row in database.rows(INDEXES)}
    alembic_runner.migrate_up_to(REVISION)
