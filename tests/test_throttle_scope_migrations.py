"""Revisions that let the throttle table count more scopes keep every row and go back down.

0009 added signups (`signup`, `signup-client`); 0016 added note writes and sign-ins in total
(`note-writes`, `login`); 0018 mail sent to one address on others' behalf
(`mail-recipient`). Each widens the table's CHECK on `scope`, and its downgrade forgets
only the rows of the scopes it added.
"""

import pytest
from sqlalchemy.exc import IntegrityError

from tests.revisions import parent_of

INSERT = (
    "INSERT INTO login_throttle (scope, subject, failures, window_started_at)"
    " VALUES (:scope, :subject, 1, now())"
)
# revision: (rows counted before it, rows of the scopes it adds)
REVISIONS = {
    "0009": (
        [("email", "ann@example.com"), ("client", "192.0.2.1")],
        [("signup", "all"), ("signup-client", "192.0.2.1")],
    ),
    "0016": (
        [("email", "ann@example.com"), ("signup", "all")],
        [("note-writes", "7"), ("login", "all")],
    ),
    "0018": (
        [("note-writes", "7"), ("login", "all")],
        [("mail-recipient", "victim@example.com")],
    ),
}


def rows(schema):
    return schema.rows("SELECT scope, subject FROM login_throttle ORDER BY scope, subject")


@pytest.fixture(params=sorted(REVISIONS))
def revision(request, scratch_schema):
    """(revision, its parent, the scopes it adds, a database at its parent with rows counted)."""
    revision = request.param
    counted, added = REVISIONS[revision]
    scratch_schema.upgrade(parent_of(revision))
    for scope, subject in counted:
        scratch_schema.execute(INSERT, scope=scope, subject=subject)
    return revision, parent_of(revision), added, scratch_schema


def test_the_revision_counts_its_new_scopes_beside_the_rows_it_keeps(revision):
    name, _, added, schema = revision
    kept = rows(schema)
    with pytest.raises(IntegrityError, match="scope"):
        schema.execute(INSERT, scope=added[0][0], subject=added[0][1])
    schema.upgrade(name)
    assert rows(schema) == kept
    for scope, subject in added:
        schema.execute(INSERT, scope=scope, subject=subject)
    with pytest.raises(IntegrityError, match="scope"):
        schema.execute(INSERT, scope="anything", subject="x")


def test_the_downgrade_forgets_the_new_scopes_and_keeps_the_rest(revision):
    name, parent, added, schema = revision
    kept = rows(schema)
    schema.upgrade(name)
    for scope, subject in added:
        schema.execute(INSERT, scope=scope, subject=subject)
    schema.downgrade(parent)
    assert rows(schema) == kept
    with pytest.raises(IntegrityError, match="scope"):
        schema.execute(INSERT, scope=added[0][0], subject=added[0][1])
    schema.upgrade(name)
    assert schema.current() == name
