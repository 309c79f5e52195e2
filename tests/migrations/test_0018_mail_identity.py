"""Revision 0018 lets a mailed link secure an account or remove an unconfirmed one, and undoes it.

It widens `mail_token.purpose` to `secure` and `remove` (the throttle scope it adds is
tested with the other scopes, in tests/migrations/test_throttle_scopes.py).
"""

from datetime import timedelta

import pytest
from sqlalchemy import func
from sqlalchemy.exc import IntegrityError

from devenv.revisions import parent_revision

REVISION = "0018"
PARENT = parent_revision(REVISION)
pytestmark = pytest.mark.start_at(PARENT)
USER = (
    'INSERT INTO "user" (id, email, nickname, password_hash, email_key, nickname_key,'
    " created_at, time_zone) OVERRIDING SYSTEM VALUE"
    " VALUES (1, 'ann@example.com', 'ann', 'x', 'ann@example.com', 'ann', now(), 'UTC')"
)


def token(token_hash, purpose):
    """Return a mail_token row of user 1, valid for a day."""
    return {
        "token_hash": token_hash,
        "user_id": 1,
        "purpose": purpose,
        "email": "ann@example.com",
        "created_at": func.now(),
        "expires_at": func.now() + timedelta(days=1),
    }


def purposes(database):
    return [row["purpose"] for row in database.rows("SELECT purpose FROM mail_token ORDER BY id")]


@pytest.fixture
def before_0018(alembic_runner, database):
    """A database at 0018's parent with an account and a pending verification link."""
    alembic_runner.migrate_up_to(PARENT)
    database.execute(USER)
    alembic_runner.insert_into("mail_token", token("a", "verify"))


def test_0018_keeps_every_link_and_takes_the_new_purposes(before_0018, alembic_runner, database):
    with pytest.raises(IntegrityError, match="purpose"):
        alembic_runner.insert_into("mail_token", token("b", "secure"))
    alembic_runner.migrate_up_to(REVISION)
    assert purposes(database) == ["verify"]
    alembic_runner.insert_into("mail_token", token("b", "secure"))
    alembic_runner.insert_into("mail_token", token("c", "remove"))
    with pytest.raises(IntegrityError, match="purpose"):
        alembic_runner.insert_into("mail_token", token("d", "anything"))


def test_0018_downgrade_forgets_only_the_new_links(before_0018, alembic_runner, database):
    alembic_runner.migrate_up_to(REVISION)
    alembic_runner.insert_into("mail_token", token("b", "secure"))
    alembic_runner.migrate_down_to(PARENT)
    assert purposes(database) == ["verify"]
    with pytest.raises(IntegrityError, match="purpose"):
        alembic_runner.insert_into("mail_token", token("c", "remove"))
