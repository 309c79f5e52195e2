"""Revision 0003 adds note.completed to a table with rows, finishes a run that failed part
way, and takes the column away again."""

from tests.migrations import note, user
from tests.migrations.revisions import rows_at, under_test

REVISION, PARENT, pytestmark = under_test("0003")
LEFTOVER = "SELECT conname FROM pg_constraint WHERE conname = 'ck_note_completed_not_null'"
ann_at_parent = rows_at(PARENT, user=user(password_hash="argon-hash"))


def test_0003_adds_completed_and_keeps_every_note(ann_at_parent, alembic_runner, database):
    alembic_runner.insert_into("note", [note(f"note {number}") for number in range(3)])
    before = database.rows("SELECT id, title, content, created_at FROM note ORDER BY id")

    alembic_runner.migrate_up_to(REVISION)
    after = database.rows("SELECT id, title, content, created_at, completed FROM note ORDER BY id")
    assert [{k: v for k, v in row.items() if k != "completed"} for row in after] == before
    assert {row["completed"] for row in after} == {False}
    # The previous release, still serving, inserts notes without naming the column.
    alembic_runner.insert_into("note", note("from the old release", content=""))
    nullable = database.rows(
        "SELECT is_nullable FROM information_schema.columns"
        " WHERE table_name = 'note' AND column_name = 'completed'"
    )
    assert nullable == [{"is_nullable": "NO"}]
    assert database.rows(LEFTOVER) == []

    alembic_runner.migrate_down_to(PARENT)
    assert "completed" not in database.columns("note")
    titles = [row["title"] for row in database.rows("SELECT title FROM note ORDER BY id")]
    assert titles == ["note 0", "note 1", "note 2", "from the old release"]
    assert database.rows('SELECT password_hash FROM "user"') == [{"password_hash": "argon-hash"}]


def test_0003_finishes_the_job_after_a_run_that_failed_part_way(
    ann_at_parent, alembic_runner, database
):
    alembic_runner.insert_into("note", note("old", content=""))
    # What a first run leaves when it dies after step 4 (the NOT VALID check).
    database.execute("ALTER TABLE note ADD COLUMN completed boolean")
    database.execute("ALTER TABLE note ALTER COLUMN completed SET DEFAULT false")
    database.execute(
        "ALTER TABLE note ADD CONSTRAINT ck_note_completed_not_null"
        " CHECK (completed IS NOT NULL) NOT VALID"
    )
    alembic_runner.migrate_up_to(REVISION)
    assert alembic_runner.current == REVISION
    assert database.rows("SELECT completed FROM note") == [{"completed": False}]
    assert database.rows(LEFTOVER) == []
