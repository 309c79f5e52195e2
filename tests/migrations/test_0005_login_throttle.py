"""Revision 0005 adds the login throttle beside users, sessions and notes, and drops it."""

import pytest
from sqlalchemy import func
from sqlalchemy.exc import IntegrityError

from tests.migrations import counted, note, user
from tests.migrations.revisions import under_test

REVISION, PARENT, pytestmark = under_test("0005")


def test_0005_adds_the_login_throttle_and_keeps_every_row(alembic_runner, database):
    alembic_runner.migrate_up_to(PARENT)
    alembic_runner.insert_into("user", user(password_hash="argon-hash"))
    alembic_runner.insert_into(
        "login_session", {"token_hash": "abc", "user_id": 1, "created_at": func.now()}
    )
    alembic_runner.insert_into("note", note("kept", content="still here"))
    alembic_runner.migrate_up_to(REVISION)
    alembic_runner.insert_into("login_throttle", counted("email", "a@example.com"))
    alembic_runner.insert_into("login_throttle", counted("client", "203.0.113.9"))
    with pytest.raises(IntegrityError, match="pk_login_throttle"):
        alembic_runner.insert_into("login_throttle", counted("email", "a@example.com"))
    with pytest.raises(IntegrityError, match="ck_login_throttle_scope"):
        alembic_runner.insert_into("login_throttle", counted("country", "nowhere"))
    assert database.rows("SELECT count(*) AS n FROM login_throttle") == [{"n": 2}]

    alembic_runner.migrate_down_to(PARENT)
    assert "login_throttle" not in database.tables()
    assert database.rows('SELECT password_hash FROM "user"') == [{"password_hash": "argon-hash"}]
    assert database.rows("SELECT token_hash FROM login_session") == [{"token_hash": "abc"}]
    assert database.rows("SELECT content FROM note") == [{"content": "still here"}]
    alembic_runner.migrate_up_to(REVISION)
    assert database.rows("SELECT count(*) AS n FROM login_throttle") == [{"n": 0}]
