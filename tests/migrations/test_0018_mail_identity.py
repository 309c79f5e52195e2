"""Revision 0018 lets a mailed link secure an account or remove an unconfirmed one, and undoes it.

It widens `mail_token.purpose` to `secure` and `remove` (the throttle scope it adds is
tested with the other scopes, in tests/migrations/test_throttle_scopes.py).
"""

from datetime import timedelta

import pytest
from sqlalchemy.exc import IntegrityError

from tests.migrations import mail_token, user
from tests.migrations.revisions import rows_at, under_test

REVISION, PARENT, pytestmark = under_test("0018")
ANN = user("ann@example.com", email_key="ann@example.com", nickname_key="ann", time_zone="UTC")


def token(token_hash, purpose):
    """Return a mail_token row of user 1, valid for a day."""
    return mail_token(token_hash, purpose, "ann@example.com", valid_for=timedelta(days=1))


def purposes(database):
    return [row["purpose"] for row in database.rows("SELECT purpose FROM mail_token ORDER BY id")]


# An account and a pending verification link.
before_0018 = rows_at(PARENT, user=ANN, mail_token=token("a", "verify"))


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
