"""Revision 0013 adds the account_export table beside users with rows, and takes it away again."""

import pytest
from sqlalchemy import func
from sqlalchemy.exc import IntegrityError

from tests.migrations import note, user
from tests.migrations.revisions import rows_at, under_test

REVISION, PARENT, pytestmark = under_test("0013")
user_at_parent = rows_at(PARENT, user=user(), note=note("kept"))


def export(status, key=None, size=None):
    """Return an account_export row of user 1."""
    return {"user_id": 1, "status": status, "key": key, "size": size, "created_at": func.now()}


def test_0013_adds_exports_and_keeps_users_and_notes(user_at_parent, alembic_runner, database):
    notes = database.rows("SELECT id, title, content, user_id FROM note")
    alembic_runner.migrate_up_to(REVISION)
    assert database.rows("SELECT id, title, content, user_id FROM note") == notes
    alembic_runner.insert_into("account_export", export("done", "exports/1/a.zip", 10))
    alembic_runner.insert_into("account_export", export("queued"))
    assert database.rows("SELECT count(*) AS n FROM account_export") == [{"n": 2}]


def test_0013_allows_one_export_in_flight_per_user(user_at_parent, alembic_runner):
    alembic_runner.migrate_up_to(REVISION)
    alembic_runner.insert_into("account_export", export("queued"))
    with pytest.raises(IntegrityError):
        alembic_runner.insert_into("account_export", export("running"))


def test_0013_refuses_a_done_export_without_its_archive(user_at_parent, alembic_runner):
    alembic_runner.migrate_up_to(REVISION)
    with pytest.raises(IntegrityError):
        alembic_runner.insert_into("account_export", export("done"))


def test_0013_downgrades_to_its_parent(user_at_parent, alembic_runner, database):
    alembic_runner.migrate_up_to(REVISION)
    alembic_runner.insert_into("account_export", export("done", "exports/1/a.zip", 10))
    alembic_runner.migrate_down_to(PARENT)
    assert database.rows("SELECT to_regclass('account_export') AS t") == [{"t": None}]
    assert database.rows("SELECT title FROM note") == [{"title": "kept"}]
