"""Revision 0025 adds the access_token table (personal access tokens), and goes back."""

from sqlalchemy import func

from tests.migrations import note, user
from tests.migrations.revisions import adds_a_table, drops_a_table, rows_at, under_test

REVISION, PARENT, pytestmark = under_test("0025")
account_at_parent = rows_at(PARENT, user=user(), note=note("one"))


def token(digest="h1", **columns):
    """Return an access_token row for `insert_into`."""
    row = {
        "user_id": 1,
        "name": "laptop",
        "scope": "read",
        "secret_hash": digest,
        "created_at": func.now(),
        "expires_at": func.now() + func.make_interval(0, 0, 0, 30),
    }
    return {**row, **columns}


def test_0025_adds_the_table_and_deleting_an_account_deletes_its_tokens(
    account_at_parent, alembic_runner, database
):
    a_year_and_a_day = func.now() + func.make_interval(0, 0, 0, 366)
    refused = {
        "uq_access_token_secret_hash": token(),
        "ck_access_token_scope": token("h2", scope="admin"),
        "ck_access_token_expires_within_a_year": token("h3", expires_at=a_year_and_a_day),
    }
    cascade = 'DELETE FROM note; DELETE FROM "user"'
    adds_a_table(alembic_runner, database, REVISION, "access_token", token(), refused, cascade)


def test_0025_downgrade_drops_the_table_and_keeps_the_accounts(
    account_at_parent, alembic_runner, database
):
    drops_a_table(alembic_runner, database, REVISION, "access_token", token())
