"""Revision 0029 adds the table of requests to turn the second step off beside the accounts
it leaves alone, and goes back."""

import pytest
from sqlalchemy import func

from devenv.revisions import parent_revision
from tests.migrations import user

REVISION = "0029"
PARENT = parent_revision(REVISION)
pytestmark = pytest.mark.start_at(PARENT)
USERS = 'SELECT id, email, password_hash FROM "user" ORDER BY id'


def test_0029_adds_its_table_keeps_the_accounts_and_goes_back(alembic_runner, database):
    alembic_runner.migrate_up_to(PARENT)
    alembic_runner.insert_into("user", user())
    before = database.rows(USERS)
    alembic_runner.migrate_up_to(REVISION)
    assert database.rows(USERS) == before
    alembic_runner.insert_into("second_step_recovery", {"user_id": 1, "asked_at": func.now()})
    database.execute('DELETE FROM "user"')  # an account's request goes with it
    assert database.rows("SELECT count(*) AS n FROM second_step_recovery") == [{"n": 0}]
    alembic_runner.migrate_down_to(PARENT)
    assert "second_step_recovery" not in database.tables()
    alembic_runner.migrate_up_to(REVISION)
    assert "second_step_recovery" in database.tables()
