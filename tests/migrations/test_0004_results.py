"""Revision 0004 adds the word counts' results table beside users and notes, and drops it."""

import pytest
from sqlalchemy.exc import IntegrityError

from tests.migrations import note, user
from tests.migrations.revisions import under_test

REVISION, PARENT, pytestmark = under_test("0004")


def test_0004_adds_results_and_keeps_existing_rows(alembic_runner, database):
    alembic_runner.migrate_up_to(PARENT)
    alembic_runner.insert_into("user", user())
    alembic_runner.insert_into("note", note("kept", content="still here"))
    alembic_runner.migrate_up_to(REVISION)
    database.execute(
        "INSERT INTO results (url, result_all, result_no_stop_words, user_id, created_at)"
        """ VALUES ('https://example.com/', '{"top": [["the", 2]]}', '{"top": []}', 1, now())"""
    )
    rows = database.rows("SELECT result_all -> 'top' -> 0 ->> 0 AS word FROM results")
    assert rows == [{"word": "the"}]
    with pytest.raises(IntegrityError, match="ck_results_url_length"):
        database.execute(
            "INSERT INTO results (url, result_all, result_no_stop_words, user_id, created_at)"
            " VALUES (:url, '{}', '{}', 1, now())",
            url="https://example.com/" + "a" * 2048,
        )
    alembic_runner.migrate_down_to(PARENT)
    assert "results" not in database.tables()
    assert database.rows('SELECT nickname FROM "user"') == [{"nickname": "ann"}]
    assert database.rows("SELECT content FROM note") == [{"content": "still here"}]
    alembic_runner.migrate_up_to(REVISION)
    assert database.rows("SELECT count(*) AS n FROM results") == [{"n": 0}]
