"""Revision 0032 adds when an account's proofs changed and which share links a recovery
paused, keeps the accounts and their links as they were, and goes back."""

from tests.migrations import user
from tests.migrations.revisions import ACCOUNTS, kept, rows_at, under_test

REVISION, PARENT, pytestmark = under_test("0032")
an_account = rows_at(PARENT, user=user())


def test_0032_adds_its_columns_keeps_accounts_and_goes_back(an_account, alembic_runner, database):
    with kept(database, ACCOUNTS) as before:
        alembic_runner.migrate_up_to(REVISION)
    assert database.rows('SELECT proofs_changed_at FROM "user"') == [{"proofs_changed_at": None}]
    assert {"paused_at", "made_with_second_step"} <= database.columns("note_share")
    alembic_runner.migrate_down_to(PARENT)
    assert database.rows(ACCOUNTS) == before
    assert "proofs_changed_at" not in database.columns("user")
    alembic_runner.migrate_up_to(REVISION)
    assert database.rows(ACCOUNTS) == before
