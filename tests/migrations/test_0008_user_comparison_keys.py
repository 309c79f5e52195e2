"""Revision 0008 writes the comparison keys of existing users, refuses to merge accounts, and
goes back down (an account the previous release wrote without keys signing in:
tests/test_identity.py)."""

import pytest
from sqlalchemy.exc import IntegrityError

from app.models import comparison_key
from tests.migrations import user
from tests.migrations.revisions import kept, rows_at, under_test

REVISION, PARENT, pytestmark = under_test("0008")
USER_ROWS = 'SELECT id, email, nickname, password_hash FROM "user" ORDER BY id'
USERS = [("Ann@example.com", "Ann"), ("ΟΔΟΣ@example.gr", "Straße"), ("ａｂ@example.jp", "ᏣᎳᎩ")]
before_0008 = rows_at(PARENT)  # as the previous release left it


def add_users(alembic_runner, users):
    alembic_runner.insert_into(
        "user", [user(email, nickname, password_hash="argon-hash") for email, nickname in users]
    )


def test_0008_writes_every_users_keys_and_makes_them_unique(before_0008, alembic_runner, database):
    add_users(alembic_runner, USERS)
    with kept(database, USER_ROWS):
        alembic_runner.migrate_up_to(REVISION)
    keys = database.rows('SELECT email_key, nickname_key FROM "user" ORDER BY id')
    assert keys == [
        {"email_key": comparison_key(email), "nickname_key": comparison_key(nickname)}
        for email, nickname in USERS
    ]
    assert keys[1] == {"email_key": "οδοσ@example.gr", "nickname_key": "strasse"}
    with pytest.raises(IntegrityError, match="uq_user_email_key"):
        alembic_runner.insert_into(
            "user", user("x@example.com", "xx", password_hash="h", email_key="ann@example.com")
        )


def test_0008_stops_naming_the_accounts_it_would_merge_and_reruns_once_resolved(
    before_0008, alembic_runner, database
):
    # Distinct to PostgreSQL's lower(), so the previous release let both exist.
    add_users(alembic_runner, [("straße@example.de", "one"), ("STRASSE@example.de", "two")])
    add_users(alembic_runner, [("b@example.com", "Οδος"), ("c@example.com", "ΟΔΟΣ")])
    with pytest.raises(Exception, match="0008 would merge accounts whose") as stopped:
        alembic_runner.migrate_up_to(REVISION)
    message = str(stopped.value)
    assert "emails of users 1, 2; nicknames of users 3, 4 are the same" in message
    assert "example.de" not in message and "Οδος" not in message
    assert alembic_runner.current == PARENT
    invalid = "SELECT count(*) AS n FROM pg_indexes WHERE indexname LIKE 'uq_user_%_key'"
    assert database.rows(invalid) == [{"n": 0}]

    database.execute("UPDATE \"user\" SET email = 'strasse2@example.de' WHERE id = 2")
    database.execute("UPDATE \"user\" SET nickname = 'odos2' WHERE id = 4")
    alembic_runner.migrate_up_to(REVISION)
    assert alembic_runner.current == REVISION
    assert database.rows('SELECT email_key FROM "user" WHERE id = 2') == [
        {"email_key": "strasse2@example.de"}
    ]


def test_0008_downgrade_drops_the_keys_and_keeps_every_user(before_0008, alembic_runner, database):
    add_users(alembic_runner, USERS)
    with kept(database, USER_ROWS):
        alembic_runner.migrate_up_to(REVISION)
        alembic_runner.migrate_down_to(PARENT)
        assert {"email_key", "nickname_key"}.isdisjoint(database.columns("user"))
