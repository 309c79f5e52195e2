"""Revision 0038 lets a delivery go without its body (this release builds it when sending),
keeps the bodies and deliveries the previous release wrote, adds each delivery's bytes and a
webhook's full_at, and goes back: a delivery written without a body gets an empty one."""

from sqlalchemy import func

from tests.migrations import note, user
from tests.migrations.revisions import kept, rows_at, under_test

REVISION, PARENT, pytestmark = under_test("0038")
WEBHOOK = {
    "user_id": 1,
    "url": "https://hooks.example.com/memo",
    "events": ["note.created"],
    "secret": "sealed",
    "created_at": func.now(),
}
DELIVERY = {
    "message_id": "msg_1",
    "webhook_id": 1,
    "note_id": 1,
    "type": "note.created",
    "body": '{"type":"note.created"}',
    "created_at": func.now(),
    "next_attempt_at": func.now(),
}
a_delivery = rows_at(
    PARENT, user=user(), note=note("Plans"), webhook=WEBHOOK, webhook_delivery=DELIVERY
)
DELIVERIES = "SELECT id, message_id, webhook_id, note_id, type, body, state FROM webhook_delivery"
HOOKS = "SELECT id, url, seq_through, disabled_at FROM webhook"


def test_0038_keeps_deliveries_takes_one_without_a_body_and_goes_back(
    a_delivery, alembic_runner, database
):
    with kept(database, DELIVERIES) as before, kept(database, HOOKS):
        alembic_runner.migrate_up_to(REVISION)
    assert database.rows("SELECT size FROM webhook_delivery") == [{"size": 0}]
    assert database.rows("SELECT full_at FROM webhook") == [{"full_at": None}]
    alembic_runner.insert_into(
        "webhook_delivery", DELIVERY | {"message_id": "msg_2", "body": None, "size": 612}
    )
    assert database.rows("SELECT body, size FROM webhook_delivery WHERE id = 2") == [
        {"body": None, "size": 612}
    ]
    alembic_runner.migrate_down_to(PARENT)
    assert database.rows(DELIVERIES)[:1] == before
    assert database.rows("SELECT body FROM webhook_delivery WHERE id = 2") == [{"body": ""}]
    assert "size" not in database.columns("webhook_delivery")
    assert "full_at" not in database.columns("webhook")
    alembic_runner.migrate_up_to(REVISION)
    assert database.rows(DELIVERIES)[:1] == before
