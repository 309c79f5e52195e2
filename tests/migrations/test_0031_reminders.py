"""Revision 0031 adds the reminders' tables beside the notes it leaves alone, keeps one
reminder a note and one occurrence a moment, and goes back."""

import pytest
from sqlalchemy import func
from sqlalchemy.exc import IntegrityError

from tests.migrations import note, user
from tests.migrations.revisions import under_test

REVISION, PARENT, pytestmark = under_test("0031")
NOTES = "SELECT id, title, content FROM note ORDER BY id"


def reminder(**values):
    return {
        "note_id": 1,
        "user_id": 1,
        "starts_at": "2026-11-26 09:00",
        "time_zone": "Asia/Seoul",
        "repeat": "weekdays",
        "rule": "FREQ=WEEKLY;BYDAY=MO,TU,WE,TH,FR",
        "created_at": func.now(),
        "updated_at": func.now(),
        **values,
    }


def test_0031_adds_its_tables_keeps_the_notes_and_goes_back(alembic_runner, database):
    alembic_runner.migrate_up_to(PARENT)
    alembic_runner.insert_into("user", user())
    alembic_runner.insert_into("note", note("Dentist"))
    before = database.rows(NOTES)
    alembic_runner.migrate_up_to(REVISION)
    assert database.rows(NOTES) == before
    alembic_runner.insert_into("reminder", reminder())
    with pytest.raises(IntegrityError):  # one reminder a note
        alembic_runner.insert_into("reminder", reminder())
    with pytest.raises(IntegrityError):  # nothing repeats more often than daily
        alembic_runner.insert_into("reminder", reminder(note_id=1, repeat="hourly"))
    occurrence = {"reminder_id": 1, "note_id": 1, "user_id": 1, "generation": 1}
    occurrence.update(due_at="2026-11-26 00:00+00", fired_at=func.now())
    alembic_runner.insert_into("reminder_occurrence", occurrence)
    with pytest.raises(IntegrityError):  # one occurrence a reminder and moment
        alembic_runner.insert_into("reminder_occurrence", occurrence)
    database.execute("DELETE FROM note")  # a note's reminder and occurrences go with it
    assert database.rows("SELECT count(*) AS n FROM reminder_occurrence") == [{"n": 0}]
    alembic_runner.migrate_down_to(PARENT)
    assert "reminder" not in database.tables()
    alembic_runner.migrate_up_to(REVISION)
    assert {"reminder", "reminder_occurrence"} <= database.tables()
