"""Revision 0021 adds tags, pins, the archive and share links to notes, and goes back."""

import pytest
from sqlalchemy import func
from sqlalchemy.exc import IntegrityError

from tests.migrations import note, user
from tests.migrations.revisions import kept, rows_at, under_test

REVISION, PARENT, pytestmark = under_test("0021")
NOTES = "SELECT id, title, content, version, completed FROM note ORDER BY id"
NEW_COLUMNS = "SELECT pinned, archived_at, tags, tagged_version FROM note ORDER BY id"
notes_at_parent = rows_at(PARENT, user=user(), note=[note("one", "#work"), note("two")])


def test_0021_keeps_every_note_and_the_previous_release_still_writes(
    notes_at_parent, alembic_runner, database
):
    """Existing notes and the previous release's new ones: unpinned, listed, tags not yet
    read (tagged_version NULL: the worker's retag job reads them)."""
    with kept(database, NOTES):
        alembic_runner.migrate_up_to(REVISION)
    alembic_runner.insert_into("note", note("three", "#later"))
    unread = {"pinned": False, "archived_at": None, "tags": [], "tagged_version": None}
    assert database.rows(NEW_COLUMNS) == [unread] * 3
    untagged = "SELECT id FROM note WHERE tagged_version IS DISTINCT FROM version ORDER BY id"
    assert [row["id"] for row in database.rows(untagged)] == [1, 2, 3]
    indexes = database.rows("SELECT indexname FROM pg_indexes WHERE tablename = 'note'")
    assert {"ix_note_user_id_pinned_created_at", "ix_note_untagged"} <= {
        row["indexname"] for row in indexes
    }


def test_0021_share_links_belong_to_a_note_and_their_tokens_are_unique(
    notes_at_parent, alembic_runner
):
    alembic_runner.migrate_up_to(REVISION)
    link = {"note_id": 1, "user_id": 1, "token_hash": "h1", "created_at": func.now()}
    alembic_runner.insert_into("note_share", link)
    with pytest.raises(IntegrityError, match="token_hash"):
        alembic_runner.insert_into("note_share", {**link, "note_id": 2})
    with pytest.raises(IntegrityError, match="note_id"):
        alembic_runner.insert_into("note_share", {**link, "note_id": 99, "token_hash": "h2"})


def test_0021_downgrade_keeps_the_notes_and_drops_what_it_added(
    notes_at_parent, alembic_runner, database
):
    with kept(database, NOTES):
        alembic_runner.migrate_up_to(REVISION)
        database.execute("UPDATE note SET pinned = true, tags = '{work}' WHERE id = 1")
        alembic_runner.migrate_down_to(PARENT)
    assert not {"pinned", "archived_at", "tags", "tagged_version"} & database.columns("note")
    assert "note_share" not in database.tables()
    alembic_runner.migrate_up_to(REVISION)
