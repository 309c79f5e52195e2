"""What every revision's test module (tests/migrations/test_00NN_*.py) shares, so that the
module keeps only what is its own: the rows it starts from and what it asserts.

    REVISION, PARENT, pytestmark = under_test("0021")
    notes_at_parent = rows_at(PARENT, user=user(), note=[note("one"), note("two")])

    def test_0021_keeps_every_note(notes_at_parent, alembic_runner, database):
        with kept(database, NOTES):
            alembic_runner.migrate_up_to(REVISION)
"""

from contextlib import contextmanager

import pytest

from devenv.revisions import parent_revision


def under_test(revision):
    """Return the revision, its parent, and the mark that starts each of the module's tests
    on a copy of the template database at the parent (tests/migrations/conftest.py)."""
    parent = parent_revision(revision)
    return revision, parent, pytest.mark.start_at(parent)


def rows_at(revision, **tables):
    """Return a fixture: the database migrated to `revision`, holding each of `tables`' rows
    (a row or a list of rows, by table name), inserted in the order given."""

    @pytest.fixture
    def database_at(alembic_runner):
        alembic_runner.migrate_up_to(revision)
        for table, rows in tables.items():
            alembic_runner.insert_into(table, rows)

    return database_at


@contextmanager
def kept(database, query):
    """Assert that `query` reads the same rows after the block (a migration) as before it;
    the block gets those rows."""
    before = database.rows(query)
    yield before
    assert database.rows(query) == before


ACCOUNTS = 'SELECT id, email, password_hash FROM "user" ORDER BY id'
USERS_AND_NOTES = 'SELECT u.id, u.email, n.title FROM "user" u JOIN note n ON n.user_id = u.id'


def adds_a_table(alembic_runner, database, revision, table, row, refused, cascade):
    """Assert that `revision` adds `table` and keeps the accounts and notes: `row` goes in,
    each row of `refused` is refused by the constraint it is keyed by, and the SQL `cascade`
    (deleting what the row belongs to) deletes the row too."""
    with kept(database, USERS_AND_NOTES):
        alembic_runner.migrate_up_to(revision)
    alembic_runner.insert_into(table, row)
    for constraint, bad_row in refused.items():
        with pytest.raises(Exception, match=constraint):
            alembic_runner.insert_into(table, bad_row)
    database.execute(cascade)
    assert database.rows(f"SELECT * FROM {table}") == []


def drops_a_table(alembic_runner, database, revision, table, row):
    """Assert that going back from `revision` drops `table` (holding `row`) and keeps the
    accounts and notes, and that going up again makes it anew."""
    parent = parent_revision(revision)
    with kept(database, USERS_AND_NOTES):
        alembic_runner.migrate_up_to(revision)
        alembic_runner.insert_into(table, row)
        alembic_runner.migrate_down_to(parent)
    assert table not in database.tables()
    alembic_runner.migrate_up_to(revision)
    assert table in database.tables()
