"""Migration 0002 adds user.image_url to a table with rows, and takes it away again."""

import pytest
from sqlalchemy.exc import IntegrityError

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
def users_at_0001(scratch_schema):
    """A database at 0001 holding three users, each with a session and a note."""
    scratch_schema.upgrade("0001")
    for email, nickname, password_hash in USERS:
        scratch_schema.execute(INSERT_USER, email=email, nickname=nickname, hash=password_hash)
    scratch_schema.execute(
        "INSERT INTO login_session (token_hash, user_id, created_at)"
        ' SELECT md5(email), id, now() FROM "user"'
    )
    scratch_schema.execute(
        "INSERT INTO note (title, content, created_at, updated_at, user_id)"
        " SELECT 'note of ' || nickname, '', now(), now(), id FROM \"user\""
    )
    return scratch_schema


def users(schema):
    return schema.rows('SELECT id, email, nickname, password_hash FROM "user" ORDER BY id')


def test_0002_adds_an_empty_image_url_and_keeps_every_user(users_at_0001):
    before = users(users_at_0001)
    assert [(u["email"], u["nickname"], u["password_hash"]) for u in before] == USERS
    users_at_0001.upgrade("0002")
    assert users(users_at_0001) == before
    assert [row["image_url"] for row in users_at_0001.rows('SELECT image_url FROM "user"')] == [
        None
    ] * len(USERS)
    assert users_at_0001.rows("SELECT count(*) AS n FROM note") == [{"n": 3}]
    assert users_at_0001.rows("SELECT count(*) AS n FROM login_session") == [{"n": 3}]


def test_0002_makes_image_url_unique(users_at_0001):
    users_at_0001.upgrade("0002")
    set_url = (
        "UPDATE \"user\" SET image_url = 'https://cdn.example/avatars/1/a.webp' WHERE id = :id"
    )
    users_at_0001.execute(set_url, id=1)
    with pytest.raises(IntegrityError, match="uq_user_image_url"):
        users_at_0001.execute(set_url, id=2)


def test_0002_downgrade_drops_the_column_and_keeps_every_user(users_at_0001):
    before = users(users_at_0001)
    users_at_0001.upgrade("0002")
    users_at_0001.downgrade("0001")
    assert "image_url" not in users_at_0001.columns("user")
    assert users(users_at_0001) == before
    assert users_at_0001.current() == "0001"


def test_0002_reruns_after_an_index_build_that_failed(users_at_0001):
    # A first run added the column, then its concurrent index build failed (here on
    # duplicates; a timeout does the same), leaving an INVALID index behind.
    users_at_0001.execute('ALTER TABLE "user" ADD COLUMN image_url text')
    users_at_0001.execute("UPDATE \"user\" SET image_url = 'https://x.example/same'")
    with pytest.raises(SystemExit):  # flask db upgrade reports the failure and exits 1
        users_at_0001.upgrade("0002")
    invalid = "SELECT indisvalid FROM pg_index WHERE indexrelid = 'uq_user_image_url'::regclass"
    assert users_at_0001.rows(invalid) == [{"indisvalid": False}]
    assert users_at_0001.current() == "0001"
    users_at_0001.execute('UPDATE "user" SET image_url = NULL')
    users_at_0001.upgrade("0002")
    assert users_at_0001.rows(invalid) == [{"indisvalid": True}]
    assert users_at_0001.current() == "0002"
