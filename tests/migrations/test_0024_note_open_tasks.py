"""Revision 0024 adds a note's open tasks and the version this release's rules read, and
goes back."""

import pytest
from sqlalchemy import func

from devenv.revisions import parent_revision
from tests.migrations import note, user

REVISION = "0024"
PARENT = parent_revision(REVISION)
pytestmark = pytest.mark.start_at(PARENT)
NOTES = "SELECT id, title, content, version, tags, preview, updated_at FROM note ORDER BY id"
INDEXES = "SELECT indexname FROM pg_indexes WHERE tablename = 'note'"


@pytest.fixture
def notes_at_parent(alembic_runner):
    """A database at 0024's parent with an account and two notes."""
    alembic_runner.migrate_up_to(PARENT)
    alembic_runner.insert_into("user", user())
    alembic_runner.insert_into("note", [note("one", "- [ ] open"), note("two")])
    alembic_runner.insert_into("note_version", VERSION)


VERSION = {
    "note_id": 1,
    "title": "one",
    "content": "before",
    "saved_at": func.now(),
    "created_at": func.now(),
}
VERSIONS = "SELECT id, note_id, title, content, saved_at, created_at FROM note_version ORDER BY id"


def test_0024_keeps_every_note_and_the_retag_job_finds_each(
    notes_at_parent, alembic_runner, database
):
    before, versions = database.rows(NOTES), database.rows(VERSIONS)
    alembic_runner.migrate_up_to(REVISION)
    assert database.rows(NOTES) == before and database.rows(VERSIONS) == versions
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
    before, versions = database.rows(NOTES), database.rows(VERSIONS)
    alembic_runner.migrate_up_to(REVISION)
    database.execute("""UPDATE note SET open_tasks = '[[0, "open"]]', read_version = version""")
    database.execute("UPDATE note_version SET kind = 'set_aside', dropped = 2")
    alembic_runner.migrate_down_to(PARENT)
    assert database.rows(NOTES) == before and database.rows(VERSIONS) == versions
    assert not {"open_tasks", "read_version"} & database.columns("note")
    assert not {"kind", "dropped"} & database.columns("note_version")
    assert "ix_note_unread" not in {row["indexname"] for row in database.rows(INDEXES)}
    alembic_runner.migrate_up_to(REVISION)
