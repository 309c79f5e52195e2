"""Revisions that let the throttle table count more scopes keep every row and go back down.

0009 added signups (`signup`, `signup-client`); 0016 added note writes and sign-ins in total
(`note-writes`, `login`); 0018 mail sent to one address on others' behalf
(`mail-recipient`). Each widens the table's CHECK on `scope`, and its downgrade forgets
only the rows of the scopes it added.
"""

import pytest
from sqlalchemy.exc import IntegrityError

from devenv.revisions import parent_revision
from tests.migrations import counted

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


def rows(database):
    return database.rows("SELECT scope, subject FROM login_throttle ORDER BY scope, subject")


@pytest.fixture(
    params=[
        pytest.param(name, marks=pytest.mark.start_at(parent_revision(name)), id=name)
        for name in sorted(REVISIONS)
    ]
)
def revision(request, alembic_runner):
    """(revision, its parent, the scopes it adds); the database at its parent, rows counted."""
    name = request.param
    counted_before, added = REVISIONS[name]
    alembic_runner.migrate_up_to(parent_revision(name))
    alembic_runner.insert_into(
        "login_throttle", [counted(scope, subject) for scope, subject in counted_before]
    )
    return name, parent_revision(name), added


def test_the_revision_counts_its_new_scopes_beside_the_rows_it_keeps(
    revision, alembic_runner, database
):
    name, _, added = revision
    kept = rows(database)
    with pytest.raises(IntegrityError, match="scope"):
        alembic_runner.insert_into("login_throttle", counted(*added[0]))
    alembic_runner.migrate_up_to(name)
    assert rows(database) == kept
    alembic_runner.insert_into("login_throttle", [counted(*row) for row in added])
    with pytest.raises(IntegrityError, match="scope"):
        alembic_runner.insert_into("login_throttle", counted("anything", "x"))


def test_the_downgrade_forgets_the_new_scopes_and_keeps_the_rest(
    revision, alembic_runner, database
):
    name, parent, added = revision
    kept = rows(database)
    alembic_runner.migrate_up_to(name)
    alembic_runner.insert_into("login_throttle", [counted(*row) for row in added])
    alembic_runner.migrate_down_to(parent)
    assert rows(database) == kept
    with pytest.raises(IntegrityError, match="scope"):
        alembic_runner.insert_into("login_throttle", counted(*added[0]))
    alembic_runner.migrate_up_to(name)
    assert alembic_runner.current == name
