"""Revision 0035 records how each second step was made and how an address came, keeps the
accounts and their second steps as they were, and goes back."""

from sqlalchemy import func

from tests.migrations import user
from tests.migrations.revisions import ACCOUNTS, kept, rows_at, under_test

REVISION, PARENT, pytestmark = under_test("0035")
an_account = rows_at(
    PARENT,
    user=user(),
    recovery_code={"user_id": 1, "code_hash": "c" * 64, "created_at": func.now()},
)
CODES = "SELECT user_id, code_hash, used_at FROM recovery_code ORDER BY id"


def test_0035_adds_its_columns_keeps_second_steps_and_goes_back(
    an_account, alembic_runner, database
):
    with kept(database, ACCOUNTS) as before, kept(database, CODES) as codes:
        alembic_runner.migrate_up_to(REVISION)
    assert database.rows("SELECT chain_started_at FROM recovery_code") == [
        {"chain_started_at": None}
    ]
    for table in ("passkey", "totp_credential"):
        assert "chain_started_at" in database.columns(table)
    assert "arrived_with_second_step" in database.columns("address_hold")
    alembic_runner.migrate_down_to(PARENT)
    assert database.rows(ACCOUNTS) == before
    assert database.rows(CODES) == codes
    assert "chain_started_at" not in database.columns("passkey")
    assert "arrived_with_second_step" not in database.columns("address_hold")
    alembic_runner.migrate_up_to(REVISION)
    assert database.rows(ACCOUNTS) == before
