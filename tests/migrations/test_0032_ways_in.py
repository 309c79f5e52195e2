"""Revision 0032 adds when an account's proofs changed and which share links a recovery
paused, keeps the accounts and their links as they were, and goes back."""

import pytest

from devenv.revisions import parent_revision
from tests.migrations import user

REVISION = "0032"
PARENT = parent_revision(REVISION)
pytestmark = pytest.mark.start_at(PARENT)
USERS = 'SELECT id, email, password_hash FROM "user" ORDER BY id'


def test_0032_adds_its_columns_keeps_accounts_and_goes_back(alembic_runner, database):
    alembic_runner.migrate_up_to(PARENT)
    alembic_runner.insert_into("user", user())
    before = database.rows(USERS)
    alembic_runner.migrate_up_to(REVISION)
    assert database.rows(USERS) == before
    assert database.rows('SELECT proofs_changed_at FROM "user"') == [{"proofs_changed_at": None}]
    assert {"paused_at", "made_with_second_step"} <= database.columns("note_share")
    alembic_runner.migrate_down_to(PARENT)
    assert database.rows(USERS) == before
    assert "proofs_changed_at" not in database.columns("user")
    alembic_runner.migrate_up_to(REVISION)
    assert database.rows(USERS) == before
