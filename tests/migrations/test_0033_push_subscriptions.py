"""Revision 0033 adds the browsers subscribed to reminders and each occurrence's push, keeps
the occurrences as they were (nothing to push), refuses a subscription that is not https or
whose keys have the wrong length, ends one with its session, and goes back."""

import pytest
from sqlalchemy import func
from sqlalchemy.exc import IntegrityError

from tests.migrations import note, user
from tests.migrations.revisions import under_test

REVISION, PARENT, pytestmark = under_test("0033")
OCCURRENCES = "SELECT id, note_id, outcome, sent_at FROM reminder_occurrence ORDER BY id"
ENDPOINT = "https://push.example.com/send/abc"


def reminder():
    return {
        "note_id": 1,
        "user_id": 1,
        "starts_at": "2026-11-26 09:00",
        "time_zone": "Asia/Seoul",
        "repeat": "none",
        "created_at": func.now(),
        "updated_at": func.now(),
    }


def occurrence():
    row = {"reminder_id": 1, "note_id": 1, "user_id": 1, "generation": 1, "outcome": "sent"}
    return {**row, "due_at": "2026-11-26 00:00+00", "fired_at": func.now()}


def subscription(**values):
    row = {"user_id": 1, "login_session_id": 1, "endpoint": ENDPOINT, "created_at": func.now()}
    return {**row, "p256dh_public_key": "B" * 87, "auth_secret": "a" * 22, **values}


def test_0033_adds_push_keeps_occurrences_and_goes_back(alembic_runner, database):
    alembic_runner.migrate_up_to(PARENT)
    alembic_runner.insert_into("user", user())
    alembic_runner.insert_into("note", note("Dentist"))
    alembic_runner.insert_into("reminder", reminder())
    alembic_runner.insert_into("reminder_occurrence", occurrence())
    session = {"token_hash": "h", "user_id": 1, "created_at": func.now()}
    alembic_runner.insert_into("login_session", session)
    before = database.rows(OCCURRENCES)
    alembic_runner.migrate_up_to(REVISION)
    assert database.rows(OCCURRENCES) == before
    pushes = "SELECT push_outcome, pushed_at, pushed_to FROM reminder_occurrence"
    assert database.rows(pushes) == [{"push_outcome": None, "pushed_at": None, "pushed_to": []}]
    alembic_runner.insert_into("push_subscription", subscription())
    refused = [
        subscription(),  # the same browser twice for one account
        subscription(endpoint="http://push.example.com/plain"),
        subscription(endpoint="https://push.example.com/" + "a" * 1000),
        subscription(endpoint=ENDPOINT + "2", auth_secret="short"),
        subscription(endpoint=ENDPOINT + "3", p256dh_public_key="B" * 88),
    ]
    for row in refused:
        with pytest.raises(IntegrityError):
            alembic_runner.insert_into("push_subscription", row)
    with pytest.raises(IntegrityError):
        database.execute("UPDATE reminder_occurrence SET push_outcome = 'lost'")
    database.execute("DELETE FROM login_session")  # a sign-out ends what its session turned on
    assert database.rows("SELECT count(*) AS n FROM push_subscription") == [{"n": 0}]
    alembic_runner.migrate_down_to(PARENT)
    assert "push_subscription" not in database.tables()
    assert "push_outcome" not in database.columns("reminder_occurrence")
    assert database.rows(OCCURRENCES) == before
    alembic_runner.migrate_up_to(REVISION)
    assert database.rows(OCCURRENCES) == before
