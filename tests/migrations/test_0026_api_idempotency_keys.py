"""Revision 0026 adds the api_idempotency_key table (the API's Idempotency-Key), and goes back."""

from sqlalchemy import func

from tests.migrations import note, user
from tests.migrations.revisions import adds_a_table, drops_a_table, rows_at, under_test

REVISION, PARENT, pytestmark = under_test("0026")
account_at_parent = rows_at(PARENT, user=user(), note=note("one"))


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


def test_0026_adds_the_table_one_key_per_account_gone_with_its_note(
    account_at_parent, alembic_runner, database
):
    refused = {
        "uq_api_idempotency_key_user_id": key(),
        "ck_api_idempotency_key_key_length": key("x" * 256),
    }
    table, cascade = "api_idempotency_key", "DELETE FROM note"
    adds_a_table(alembic_runner, database, REVISION, table, key(), refused, cascade)


def test_0026_downgrade_drops_the_table_and_keeps_the_accounts(
    account_at_parent, alembic_runner, database
):
    drops_a_table(alembic_runner, database, REVISION, "api_idempotency_key", key())
