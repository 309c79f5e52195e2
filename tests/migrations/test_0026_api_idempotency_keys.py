"""Revision 0026 adds the api_idempotency_key table (the API's Idempotency-Key), and goes back."""

import pytest
from sqlalchemy import func

from devenv.revisions import parent_revision
from tests.migrations import note, user

REVISION = "0026"
PARENT = parent_revision(REVISION)
pytestmark = pytest.mark.start_at(PARENT)
USERS_AND_NOTES = 'SELECT u.id, u.email, n.title FROM "user" u JOIN note n ON n.user_id = u.id'


def key(name="k1", **columns):
    """Return an api_idempotency_key row for `insert_into`."""
    row = {
        "user_id": 1,
        "key": name,
        "request_digest": "d",
        "note_id": 1,
        "created_at": func.now(),
    }
    return {**row, **columns}


@pytest.fixture
def account_at_parent(alembic_runner):
    """A database at 0026's parent with an account and a note."""
    alembic_runner.migrate_up_to(PARENT)
    alembic_runner.insert_into("user", user())
    alembic_runner.insert_into("note", note("one"))


def test_0026_adds_the_table_one_key_per_account_gone_with_its_note(
    account_at_parent, alembic_runner, database
):
    before = database.rows(USERS_AND_NOTES)
    alembic_runner.migrate_up_to(REVISION)
    assert database.rows(USERS_AND_NOTES) == before
    alembic_runner.insert_into("api_idempotency_key", key())
    with pytest.raises(Exception, match="uq_api_idempotency_key_user_id"):
        alembic_runner.insert_into("api_idempotency_key", key())
    with pytest.raises(Exception, match="ck_api_idempotency_key_key_length"):
        alembic_runner.insert_into("api_idempotency_key", key("x" * 256))
    database.execute("DELETE FROM note")
    assert database.rows("SELECT id FROM api_idempotency_key") == []


def test_0026_downgrade_drops_the_table_and_keeps_the_accounts(
    account_at_parent, alembic_runner, database
):
    before = database.rows(USERS_AND_NOTES)
    alembic_runner.migrate_up_to(REVISION)
    alembic_runner.insert_into("api_idempotency_key", key())
    alembic_runner.migrate_down_to(PARENT)
    assert "api_idempotency_key" not in database.tables()
    assert database.rows(USERS_AND_NOTES) == before
    alembic_runner.migrate_up_to(REVISION)
    assert "api_idempotency_key" in database.tables()
