"""Revision 0030 gives every note a revision and a change number (per account, counters set
to match), adds tombstones, events and the stored HTML, finishes a run that failed part way,
and goes back."""

from tests.migrations import note, user
from tests.migrations.revisions import kept, rows_at, under_test

REVISION, PARENT, pytestmark = under_test("0030")
NOTES = "SELECT id, user_id, title, content, version, updated_at FROM note ORDER BY id"
STAMPS = "SELECT id, user_id, revision, seq FROM note ORDER BY id"
COUNTERS = "SELECT user_id, last_seq, forgotten_through FROM note_change_counter ORDER BY 1"
LEFTOVER = "SELECT conname FROM pg_constraint WHERE conname = 'ck_note_revision_not_null'"
NULLABLE = (
    "SELECT is_nullable FROM information_schema.columns"
    " WHERE table_name = 'note' AND column_name = 'revision'"
)
notes_at_parent = rows_at(
    PARENT,
    user=[user(), user("b@example.com", "bob")],
    note=[note("a1"), note("b1", user_id=2), note("a2"), note("a3")],
)


def test_0030_numbers_each_accounts_notes_and_keeps_them(notes_at_parent, alembic_runner, database):
    database.execute("UPDATE note SET version = 4 WHERE id = 3")
    with kept(database, NOTES):
        alembic_runner.migrate_up_to(REVISION)
    assert database.rows(STAMPS) == [
        {"id": 1, "user_id": 1, "revision": 1, "seq": 1},
        {"id": 2, "user_id": 2, "revision": 1, "seq": 1},
        {"id": 3, "user_id": 1, "revision": 4, "seq": 2},  # an ETag "4" a client holds holds
        {"id": 4, "user_id": 1, "revision": 1, "seq": 3},
    ]
    assert database.rows(COUNTERS) == [
        {"user_id": 1, "last_seq": 3, "forgotten_through": 0},
        {"user_id": 2, "last_seq": 1, "forgotten_through": 0},
    ]
    assert database.rows(NULLABLE) == [{"is_nullable": "NO"}]
    assert database.rows(LEFTOVER) == []
    # The previous release still inserts notes naming none of the new columns: revision 1,
    # no number yet (the retag job stamps it), no stored HTML (the page renders in memory).
    alembic_runner.insert_into("note", note("old release"))
    assert database.rows("SELECT revision, seq, rendered FROM note WHERE id = 5") == [
        {"revision": 1, "seq": None, "rendered": None}
    ]
    unstamped = "SELECT id FROM note WHERE seq IS NULL"
    assert database.rows(unstamped) == [{"id": 5}]


def test_0030_finishes_the_job_after_a_run_that_failed_part_way(
    notes_at_parent, alembic_runner, database
):
    database.execute("ALTER TABLE note ADD COLUMN revision bigint")
    database.execute("ALTER TABLE note ADD COLUMN seq bigint")
    database.execute("UPDATE note SET revision = 1, seq = 1 WHERE id = 1")
    database.execute(
        "ALTER TABLE note ADD CONSTRAINT ck_note_revision_not_null"
        " CHECK (revision IS NOT NULL) NOT VALID"
    )
    alembic_runner.migrate_up_to(REVISION)
    assert [row["seq"] for row in database.rows(STAMPS)] == [1, 1, 2, 3]
    assert database.rows(LEFTOVER) == []


def test_0030_downgrade_keeps_the_notes_and_drops_what_it_added(
    notes_at_parent, alembic_runner, database
):
    with kept(database, NOTES):
        alembic_runner.migrate_up_to(REVISION)
        database.execute(
            "INSERT INTO note_tombstone (note_id, user_id, seq, deleted_at)"
            " VALUES (99, 1, 4, now())"
        )
        database.execute(
            "INSERT INTO note_event (user_id, note_id, seq, kind, created_at)"
            " VALUES (1, 99, 4, 'deleted', now())"
        )
        alembic_runner.migrate_down_to(PARENT)
    assert not {"revision", "seq", "rendered", "rendered_version"} & database.columns("note")
    assert not {"note_tombstone", "note_event", "note_change_counter"} & database.tables()
    alembic_runner.migrate_up_to(REVISION)
