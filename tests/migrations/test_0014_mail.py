"""Revision 0014 verifies existing accounts, adds mailed links and mail throttles, goes back."""

import pytest
from sqlalchemy.exc import IntegrityError

from tests.migrations import counted, mail_token, user
from tests.migrations.revisions import kept, rows_at, under_test

REVISION, PARENT, pytestmark = under_test("0014")
USERS = 'SELECT id, email, nickname, password_hash FROM "user" ORDER BY id'
VERIFIED = 'SELECT email_verified_at IS NOT NULL AS verified FROM "user" ORDER BY id'
# Two accounts and a sign-up counted.
accounts_at_parent = rows_at(
    PARENT,
    user=[user("a@example.com", "ann"), user("b@example.com", "bob")],
    login_throttle=counted("signup", "all"),
)


def test_0014_verifies_existing_accounts_and_those_the_previous_release_adds(
    accounts_at_parent, alembic_runner, database
):
    with kept(database, USERS):
        alembic_runner.migrate_up_to(REVISION)
    assert database.rows(VERIFIED) == [{"verified": True}] * 2
    # The previous release, still serving, inserts without naming the column.
    alembic_runner.insert_into("user", user("c@example.com", "cat"))
    assert database.rows(VERIFIED)[-1] == {"verified": True}


def test_0014_adds_mail_tokens_and_throttle_scopes(accounts_at_parent, alembic_runner):
    with pytest.raises(IntegrityError, match="scope"):
        alembic_runner.insert_into("login_throttle", counted("reset-email", "a@example.com"))
    alembic_runner.migrate_up_to(REVISION)
    for scope in ("reset-email", "reset-client", "mail-account"):
        alembic_runner.insert_into("login_throttle", counted(scope, "x"))
    alembic_runner.insert_into("mail_token", mail_token("h1", "reset"))
    with pytest.raises(IntegrityError, match="purpose"):
        alembic_runner.insert_into("mail_token", mail_token("h2", "anything"))


def test_0014_downgrade_keeps_the_accounts_and_the_sign_ups(
    accounts_at_parent, alembic_runner, database
):
    with kept(database, USERS):
        alembic_runner.migrate_up_to(REVISION)
        alembic_runner.insert_into("login_throttle", counted("reset-client", "192.0.2.1"))
        alembic_runner.insert_into("mail_token", mail_token("h1", "verify"))
        alembic_runner.migrate_down_to(PARENT)
    scopes = database.rows("SELECT scope FROM login_throttle")
    assert scopes == [{"scope": "signup"}]
    with pytest.raises(IntegrityError, match="scope"):
        alembic_runner.insert_into("login_throttle", counted("reset-email", "x"))
    alembic_runner.migrate_up_to(REVISION)
    assert alembic_runner.current == REVISION
