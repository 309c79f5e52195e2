"""Revision 0027 adds the second step's tables (an authenticator app per account, recovery
codes, the throttle of wrong codes) beside the accounts it leaves alone, and goes back."""

from sqlalchemy import func

from tests.migrations import user
from tests.migrations.revisions import ACCOUNTS, kept, rows_at, under_test

REVISION, PARENT, pytestmark = under_test("0027")
an_account = rows_at(PARENT, user=user())
TABLES = ("totp_credential", "recovery_code", "two_step_throttle")


def test_0027_adds_its_tables_keeps_the_accounts_and_goes_back(
    an_account, alembic_runner, database
):
    with kept(database, ACCOUNTS):
        alembic_runner.migrate_up_to(REVISION)
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
