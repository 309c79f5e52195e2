"""Revision 0034 makes the record of applied revisions where no release phase made it, adds
the columns an older release's record lacks and keeps its rows, and on the way back leaves
it, less its own row."""

from devenv.revisions import parent_revision
from tests.migrations.revisions import under_test

REVISION, PARENT, pytestmark = under_test("0034")
RECORD = "SELECT revision, down_revision, backward_compatible FROM schema_revisions ORDER BY 1"
COLUMNS = {"revision", "down_revision", "backward_compatible", "description", "applied_at"}
COLUMNS_SINCE_THE_HISTORY_CHECK = {"checksum", "release", "note"}


def make_an_older_releases_record(database):
    """Make the record as the releases before the history check did, holding the parent."""
    database.execute(
        "CREATE TABLE schema_revisions (revision varchar(32) PRIMARY KEY,"
        " down_revision varchar(32), backward_compatible boolean NOT NULL,"
        " description text NOT NULL DEFAULT '', applied_at timestamptz NOT NULL DEFAULT now())"
    )
    database.execute(
        "INSERT INTO schema_revisions (revision, down_revision, backward_compatible)"
        " VALUES (:revision, :down, true)",
        revision=PARENT,
        down=parent_revision(PARENT),
    )


def test_0034_makes_the_record_on_a_database_that_has_none(alembic_runner, database):
    alembic_runner.migrate_up_to(PARENT)
    assert "schema_revisions" not in database.tables()
    alembic_runner.migrate_up_to(REVISION)
    assert database.columns("schema_revisions") == COLUMNS | COLUMNS_SINCE_THE_HISTORY_CHECK
    [row] = database.rows("SELECT revision, checksum, note FROM schema_revisions")
    assert row["revision"] == REVISION and len(row["checksum"]) == 64 and row["note"] is None


def test_0034_completes_an_older_releases_record_and_keeps_its_rows(alembic_runner, database):
    alembic_runner.migrate_up_to(PARENT)
    make_an_older_releases_record(database)
    before = database.rows(RECORD)
    alembic_runner.migrate_up_to(REVISION)
    assert database.columns("schema_revisions") == COLUMNS | COLUMNS_SINCE_THE_HISTORY_CHECK
    mine = {"revision": REVISION, "down_revision": PARENT, "backward_compatible": True}
    assert database.rows(RECORD) == [*before, mine]


def test_0034_goes_back_leaving_the_record_of_what_stays_applied(alembic_runner, database):
    alembic_runner.migrate_up_to(PARENT)
    make_an_older_releases_record(database)
    alembic_runner.migrate_up_to(REVISION)
    alembic_runner.migrate_down_to(PARENT)
    assert [row["revision"] for row in database.rows(RECORD)] == [PARENT]
    assert database.columns("schema_revisions") == COLUMNS | COLUMNS_SINCE_THE_HISTORY_CHECK
    alembic_runner.migrate_up_to(REVISION)
    assert [row["revision"] for row in database.rows(RECORD)] == [PARENT, REVISION]
