"""Revision 0008 writes the comparison keys of existing users, refuses to merge accounts, and
goes back down; rows the previous release writes without keys are still found."""

import pytest
from sqlalchemy.exc import IntegrityError

from app.models import comparison_key
from devenv.visitors import Browser
from tests.revisions import parent_of

PARENT = parent_of("0008")
INSERT_USER = (
    'INSERT INTO "user" (email, nickname, password_hash, created_at)'
    " VALUES (:email, :nickname, 'argon-hash', now())"
)
USERS = [("Ann@example.com", "Ann"), ("ΟΔΟΣ@example.gr", "Straße"), ("ａｂ@example.jp", "ᏣᎳᎩ")]


@pytest.fixture
def before_0008(scratch_schema):
    """A database at 0008's parent revision, as the previous release left it."""
    scratch_schema.upgrade(PARENT)
    return scratch_schema


def add_users(schema, users):
    for email, nickname in users:
        schema.execute(INSERT_USER, email=email, nickname=nickname)


def users(schema):
    return schema.rows('SELECT id, email, nickname, password_hash FROM "user" ORDER BY id')


def test_0008_writes_every_users_keys_and_makes_them_unique(before_0008):
    add_users(before_0008, USERS)
    before = users(before_0008)
    before_0008.upgrade("0008")
    assert users(before_0008) == before
    keys = before_0008.rows('SELECT email_key, nickname_key FROM "user" ORDER BY id')
    assert keys == [
        {"email_key": comparison_key(email), "nickname_key": comparison_key(nickname)}
        for email, nickname in USERS
    ]
    assert keys[1] == {"email_key": "οδοσ@example.gr", "nickname_key": "strasse"}
    with pytest.raises(IntegrityError, match="uq_user_email_key"):
        before_0008.execute(
            'INSERT INTO "user" (email, nickname, password_hash, created_at, email_key)'
            " VALUES ('x@example.com', 'xx', 'h', now(), 'ann@example.com')"
        )


def test_0008_stops_naming_the_accounts_it_would_merge_and_reruns_once_resolved(before_0008):
    # Distinct to PostgreSQL's lower(), so the previous release let both exist.
    add_users(before_0008, [("straße@example.de", "one"), ("STRASSE@example.de", "two")])
    add_users(before_0008, [("b@example.com", "Οδος"), ("c@example.com", "ΟΔΟΣ")])
    with pytest.raises(Exception, match="0008 would merge accounts whose") as stopped:
        before_0008.upgrade("0008")
    message = str(stopped.value)
    assert "emails of users 1, 2; nicknames of users 3, 4 are the same" in message
    assert "example.de" not in message and "Οδος" not in message
    assert before_0008.current() == PARENT
    invalid = "SELECT count(*) AS n FROM pg_indexes WHERE indexname LIKE 'uq_user_%_key'"
    assert before_0008.rows(invalid) == [{"n": 0}]

    before_0008.execute("UPDATE \"user\" SET email = 'strasse2@example.de' WHERE id = 2")
    before_0008.execute("UPDATE \"user\" SET nickname = 'odos2' WHERE id = 4")
    before_0008.upgrade("0008")
    assert before_0008.current() == "0008"
    assert before_0008.rows('SELECT email_key FROM "user" WHERE id = 2') == [
        {"email_key": "strasse2@example.de"}
    ]


def test_0008_downgrade_drops_the_keys_and_keeps_every_user(before_0008):
    add_users(before_0008, USERS)
    before = users(before_0008)
    before_0008.upgrade("0008")
    before_0008.downgrade(PARENT)
    assert {"email_key", "nickname_key"}.isdisjoint(before_0008.columns("user"))
    assert users(before_0008) == before


def test_an_account_the_previous_release_wrote_without_keys_signs_in(app, postgres, browser):
    # The previous release serves until the new one starts, and its signups have no keys.
    browser.signup(email="dan@example.com", nickname="dan")
    postgres.execute(
        "UPDATE \"user\" SET email = 'Dan@Example.com', email_key = NULL, nickname_key = NULL"
    )
    browser.logout()
    assert browser.login(email="dan@example.com").status_code == 302
    assert browser.get("/").status_code == 200
    second = Browser(app.test_client())
    second.signup(email="DAN@example.com", nickname="other")
    keys = 'SELECT email_key, nickname_key FROM "user"'
    connection = postgres.connect()
    with connection.cursor() as cursor:
        cursor.execute(keys)
        assert cursor.fetchall() == [("dan@example.com", "dan")]
    connection.close()
