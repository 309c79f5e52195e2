"""Revision 0016 lets the throttle table count note writes and sign-ins in total; rows kept."""

import pytest
from sqlalchemy.exc import IntegrityError

from tests.revisions import parent_of

PARENT = parent_of("0016")
INSERT = (
    "INSERT INTO login_throttle (scope, subject, failures, window_started_at)"
    " VALUES (:scope, :subject, 1, now())"
)


def rows(schema):
    return schema.rows("SELECT scope, subject FROM login_throttle ORDER BY scope, subject")


@pytest.fixture
def before_0016(scratch_schema):
    """A database at 0016's parent, with a login failure and a signup counted."""
    scratch_schema.upgrade(PARENT)
    scratch_schema.execute(INSERT, scope="email", subject="ann@example.com")
    scratch_schema.execute(INSERT, scope="signup", subject="all")
    return scratch_schema


def test_0016_counts_note_writes_and_sign_ins_beside_the_rows_it_keeps(before_0016):
    kept = rows(before_0016)
    with pytest.raises(IntegrityError, match="scope"):
        before_0016.execute(INSERT, scope="note-writes", subject="7")
    before_0016.upgrade("0016")
    assert rows(before_0016) == kept
    before_0016.execute(INSERT, scope="note-writes", subject="7")
    before_0016.execute(INSERT, scope="login", subject="all")
    with pytest.raises(IntegrityError, match="scope"):
        before_0016.execute(INSERT, scope="anything", subject="x")


def test_0016_downgrade_forgets_the_new_scopes_and_keeps_the_rest(before_0016):
    kept = rows(before_0016)
    before_0016.upgrade("0016")
    before_0016.execute(INSERT, scope="login", subject="all")
    before_0016.downgrade(PARENT)
    assert rows(before_0016) == kept
    with pytest.raises(IntegrityError, match="scope"):
        before_0016.execute(INSERT, scope="login", subject="all")
    before_0016.upgrade("0016")
    assert before_0016.current() == "0016"
