"""Revision 0028 adds the passkeys' table beside the accounts it leaves alone, and goes back."""

import pytest
from sqlalchemy import func

from devenv.revisions import parent_revision
from tests.migrations import user

REVISION = "0028"
PARENT = parent_revision(REVISION)
pytestmark = pytest.mark.start_at(PARENT)
USERS = 'SELECT id, email, password_hash FROM "user" ORDER BY id'
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


def test_0028_adds_passkeys_keeps_the_accounts_and_goes_back(alembic_runner, database):
    alembic_runner.migrate_up_to(PARENT)
    alembic_runner.insert_into("user", user())
    before = database.rows(USERS)
    alembic_runner.migrate_up_to(REVISION)
    assert database.rows(USERS) == before
    alembic_runner.insert_into("passkey", PASSKEY)
    with pytest.raises(Exception, match="uq_passkey_credential_id"):  # one account per credential
        alembic_runner.insert_into("passkey", PASSKEY)
    database.execute('DELETE FROM "user"')  # an account's passkeys go with it
    assert database.rows("SELECT count(*) AS n FROM passkey") == [{"n": 0}]
    alembic_runner.migrate_down_to(PARENT)
    assert "passkey" not in database.tables()
    alembic_runner.migrate_up_to(REVISION)
    assert "passkey" in database.tables()
