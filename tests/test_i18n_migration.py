"""Migration 0015 gives every user a language (none: the browser decides) and a time zone (UTC)."""

import pytest
from alembic.script import ScriptDirectory
from sqlalchemy.exc import IntegrityError

REVISION = "0015"
INSERT_USER = (
    'INSERT INTO "user" (email, nickname, password_hash, created_at)'
    " VALUES (:email, :nickname, 'argon-hash', now())"
)
USER_COLUMNS = "id, email, nickname, password_hash, created_at, image_url"


def parent(schema):
    """Return the revision 0015 builds on, as its file says."""
    with schema.app.app_context():
        config = schema.app.extensions["migrate"].migrate.get_config()
    return ScriptDirectory.from_config(config).get_revision(REVISION).down_revision


@pytest.fixture
def users_before_0015(scratch_schema):
    """A database just before 0015 with two users, one of them with a Korean nickname."""
    scratch_schema.upgrade(parent(scratch_schema))
    scratch_schema.execute(INSERT_USER, email="ann@example.com", nickname="ann")
    scratch_schema.execute(INSERT_USER, email="min@example.com", nickname="김민지")
    return scratch_schema


def users(schema):
    return schema.rows(f'SELECT {USER_COLUMNS} FROM "user" ORDER BY id')


def test_0015_gives_old_users_no_language_and_utc_and_keeps_them(users_before_0015):
    schema = users_before_0015
    before = users(schema)
    schema.upgrade(REVISION)
    assert users(schema) == before
    assert schema.rows('SELECT nickname, language, time_zone FROM "user" ORDER BY id') == [
        {"nickname": "ann", "language": None, "time_zone": "UTC"},
        {"nickname": "김민지", "language": None, "time_zone": "UTC"},
    ]


def test_0015_lets_the_previous_release_insert_users_as_before(users_before_0015):
    schema = users_before_0015
    schema.upgrade(REVISION)
    schema.execute(INSERT_USER, email="bob@example.com", nickname="bob")  # names neither column
    assert schema.rows("SELECT language, time_zone FROM \"user\" WHERE nickname = 'bob'") == [
        {"language": None, "time_zone": "UTC"}
    ]


def test_0015_time_zone_cannot_be_null(users_before_0015):
    schema = users_before_0015
    schema.upgrade(REVISION)
    with pytest.raises(IntegrityError, match="time_zone"):
        schema.execute('UPDATE "user" SET time_zone = NULL')


def test_0015_downgrades_and_upgrades_again_keeping_every_user(users_before_0015):
    schema = users_before_0015
    before = users(schema)
    schema.upgrade(REVISION)
    schema.downgrade(parent(schema))
    assert {"language", "time_zone"}.isdisjoint(schema.columns("user"))
    assert users(schema) == before
    schema.upgrade(REVISION)
    schema.execute("UPDATE \"user\" SET language = 'ko', time_zone = 'Asia/Seoul' WHERE id = 2")
    schema.downgrade(parent(schema))
    schema.upgrade(REVISION)
    assert schema.current() == REVISION
    assert users(schema) == before
