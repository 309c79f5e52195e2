"""Revision 0025 adds the access_token table (personal access tokens), and goes back."""

import pytest
from sqlalchemy import func

from devenv.revisions import parent_revision
from tests.migrations import note, user

REVISION = "0025"
PARENT = parent_revision(REVISION)
pytestmark = pytest.mark.start_at(PARENT)
USERS_AND_NOTES = 'SELECT u.id, u.email, n.title FROM "user" u JOIN note n ON n.user_id = u.id'


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


@pytest.fixture
def account_at_parent(alembic_runner):
    """A database at 0025's parent with an account and a note."""
    alembic_runner.migrate_up_to(PARENT)
    alembic_runner.insert_into("user", user())
    alembic_runner.insert_into("note", note("one"))


def test_0025_adds_the_table_and_deleting_an_account_deletes_its_tokens(
    account_at_parent, alembic_runner, database
):
    before = database.rows(USERS_AND_NOTES)
    alembic_runner.migrate_up_to(REVISION)
    assert database.rows(USERS_AND_NOTES) == before
    alembic_runner.insert_into("access_token", token())
    with pytest.raises(Exception, match="uq_access_token_secret_hash"):
        alembic_runner.insert_into("access_token", token())
    with pytest.raises(Exception, match="ck_access_token_scope"):
        alembic_runner.insert_into("access_token", token("h2", scope="admin"))
    with pytest.raises(Exception, match="ck_access_token_expires_within_a_year"):
        alembic_runner.insert_into(
            "access_token",
            token("h3", expires_at=func.now() + func.make_interval(0, 0, 0, 366)),
        )
    database.execute('DELETE FROM note; DELETE FROM "user"')
    assert database.rows("SELECT id FROM access_token") == []


def test_0025_downgrade_drops_the_table_and_keeps_the_accounts(
    account_at_parent, alembic_runner, database
):
    before = database.rows(USERS_AND_NOTES)
    alembic_runner.migrate_up_to(REVISION)
    alembic_runner.insert_into("access_token", token())
    alembic_runner.migrate_down_to(PARENT)
    assert "access_token" not in database.tables()
    assert database.rows(USERS_AND_NOTES) == before
    alembic_runner.migrate_up_to(REVISION)
    assert "access_token" in database.tables()
