"""Revision 0015 gives every user a language (none: the browser decides) and a time zone (UTC)."""

import pytest
from sqlalchemy.exc import IntegrityError

from tests.migrations import user
from tests.migrations.revisions import kept, rows_at, under_test

REVISION, PARENT, pytestmark = under_test("0015")
USERS = 'SELECT id, email, nickname, password_hash, created_at, image_url FROM "user" ORDER BY id'
# Two users, one of them with a Korean nickname.
users_before_0015 = rows_at(
    PARENT,
    user=[
        user("ann@example.com", "ann", password_hash="argon-hash"),
        user("min@example.com", "김민지", password_hash="argon-hash"),
    ],
)


def test_0015_gives_old_users_no_language_and_utc_and_keeps_them(
    users_before_0015, alembic_runner, database
):
    with kept(database, USERS):
        alembic_runner.migrate_up_to(REVISION)
    assert database.rows('SELECT nickname, language, time_zone FROM "user" ORDER BY id') == [
        {"nickname": "ann", "language": None, "time_zone": "UTC"},
        {"nickname": "김민지", "language": None, "time_zone": "UTC"},
    ]


def test_0015_lets_the_previous_release_insert_users_as_before(
    users_before_0015, alembic_runner, database
):
    alembic_runner.migrate_up_to(REVISION)
    bob = user("bob@example.com", "bob", password_hash="argon-hash")
    alembic_runner.insert_into("user", bob)  # names neither column
    assert database.rows("SELECT language, time_zone FROM \"user\" WHERE nickname = 'bob'") == [
        {"language": None, "time_zone": "UTC"}
    ]


def test_0015_time_zone_cannot_be_null(users_before_0015, alembic_runner, database):
    alembic_runner.migrate_up_to(REVISION)
    with pytest.raises(IntegrityError, match="time_zone"):
        database.execute('UPDATE "user" SET time_zone = NULL')


def test_0015_downgrades_and_upgrades_again_keeping_every_user(
    users_before_0015, alembic_runner, database
):
    with kept(database, USERS) as before:
        alembic_runner.migrate_up_to(REVISION)
        alembic_runner.migrate_down_to(PARENT)
    assert {"language", "time_zone"}.isdisjoint(database.columns("user"))
    alembic_runner.migrate_up_to(REVISION)
    database.execute("UPDATE \"user\" SET language = 'ko', time_zone = 'Asia/Seoul' WHERE id = 2")
    alembic_runner.migrate_down_to(PARENT)
    alembic_runner.migrate_up_to(REVISION)
    assert alembic_runner.current == REVISION
    assert database.rows(USERS) == before
