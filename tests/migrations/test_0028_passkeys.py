"""Revision 0028 adds the passkeys' table beside the accounts it leaves alone, and goes back."""

import pytest
from sqlalchemy import func

from tests.migrations import user
from tests.migrations.revisions import ACCOUNTS, kept, rows_at, under_test

REVISION, PARENT, pytestmark = under_test("0028")
an_account = rows_at(PARENT, user=user())
PASSKEY = {
    "user_id": 1,
    "credential_id": b"\x01\x02",
    "public_key": b"\xa5",
    "user_handle": b"\x00" * 32,
    "name": "Phone",
    "sign_count": 0,
    "answered_challenge_at": 0,
    "created_at": func.now(),
}


def test_0028_adds_passkeys_keeps_the_accounts_and_goes_back(an_account, alembic_runner, database):
    with kept(database, ACCOUNTS):
        alembic_runner.migrate_up_to(REVISION)
    alembic_runner.insert_into("passkey", PASSKEY)
    with pytest.raises(Exception, match="uq_passkey_credential_id"):  # one account per credential
        alembic_runner.insert_into("passkey", PASSKEY)
    database.execute('DELETE FROM "user"')  # an account's passkeys go with it
    assert database.rows("SELECT count(*) AS n FROM passkey") == [{"n": 0}]
    alembic_runner.migrate_down_to(PARENT)
    assert "passkey" not in database.tables()
    alembic_runner.migrate_up_to(REVISION)
    assert "passkey" in database.tables()
