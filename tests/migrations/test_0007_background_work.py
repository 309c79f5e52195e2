"""Revision 0007 gives word counts a status (every existing count done) and adds photo
uploads; its downgrade keeps every count."""

import pytest
from sqlalchemy.exc import IntegrityError

from tests.migrations import user
from tests.migrations.revisions import under_test

REVISION, PARENT, pytestmark = under_test("0007")
# A finished count, as the previous release inserts it (it never names the status).
FINISHED = (
    "INSERT INTO results (url, result_all, result_no_stop_words, user_id, created_at)"
    """ VALUES ('https://example.com/', '{"total": 2}', '{"total": 1}', 1, now())"""
)
WITH_STATUS = (
    "INSERT INTO results (url, result_all, result_no_stop_words, user_id, created_at, status)"
    """ VALUES (:url, '{"total": 0}', '{"total": 0}', 1, now(), :s)"""
)


def test_0007_makes_every_existing_count_done_and_keeps_it(alembic_runner, database):
    alembic_runner.migrate_up_to(PARENT)
    alembic_runner.insert_into("user", user())
    database.execute(FINISHED)
    alembic_runner.migrate_up_to(REVISION)
    assert database.rows("SELECT status, error, result_all ->> 'total' AS total FROM results") == [
        {"status": "done", "error": None, "total": "2"}
    ]
    database.execute(FINISHED)  # the previous release's insert: a finished count
    database.execute(WITH_STATUS, url="https://example.com/", s="queued")
    with pytest.raises(IntegrityError, match="uq_results_user_id_url_unfinished"):
        database.execute(WITH_STATUS, url="https://example.com/", s="running")
    with pytest.raises(IntegrityError, match="ck_results_status"):
        database.execute(WITH_STATUS, url="https://example.org/", s="lost")
    assert "photo_upload" in database.tables()

    alembic_runner.migrate_down_to(PARENT)
    assert database.rows("SELECT result_all ->> 'total' AS total FROM results") == [
        {"total": "2"},
        {"total": "2"},
    ]
    assert "status" not in database.columns("results")
    assert "photo_upload" not in database.tables()
    alembic_runner.migrate_up_to(REVISION)
    assert database.rows("SELECT DISTINCT status FROM results") == [{"status": "done"}]
