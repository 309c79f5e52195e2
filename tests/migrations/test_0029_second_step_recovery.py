"""Revision 0029 adds the table of requests to turn the second step off beside the accounts
it leaves alone, and goes back."""

from sqlalchemy import func

from tests.migrations import user
from tests.migrations.revisions import ACCOUNTS, kept, rows_at, under_test

REVISION, PARENT, pytestmark = under_test("0029")
an_account = rows_at(PARENT, user=user())


def test_0029_adds_its_table_keeps_the_accounts_and_goes_back(an_account, alembic_runner, database):
    with kept(database, ACCOUNTS):
        alembic_runner.migrate_up_to(REVISION)
    alembic_runner.insert_into("second_step_recovery", {"user_id": 1, "asked_at": func.now()})
    database.execute('DELETE FROM "user"')  # an account's request goes with it
    assert database.rows("SELECT count(*) AS n FROM second_step_recovery") == [{"n": 0}]
    alembic_runner.migrate_down_to(PARENT)
    assert "second_step_recovery" not in database.tables()
    alembic_runner.migrate_up_to(REVISION)
    assert "second_step_recovery" in database.tables()
