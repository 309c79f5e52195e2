"""Revision 0018 lets a mailed link secure an account or remove an unconfirmed one, and undoes it.

It widens `mail_token.purpose` to `secure` and `remove` (the throttle scope it adds is
tested with the other scopes, in test_throttle_scope_migrations.py).
"""

import pytest
from sqlalchemy.exc import IntegrityError

from tests.revisions import parent_of

REVISION = "0018"
USER = (
    'INSERT INTO "user" (id, email, nickname, password_hash, email_key, nickname_key,'
    " created_at, time_zone) OVERRIDING SYSTEM VALUE"
    " VALUES (1, 'ann@example.com', 'ann', 'x', 'ann@example.com', 'ann', now(), 'UTC')"
)
TOKEN = (
    "INSERT INTO mail_token (token_hash, user_id, purpose, email, created_at, expires_at)"
    " VALUES (:token_hash, 1, :purpose, 'ann@example.com', now(), now() + interval '1 day')"
)


def purposes(schema):
    return [row["purpose"] for row in schema.rows("SELECT purpose FROM mail_token ORDER BY id")]


@pytest.fixture
def before_0018(scratch_schema):
    """A database at 0018's parent with an account and a pending verification link."""
    scratch_schema.upgrade(parent_of(REVISION))
    scratch_schema.execute(USER)
    scratch_schema.execute(TOKEN, token_hash="a", purpose="verify")
    return scratch_schema


def test_0018_keeps_every_link_and_takes_the_new_purposes(before_0018):
    schema = before_0018
    with pytest.raises(IntegrityError, match="purpose"):
        schema.execute(TOKEN, token_hash="b", purpose="secure")
    schema.upgrade(REVISION)
    assert purposes(schema) == ["verify"]
    schema.execute(TOKEN, token_hash="b", purpose="secure")
    schema.execute(TOKEN, token_hash="c", purpose="remove")
    with pytest.raises(IntegrityError, match="purpose"):
        schema.execute(TOKEN, token_hash="d", purpose="anything")


def test_0018_downgrade_forgets_only_the_new_links(before_0018):
    schema = before_0018
    schema.upgrade(REVISION)
    schema.execute(TOKEN, token_hash="b", purpose="secure")
    schema.downgrade(parent_of(REVISION))
    assert purposes(schema) == ["verify"]
    with pytest.raises(IntegrityError, match="purpose"):
        schema.execute(TOKEN, token_hash="c", purpose="remove")
