"""Revision 0015 gives every user a language (none: the browser decides) and a time zone (UTC)."""

import pytest
from sqlalchemy.exc import IntegrityError

from devenv.revisions import parent_revision
from tests.migrations import user

REVISION = "0015"
PARENT = parent_revision(REVISION)
pytestmark = pytest.mark.start_at(PARENT)
USER_COLUMNS = "id, email, nickname, password_hash, created_at, image_url"


@pytest.fixture
def users_before_0015(alembic_runner):
    """A database just before 0015 with two users, one of them with a Korean nickname."""
    alembic_runner.migrate_up_to(PARENT)
    alembic_runner.insert_into(
        "user",
        [
            user("ann@example.com", "ann", password_hash="argon-hash"),
            user("min@example.com", "김민지", password_hash="argon-hash"),
        ],
    )


def users(database):
    return database.rows(f'SELECT {USER_COLUMNS} FROM "user" ORDER BY id')


def test_0015_gives_old_users_no_language_and_utc_and_keeps_them(
    users_before_0015, alembic_runner, database
):
    before = users(database)
    alembic_runner.migrate_up_to(REVISION)
    assert users(database) == before
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
    before = users(database)
    alembic_runner.migrate_up_to(REVISION)
    alembic_runner.migrate_down_to(PARENT)
    assert {"language", "time_zone"}.isdisjoint(database.columns("user"))
    assert users(database) == before
    alembic_runner.migrate_up_to(REVISION)
    database.execute("UPDATE \"user\" SET language = 'ko', time_zone = 'Asia/Seoul' WHERE id = 2")
    alembic_runner.migrate_down_to(PARENT)
    alembic_runner.migrate_up_to(REVISION)
    assert alembic_runner.current == REVISION
    assert users(database) == before
