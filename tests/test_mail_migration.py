"""Revision 0014 verifies existing accounts, adds mailed links and mail throttles, goes back."""

import pytest
from sqlalchemy.exc import IntegrityError

from tests.revisions import parent_of

PARENT = parent_of("0014")
ADD_USER = (
    'INSERT INTO "user" (email, nickname, password_hash, created_at)'
    " VALUES (:email, :nickname, 'x', now())"
)
THROTTLE = (
    "INSERT INTO login_throttle (scope, subject, failures, window_started_at)"
    " VALUES (:scope, :subject, 1, now())"
)
TOKEN = (
    "INSERT INTO mail_token (token_hash, user_id, purpose, email, created_at, expires_at)"
    " VALUES (:hash, 1, :purpose, 'a@example.com', now(), now())"
)


@pytest.fixture
def accounts_at_parent(scratch_schema):
    """A database at 0014's parent with two accounts and a sign-up counted."""
    scratch_schema.upgrade(PARENT)
    scratch_schema.execute(ADD_USER, email="a@example.com", nickname="ann")
    scratch_schema.execute(ADD_USER, email="b@example.com", nickname="bob")
    scratch_schema.execute(THROTTLE, scope="signup", subject="all")
    return scratch_schema


def users(schema):
    return schema.rows('SELECT id, email, nickname, password_hash FROM "user" ORDER BY id')


def test_0014_verifies_existing_accounts_and_those_the_previous_release_adds(accounts_at_parent):
    before = users(accounts_at_parent)
    accounts_at_parent.upgrade("0014")
    assert users(accounts_at_parent) == before
    verified = 'SELECT email_verified_at IS NOT NULL AS verified FROM "user" ORDER BY id'
    assert accounts_at_parent.rows(verified) == [{"verified": True}] * 2
    # The previous release, still serving, inserts without naming the column.
    accounts_at_parent.execute(ADD_USER, email="c@example.com", nickname="cat")
    assert accounts_at_parent.rows(verified)[-1] == {"verified": True}


def test_0014_adds_mail_tokens_and_throttle_scopes(accounts_at_parent):
    with pytest.raises(IntegrityError, match="scope"):
        accounts_at_parent.execute(THROTTLE, scope="reset-email", subject="a@example.com")
    accounts_at_parent.upgrade("0014")
    for scope in ("reset-email", "reset-client", "mail-account"):
        accounts_at_parent.execute(THROTTLE, scope=scope, subject="x")
    accounts_at_parent.execute(TOKEN, hash="h1", purpose="reset")
    with pytest.raises(IntegrityError, match="purpose"):
        accounts_at_parent.execute(TOKEN, hash="h2", purpose="anything")


def test_0014_downgrade_keeps_the_accounts_and_the_sign_ups(accounts_at_parent):
    before = users(accounts_at_parent)
    accounts_at_parent.upgrade("0014")
    accounts_at_parent.execute(THROTTLE, scope="reset-client", subject="192.0.2.1")
    accounts_at_parent.execute(TOKEN, hash="h1", purpose="verify")
    accounts_at_parent.downgrade(PARENT)
    assert users(accounts_at_parent) == before
    scopes = accounts_at_parent.rows("SELECT scope FROM login_throttle")
    assert scopes == [{"scope": "signup"}]
    with pytest.raises(IntegrityError, match="scope"):
        accounts_at_parent.execute(THROTTLE, scope="reset-email", subject="x")
    accounts_at_parent.upgrade("0014")
    assert accounts_at_parent.current() == "0014"
