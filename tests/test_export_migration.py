"""Migration 0013 adds the account_export table beside users with rows, and takes it away again."""

import importlib.util
from pathlib import Path

import pytest
from sqlalchemy.exc import IntegrityError

REVISION_FILE = (
    Path(__file__).resolve().parent.parent / "migrations" / "versions" / "0013_account_exports.py"
)


def revision_module():
    """Load the revision file, to read its parent (the orchestrator may relink it)."""
    spec = importlib.util.spec_from_file_location("revision_0013", REVISION_FILE)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


PARENT = revision_module().down_revision
INSERT_EXPORT = (
    "INSERT INTO account_export (user_id, status, key, size, created_at)"
    " VALUES (1, :status, :key, :size, now())"
)


@pytest.fixture
def user_at_parent(scratch_schema):
    """A database at the revision before 0013, holding a user with a note."""
    scratch_schema.upgrade(PARENT)
    scratch_schema.execute(
        'INSERT INTO "user" (email, nickname, password_hash, created_at)'
        " VALUES ('a@example.com', 'ann', 'x', now())"
    )
    scratch_schema.execute(
        "INSERT INTO note (title, content, created_at, updated_at, user_id)"
        " VALUES ('kept', 'body', now(), now(), 1)"
    )
    return scratch_schema


def test_0013_adds_exports_and_keeps_users_and_notes(user_at_parent):
    notes = user_at_parent.rows("SELECT id, title, content, user_id FROM note")
    user_at_parent.upgrade("0013")
    assert user_at_parent.rows("SELECT id, title, content, user_id FROM note") == notes
    user_at_parent.execute(INSERT_EXPORT, status="done", key="exports/1/a.zip", size=10)
    user_at_parent.execute(INSERT_EXPORT, status="queued", key=None, size=None)
    assert user_at_parent.rows("SELECT count(*) AS n FROM account_export") == [{"n": 2}]


def test_0013_allows_one_export_in_flight_per_user(user_at_parent):
    user_at_parent.upgrade("0013")
    user_at_parent.execute(INSERT_EXPORT, status="queued", key=None, size=None)
    with pytest.raises(IntegrityError):
        user_at_parent.execute(INSERT_EXPORT, status="running", key=None, size=None)


def test_0013_refuses_a_done_export_without_its_archive(user_at_parent):
    user_at_parent.upgrade("0013")
    with pytest.raises(IntegrityError):
        user_at_parent.execute(INSERT_EXPORT, status="done", key=None, size=None)


def test_0013_downgrades_to_its_parent(user_at_parent):
    user_at_parent.upgrade("0013")
    user_at_parent.execute(INSERT_EXPORT, status="done", key="exports/1/a.zip", size=10)
    user_at_parent.downgrade(PARENT)
    assert user_at_parent.rows("SELECT to_regclass('account_export') AS t") == [{"t": None}]
    assert user_at_parent.rows("SELECT title FROM note") == [{"title": "kept"}]
