"""Webhooks: made through the API (the secret shown once), delivered from the one event point by
the worker to a receiver on 127.0.0.1 that verifies each delivery with the `standardwebhooks`
library; in order per note, at least once, the same `webhook-id` on a retry; turned off
after about a day of failures, with a mail to the owner."""

import base64
from datetime import timedelta

import pytest
from sqlalchemy import func, select, text, update

from app.extensions import db
from app.features.notes import events
from app.features.webhooks import delivery, outbox, tasks
from app.models import NoteEvent, Webhook, WebhookDelivery, utcnow
from tests.apiclients import ApiClient, is_problem, token_for
from tests.mailbox import text_of
from tests.receivers import Receiver, ann_id, answer, come_due, make_hook, send, verify_address
from tests.workers import run_queued_jobs


@pytest.fixture
def receiver():
    with Receiver() as running:
        yield running


def test_a_webhook_is_made_with_its_secret_shown_once_listed_without_it_and_ended(ann_api):
    response = ann_api.post(
        "/webhooks", {"url": "https://hooks.example.com/memo", "events": ["note.created"]}
    )
    assert response.status_code == 201
    made = response.get_json()
    assert set(made) >= {"id", "url", "events", "secret"}
    assert made["events"] == ["note.created"]
    assert made["secret"].startswith("whsec_")
    assert len(base64.b64decode(made["secret"].removeprefix("whsec_"))) == 32
    listed = ann_api.get("/webhooks").get_json()["items"]
    assert [hook["id"] for hook in listed] == [made["id"]]
    assert "secret" not in listed[0] and made["secret"] not in str(listed)
    assert listed[0]["state"] == "on"
    assert ann_api.delete(f"/webhooks/{made['id']}").status_code == 204
    assert ann_api.get("/webhooks").get_json()["items"] == []
    assert is_problem(ann_api.delete(f"/webhooks/{made['id']}"), 404, "not-found")


def test_the_secret_is_kept_encrypted(app, ann_api):
    made = ann_api.post(
        "/webhooks", {"url": "https://hooks.example.com/memo", "events": ["note.created"]}
    ).get_json()
    with app.app_context():
        stored = db.session.scalar(select(Webhook.secret))
    assert made["secret"] not in stored and made["secret"].removeprefix("whsec_") not in stored


def test_another_accounts_webhook_is_404_and_a_read_token_cannot_make_one(app, ann_api, bob_api):
    made = ann_api.post(
        "/webhooks", {"url": "https://hooks.example.com/memo", "events": ["note.created"]}
    ).get_json()
    assert is_problem(bob_api.delete(f"/webhooks/{made['id']}"), 404, "not-found")
    assert bob_api.get("/webhooks").get_json()["items"] == []
    assert len(ann_api.get("/webhooks").get_json()["items"]) == 1
    reader = ApiClient(app, token_for(app, scope="read"))
    refused = reader.post(
        "/webhooks", {"url": "https://hooks.example.com/memo", "events": ["note.created"]}
    )
    assert is_problem(refused, 403, "insufficient-scope")


@pytest.mark.parametrize(
    "body, field",
    [
        ({"url": "https://hooks.example.com/", "events": []}, "events"),
        ({"url": "https://hooks.example.com/", "events": ["note.exploded"]}, "events"),
        ({"url": "ftp://hooks.example.com/", "events": ["note.created"]}, "url"),
        ({"url": "https://hooks.example.com/", "events": ["note.created"], "tag": "#a b"}, "tag"),
        ({"url": "https://" + "a" * 2050 + ".com/", "events": ["note.created"]}, "url"),
        ({"events": ["note.created"]}, "url"),
    ],
)
def test_invalid_fields_are_422_naming_them(ann_api, body, field):
    response = ann_api.post("/webhooks", body)
    assert is_problem(response, 422, "invalid-fields")
    assert field in [param["name"] for param in response.get_json()["invalid_params"]]


def test_an_account_has_at_most_ten(ann_api):
    for number in range(10):
        response = ann_api.post(
            "/webhooks", {"url": f"https://hooks.example.com/{number}", "events": ["note.created"]}
        )
        assert response.status_code == 201
    eleventh = ann_api.post(
        "/webhooks", {"url": "https://hooks.example.com/11", "events": ["note.created"]}
    )
    assert is_problem(eleventh, 409, "conflict")


def test_every_delivery_verifies_with_the_standardwebhooks_library(app, ann_api, receiver):
    make_hook(ann_api, receiver)
    note = ann_api.new_note(title="Plans", content="- [ ] milk #shop")
    etag = f'"{note["revision"]}"'
    changed = ann_api.patch(f"/notes/{note['id']}", {"title": "Plans!"}, headers={"If-Match": etag})
    assert changed.status_code == 200
    run_queued_jobs(app)  # the jobs the writes queued, as the worker runs them
    assert receiver.types == ["note.created", "note.updated"]
    assert all(delivery["verified"] for delivery in receiver.deliveries)
    created, updated = (delivery["payload"] for delivery in receiver.deliveries)
    assert set(created) == {"type", "timestamp", "data", "seq"}
    assert created["data"]["id"] == note["id"] and created["data"]["tags"] == ["shop"]
    assert updated["data"]["title"] == "Plans!"
    assert updated["seq"] > created["seq"]
    assert created["timestamp"].endswith("Z")
    headers = receiver.deliveries[0]["headers"]
    assert headers["webhook-signature"].startswith("v1,")
    assert headers["webhook-id"].startswith("msg_")
    assert headers["content-type"] == "application/json"
    assert len({delivery["id"] for delivery in receiver.deliveries}) == 2


def test_a_change_trash_and_deletion_arrive_once_each_in_order_across_the_receivers_outage(
    app, user, ann_api
):
    receiver = Receiver().start()
    make_hook(ann_api, receiver, events=["note.updated", "note.trashed", "note.deleted"])
    note = ann_api.new_note(title="Plans", content="milk")
    receiver.stop()  # down: nothing listens on its port
    user_id = ann_id(app)
    etag = f'"{note["revision"]}"'
    ann_api.patch(f"/notes/{note['id']}", {"content": "oat milk"}, headers={"If-Match": etag})
    send(app, user_id)  # the worker keeps running while the receiver is down
    ann_api.delete(f"/notes/{note['id']}", headers={"If-Match": '"2"'})
    send(app, user_id)
    assert user.post("/trash/empty").status_code == 302
    send(app, user_id)
    with app.app_context():
        states = db.session.execute(
            select(
                WebhookDelivery.type, WebhookDelivery.attempts, WebhookDelivery.last_error
            ).order_by(WebhookDelivery.id)
        ).all()
    # Only the note's first event was tried: the others wait behind it, in order.
    assert states[0].type == "note.updated" and states[0].attempts >= 1  # 5 s, then again
    assert [(kind, tries) for kind, tries, _ in states[1:]] == [
        ("note.trashed", 0),
        ("note.deleted", 0),
    ]
    assert states[0].last_error
    secret = receiver.secret
    receiver = Receiver(port=receiver.port).start()  # back, answering 503 for a while
    receiver.secret = secret
    receiver.behaviour = answer(503)
    come_due(app)
    send(app, user_id)
    first_id = receiver.deliveries[0]["id"]
    receiver.behaviour = answer(200)
    come_due(app)
    send(app, user_id)
    receiver.stop()
    ok = receiver.deliveries[1:]
    assert [delivery["payload"]["type"] for delivery in ok] == [
        "note.updated",
        "note.trashed",
        "note.deleted",
    ]
    assert all(delivery["verified"] for delivery in receiver.deliveries)
    assert ok[0]["id"] == first_id  # the same webhook-id on the retry
    assert len({delivery["id"] for delivery in ok}) == 3
    # Each is built when it is sent, from the note as it is then: deleted for good, so each
    # carries only its tombstone, and no text of it waited anywhere.
    assert all(delivery["payload"]["data"]["id"] == note["id"] for delivery in ok)
    assert all(set(delivery["payload"]["data"]) == {"id", "deleted_at"} for delivery in ok)
    send(app, user_id)
    assert len(receiver.deliveries) == 4  # nothing sent twice


def test_restore_and_tag_filter(app, user, ann_api, receiver):
    make_hook(
        ann_api, receiver, events=["note.created", "note.trashed", "note.restored"], tag="work"
    )
    other = ann_api.new_note(title="Shopping", content="#shop")
    work = ann_api.new_note(title="Standup", content="#work")
    ann_api.delete(f"/notes/{other['id']}", headers={"If-Match": "*"})
    ann_api.delete(f"/notes/{work['id']}", headers={"If-Match": "*"})
    assert ann_api.post(f"/notes/{work['id']}/restore").status_code == 200
    send(app, ann_id(app))
    assert receiver.types == ["note.created", "note.trashed", "note.restored"]
    assert {delivery["payload"]["data"]["id"] for delivery in receiver.deliveries} == {work["id"]}
    assert all(delivery["verified"] for delivery in receiver.deliveries)


def test_a_webhook_gets_only_events_after_it_was_made(app, ann_api, receiver):
    ann_api.new_note(title="Before")
    make_hook(ann_api, receiver)
    ann_api.new_note(title="After")
    send(app, ann_id(app))
    assert [d["payload"]["data"]["title"] for d in receiver.deliveries] == ["After"]


def test_deliveries_count_against_the_hourly_budget(app, ann_api, receiver, monkeypatch):
    monkeypatch.setitem(app.config, "WEBHOOK_DELIVERIES_PER_HOUR", 2)
    make_hook(ann_api, receiver, events=["note.created"])
    for number in range(3):
        ann_api.new_note(title=f"Note {number}")
    send(app, ann_id(app))
    assert len(receiver.deliveries) == 2
    with app.app_context():
        waiting = db.session.scalar(select(func.count()).where(WebhookDelivery.state == "pending"))
    assert waiting == 1


def test_after_a_day_of_failures_the_webhook_is_turned_off_and_its_owner_mailed(
    app, ann_api, receiver, mail_server
):
    verify_address(app)
    made = make_hook(ann_api, receiver, events=["note.created"])
    receiver.behaviour = answer(500)
    ann_api.new_note(title="Plans")
    user_id = ann_id(app)
    for _ in range(len(delivery.RETRY_WAITS) + 1):
        come_due(app)
        send(app, user_id)
    assert len(receiver.deliveries) == len(delivery.RETRY_WAITS) + 1
    assert len({d["id"] for d in receiver.deliveries}) == 1
    waited = sum(delivery.RETRY_WAITS, timedelta())
    assert timedelta(hours=20) < waited < timedelta(hours=30)  # about a day
    assert ann_api.get("/webhooks").get_json()["items"][0]["state"] == "off"
    mail_server.empty()
    run_queued_jobs(app)
    (mail,) = [m for m in mail_server.to("ann@example.com") if "webhook" in m["Subject"]]
    assert mail["Subject"] == "A webhook of your Memo account was turned off"
    assert made["url"] in text_of(mail) and "http://localhost/mypage/webhooks" in text_of(mail)
    ann_api.new_note(title="Later")
    send(app, user_id)
    assert len(receiver.deliveries) == len(delivery.RETRY_WAITS) + 1  # off: nothing more


def test_events_are_kept_until_every_webhook_has_them(app, ann_api, receiver):
    make_hook(ann_api, receiver, events=["note.created"])
    receiver.behaviour = answer(200)
    ann_api.new_note(title="Old")
    with app.app_context():
        old = utcnow() - timedelta(days=events.EVENT_DAYS + 1)
        db.session.execute(update(NoteEvent).values(created_at=old))
        db.session.commit()
        assert events.delete_old() == 0  # the webhook has not made it a delivery yet
        db.session.commit()
        outbox.collect(ann_id(app))
        assert events.delete_old() == 1
        db.session.commit()


def test_a_trash_of_many_notes_emptied_queues_one_job_and_each_deletion_arrives(
    app, user, ann_api, receiver
):
    make_hook(ann_api, receiver, events=["note.deleted"])
    notes = [ann_api.new_note(title=f"Old {number}") for number in range(5)]
    for note in notes:
        ann_api.delete(f"/notes/{note['id']}", headers={"If-Match": "*"})
    with app.app_context():
        db.session.execute(text("DELETE FROM procrastinate_jobs"))
        db.session.commit()
    assert user.post("/trash/empty").status_code == 302
    with app.app_context():
        queued = db.session.scalar(
            text("SELECT count(*) FROM procrastinate_jobs WHERE task_name = 'send_webhooks'")
        )
    assert queued == 1
    run_queued_jobs(app)
    assert receiver.types == ["note.deleted"] * 5
    assert {d["payload"]["data"]["id"] for d in receiver.deliveries} == {n["id"] for n in notes}


def test_the_upkeep_queues_due_retries_and_prunes_ended_budget_windows(app, ann_api, receiver):
    make_hook(ann_api, receiver, events=["note.created"])
    ann_api.new_note(title="Plans")
    with app.app_context():
        db.session.execute(text("DELETE FROM procrastinate_jobs"))
        db.session.execute(
            text(
                "INSERT INTO webhook_throttle VALUES"
                " ('deliveries', 'gone', 5, now() - interval '2 hours')"
            )
        )
        db.session.commit()
        tasks.retry_webhooks(timestamp=0)
        queued = db.session.scalar(
            text("SELECT count(*) FROM procrastinate_jobs WHERE task_name = 'send_webhooks'")
        )
        windows = db.session.scalar(text("SELECT count(*) FROM webhook_throttle"))
    assert (queued, windows) == (1, 0)
    run_queued_jobs(app)
    assert receiver.types == ["note.created"]


def test_a_webhook_ended_while_its_delivery_is_picked_sends_nothing_and_fails_nothing(
    app, ann_api, receiver, monkeypatch
):
    made = make_hook(ann_api, receiver, events=["note.created"])
    ann_api.new_note(title="Plans")
    counted = delivery.within_budget

    def ended_meanwhile(user_id):  # the owner ends it between the pick and the POST
        db.session.execute(text("DELETE FROM webhook WHERE id = :id"), {"id": made["id"]})
        return counted(user_id)

    monkeypatch.setattr(delivery, "within_budget", ended_meanwhile)
    send(app, ann_id(app))
    assert receiver.deliveries == []
