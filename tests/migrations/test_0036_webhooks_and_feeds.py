"""Revision 0036 adds webhooks, their deliveries and budget, and private Atom feeds, refuses a
delivery in an unknown state, a second delivery with one message id and a feed token twice,
ends an account's webhooks and feeds with it (a webhook's deliveries with the webhook), and
goes back by dropping the four tables and the index of events by account."""

import pytest
from sqlalchemy import func
from sqlalchemy.exc import IntegrityError

from tests.migrations import note, user
from tests.migrations.revisions import under_test

REVISION, PARENT, pytestmark = under_test("0036")
TABLES = {"webhook", "webhook_delivery", "webhook_throttle", "atom_feed"}
VALID_INDEX = (
    "SELECT indisvalid FROM pg_index WHERE indexrelid = to_regclass('ix_note_event_user_id_seq')"
)


def webhook():
    return {
        "user_id": 1,
        "url": "https://hooks.example.com/memo",
        "events": ["note.created"],
        "secret": "sealed",
        "created_at": func.now(),
    }


def delivery(**values):
    row = {"message_id": "msg_1", "webhook_id": 1, "note_id": 1, "type": "note.created"}
    row |= {"body": "{}", "created_at": func.now(), "next_attempt_at": func.now()}
    return row | values


def feed(**values):
    return {"user_id": 1, "token_hash": "h", "created_at": func.now()} | values


def count(database, table):
    return database.rows(f"SELECT count(*) AS n FROM {table}")[0]["n"]


def test_0036_adds_webhooks_and_feeds_and_goes_back(alembic_runner, database):
    alembic_runner.migrate_up_to(PARENT)
    alembic_runner.insert_into("user", user())
    alembic_runner.insert_into("note", note("Plans"))
    alembic_runner.migrate_up_to(REVISION)
    assert database.tables() >= TABLES
    alembic_runner.insert_into("webhook", webhook())
    alembic_runner.insert_into("webhook_delivery", delivery())
    alembic_runner.insert_into("atom_feed", feed())
    hooks = "SELECT made_with_second_step, seq_through, paused_at, disabled_at FROM webhook"
    assert database.rows(hooks) == [
        {"made_with_second_step": False, "seq_through": 0, "paused_at": None, "disabled_at": None}
    ]
    assert database.rows("SELECT state, attempts FROM webhook_delivery") == [
        {"state": "pending", "attempts": 0}
    ]
    for table, row in [
        ("webhook_delivery", delivery()),  # one message id twice
        ("webhook_delivery", delivery(message_id="msg_2", state="lost")),
        ("atom_feed", feed()),  # one token twice
        ("webhook", webhook() | {"url": "https://" + "a" * 2048}),
    ]:
        with pytest.raises(IntegrityError):
            alembic_runner.insert_into(table, row)
    database.execute("DELETE FROM webhook")
    assert count(database, "webhook_delivery") == 0
    database.execute('DELETE FROM "user"')
    assert count(database, "atom_feed") == 0
    alembic_runner.migrate_down_to(PARENT)
    assert not TABLES & database.tables()
    assert database.rows(VALID_INDEX) == []
    alembic_runner.migrate_up_to(REVISION)
    assert database.tables() >= TABLES
