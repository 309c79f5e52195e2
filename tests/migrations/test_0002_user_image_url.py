"""Revision 0002 adds user.image_url to a table with rows, and takes it away again."""

import pytest
from alembic.util import CommandError
from sqlalchemy.exc import IntegrityError

from tests.migrations.revisions import kept, under_test

REVISION, PARENT, pytestmark = under_test("0002")
USER_ROWS = 'SELECT id, email, nickname, password_hash FROM "user" ORDER BY id'
USERS = [
    ("ann@example.com", "ann", "$argon2id$v=19$m=19456,t=2,p=1$c2FsdHNhbHQ$YW5uLWhhc2g"),
    ("bob@example.com", "bob", "$argon2id$v=19$m=19456,t=2,p=1$c2FsdHNhbHQ$Ym9iLWhhc2g"),
    ("cy@example.com", "cy", "$argon2id$v=19$m=19456,t=2,p=1$c2FsdHNhbHQ$Y3ktaGFzaA"),
]
INSERT_USER = (
    'INSERT INTO "user" (email, nickname, password_hash, created_at)'
    " VALUES (:email, :nickname, :hash, now())"
)


@pytest.fixture
def users_at_0001(alembic_runner, database):
    """A database at 0001 holding three users, each with a session and a note."""
    alembic_runner.migrate_up_to(PARENT)
    for email, nickname, password_hash in USERS:
        database.execute(INSERT_USER, email=email, nickname=nickname, hash=password_hash)
    database.execute(
        "INSERT INTO login_session (token_hash, user_id, created_at)"
        ' SELECT md5(email), id, now() FROM "user"'
    )
    database.execute(
        "INSERT INTO note (title, content, created_at, updated_at, user_id)"
        " SELECT 'note of ' || nickname, '', now(), now(), id FROM \"user\""
    )


def test_0002_adds_an_empty_image_url_and_keeps_every_user(users_at_0001, alembic_runner, database):
    with kept(database, USER_ROWS) as before:
        assert [(u["email"], u["nickname"], u["password_hash"]) for u in before] == USERS
        alembic_runner.migrate_up_to(REVISION)
    assert [row["image_url"] for row in database.rows('SELECT image_url FROM "user"')] == [
        None
    ] * len(USERS)
    assert database.rows("SELECT count(*) AS n FROM note") == [{"n": 3}]
    assert database.rows("SELECT count(*) AS n FROM login_session") == [{"n": 3}]


def test_0002_makes_image_url_unique(users_at_0001, alembic_runner, database):
    alembic_runner.migrate_up_to(REVISION)
    set_url = (
        "UPDATE \"user\" SET image_url = 'https://cdn.example/avatars/1/a.webp' WHERE id = :id"
    )
    database.execute(set_url, id=1)
    with pytest.raises(IntegrityError, match="uq_user_image_url"):
        database.execute(set_url, id=2)


def test_0002_downgrade_drops_the_column_and_keeps_every_user(
    users_at_0001, alembic_runner, database
):
    with kept(database, USER_ROWS):
        alembic_runner.migrate_up_to(REVISION)
        alembic_runner.migrate_down_to(PARENT)
    assert alembic_runner.current == PARENT
    assert "image_url" not in database.columns("user")


def test_0002_reruns_after_an_index_build_that_failed(users_at_0001, alembic_runner, database):
    # A first run added the column, then its concurrent index build failed (here on
    # duplicates; a timeout does the same), leaving an INVALID index behind.
    database.execute('ALTER TABLE "user" ADD COLUMN image_url text')
    database.execute("UPDATE \"user\" SET image_url = 'https://x.example/same'")
    # What `flask db upgrade` reports before it exits 1.
    failed = f"revision {REVISION} failed: .*; the database is still at {PARENT}"
    with pytest.raises(CommandError, match=failed):
        alembic_runner.migrate_up_to(REVISION)
    invalid = "SELECT indisvalid FROM pg_index WHERE indexrelid = 'uq_user_image_url'::regclass"
    assert database.rows(invalid) == [{"indisvalid": False}]
    assert alembic_runner.current == PARENT
    database.execute('UPDATE "user" SET image_url = NULL')
    alembic_runner.migrate_up_to(REVISION)
    assert database.rows(invalid) == [{"indisvalid": True}]
    assert alembic_runner.current == REVISION
