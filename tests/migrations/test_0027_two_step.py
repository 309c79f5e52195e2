"""Revision 0027 adds the second step's tables (an authenticator app per account, recovery
codes, the throttle of wrong codes) beside the accounts it leaves alone, and goes back."""

import pytest
from sqlalchemy import func

from devenv.revisions import parent_revision
from tests.migrations import user

REVISION = "0027"
PARENT = parent_revision(REVISION)
pytestmark = pytest.mark.start_at(PARENT)
USERS = 'SELECT id, email, password_hash FROM "user" ORDER BY id'
TABLES = ("totp_credential", "recovery_code", "two_step_throttle")


def test_0027_adds_its_tables_keeps_the_accounts_and_goes_back(alembic_runner, database):
    alembic_runner.migrate_up_to(PARENT)
    alembic_runner.insert_into("user", user())
    before = database.rows(USERS)
    alembic_runner.migrate_up_to(REVISION)
    assert database.rows(USERS) == before
    alembic_runner.insert_into(
        "totp_credential",
        {"user_id": 1, "secret": "gAAAA", "last_time_step": 1, "enabled_at": func.now()},
    )
    alembic_runner.insert_into(
        "recovery_code", {"user_id": 1, "code_hash": "ab", "created_at": func.now()}
    )
    database.execute('DELETE FROM "user"')  # an account's second step goes with it
    assert database.rows("SELECT count(*) AS n FROM recovery_code") == [{"n": 0}]
    assert database.rows("SELECT count(*) AS n FROM totp_credential") == [{"n": 0}]
    alembic_runner.migrate_down_to(PARENT)
    assert not set(TABLES) & set(database.tables())
    alembic_runner.migrate_up_to(REVISION)
    assert set(TABLES) <= set(database.tables())
