"""Revision 0006 installs procrastinate's job queue beside the rows, and removes it whole."""

from tests.migrations import user
from tests.migrations.revisions import under_test

REVISION, PARENT, pytestmark = under_test("0006")


def queue_objects(database):
    """Return how many procrastinate functions, types and tables the scratch database has."""
    return database.rows(
        "SELECT (SELECT count(*) FROM pg_proc WHERE proname LIKE 'procrastinate%') AS functions,"
        " (SELECT count(*) FROM pg_type WHERE typname LIKE '%procrastinate%') AS types,"
        " (SELECT count(*) FROM pg_class WHERE relname LIKE '%procrastinate%') AS relations"
    )[0]


def test_0006_installs_the_queue_keeps_every_row_and_goes_away_cleanly(alembic_runner, database):
    alembic_runner.migrate_up_to(PARENT)
    alembic_runner.insert_into("user", user())
    alembic_runner.migrate_up_to(REVISION)
    database.execute(
        "SELECT procrastinate_defer_jobs_v1(ARRAY[ROW('default', 'remove_old_jobs', 0, NULL,"
        " NULL, '{}', NULL)::procrastinate_job_to_defer_v1])"
    )
    assert database.rows("SELECT status FROM procrastinate_jobs") == [{"status": "todo"}]
    alembic_runner.migrate_down_to(PARENT)
    assert queue_objects(database) == {"functions": 0, "types": 0, "relations": 0}
    assert database.rows('SELECT nickname FROM "user"') == [{"nickname": "ann"}]
    alembic_runner.migrate_up_to(REVISION)
    assert database.rows("SELECT count(*) AS n FROM procrastinate_jobs") == [{"n": 0}]
