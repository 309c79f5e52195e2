"""Revision 0009 lets the throttle table count signups, keeps every row, and goes back down."""

import pytest
from sqlalchemy.exc import IntegrityError

from tests.revisions import parent_of

PARENT = parent_of("0009")
INSERT = (
    "INSERT INTO login_throttle (scope, subject, failures, window_started_at)"
    " VALUES (:scope, :subject, 1, now())"
)


def rows(schema):
    return schema.rows("SELECT scope, subject FROM login_throttle ORDER BY scope, subject")


@pytest.fixture
def before_0009(scratch_schema):
    """A database at 0009's parent, with a failed login counted for an email and a client."""
    scratch_schema.upgrade(PARENT)
    scratch_schema.execute(INSERT, scope="email", subject="ann@example.com")
    scratch_schema.execute(INSERT, scope="client", subject="192.0.2.1")
    return scratch_schema


def test_0009_counts_signups_beside_the_logins_it_keeps(before_0009):
    logins = rows(before_0009)
    with pytest.raises(IntegrityError, match="scope"):
        before_0009.execute(INSERT, scope="signup", subject="all")
    before_0009.upgrade("0009")
    assert rows(before_0009) == logins
    before_0009.execute(INSERT, scope="signup", subject="all")
    before_0009.execute(INSERT, scope="signup-client", subject="192.0.2.1")
    with pytest.raises(IntegrityError, match="scope"):
        before_0009.execute(INSERT, scope="anything", subject="x")


def test_0009_downgrade_forgets_signups_and_keeps_the_logins(before_0009):
    logins = rows(before_0009)
    before_0009.upgrade("0009")
    before_0009.execute(INSERT, scope="signup", subject="all")
    before_0009.downgrade(PARENT)
    assert rows(before_0009) == logins
    with pytest.raises(IntegrityError, match="scope"):
        before_0009.execute(INSERT, scope="signup", subject="all")
    before_0009.upgrade("0009")
    assert before_0009.current() == "0009"
