"""Revision 0039 adds note_link and note.title_key: the notes written before keep their rows
and get no key (the retag job reads them), a link names one target (an id or a title key),
goes with its note and its account, and the downgrade drops the table, the column and the
indexes, the notes intact."""

import pytest
from sqlalchemy.exc import IntegrityError

from tests.migrations import note, user
from tests.migrations.revisions import under_test

REVISION, PARENT, pytestmark = under_test("0039")
VALID_INDEXES = (
    "SELECT count(*) AS n FROM pg_index WHERE indisvalid AND indexrelid IN"
    " (to_regclass('ix_note_user_id_title_key'), to_regclass('ix_note_unkeyed'))"
)


def link(**values):
    return {"from_note_id": 1, "position": 0, "user_id": 1, "title_key": "plan"} | values


def test_0039_adds_links_and_title_keys_and_goes_back(alembic_runner, database):
    alembic_runner.migrate_up_to(PARENT)
    alembic_runner.insert_into("user", user())
    alembic_runner.insert_into("note", note("Plan", "[[Trip]]"))
    alembic_runner.migrate_up_to(REVISION)
    assert "note_link" in database.tables() and "title_key" in database.columns("note")
    assert database.rows("SELECT title, content, title_key FROM note") == [
        {"title": "Plan", "content": "[[Trip]]", "title_key": None}
    ]
    assert database.rows(VALID_INDEXES) == [{"n": 2}]
    alembic_runner.insert_into("note_link", link())
    alembic_runner.insert_into("note_link", link(position=1, title_key=None, target_id=1))
    for row in (
        link(position=2, title_key=None),  # no target
        link(position=3, target_id=1),  # two targets
        link(),  # one place twice
    ):
        with pytest.raises(IntegrityError):
            alembic_runner.insert_into("note_link", row)
    database.execute("DELETE FROM note")
    assert database.rows("SELECT count(*) AS n FROM note_link") == [{"n": 0}]
    alembic_runner.insert_into("note", note("Again"))
    alembic_runner.migrate_down_to(PARENT)
    assert "note_link" not in database.tables() and "title_key" not in database.columns("note")
    assert database.rows("SELECT title FROM note") == [{"title": "Again"}]
    assert database.rows(VALID_INDEXES) == [{"n": 0}]
    alembic_runner.migrate_up_to(REVISION)
    assert "note_link" in database.tables()
