"""What a webhook's deliveries keep and cost (issue 87). A delivery references its event and is
built when it is sent: a note deleted for good leaves no text in webhook_delivery and goes out
as its tombstone, retried or sent again; a note's waiting updates coalesce into one delivery of
its newest state. The issue's flood (ten webhooks to an address that never answers, one note
of 20,000 four-byte characters, 30 saves a minute) stores a few hundred bytes a webhook, not
the note; an account's waiting deliveries stop at WEBHOOK_PENDING_ROWS and
WEBHOOK_PENDING_BYTES, collection stopping (on the card, and mailed) until they drain. A
receiver on loopback is taken in development and refused in production, in words of sending;
the test event speaks the account's language."""

import random

import pytest
from sqlalchemy import func, select, text, update

from app import create_app
from app.extensions import db
from app.features.webhooks import outbox, tasks
from app.models import User, Webhook, WebhookDelivery
from tests.apiclients import ApiClient
from tests.receivers import Receiver, ann_id, answer, come_due, make_hook, send, verify_address
from tests.workers import run_queued_jobs

# 20,000 characters of four bytes each (CJK Extension B), random so that nothing compresses.
rng = random.Random(87)
LARGEST = "".join(chr(rng.randrange(0x20000, 0x2A6DF)) for _ in range(20_000))
STORED = (
    "SELECT count(*) AS rows, coalesce(sum(pg_column_size(d.*)), 0) AS bytes,"
    " coalesce(sum(d.size), 0) AS sending FROM webhook_delivery d WHERE d.state = 'pending'"
)
GROWTH = "SELECT pg_total_relation_size('webhook_delivery') AS bytes"


@pytest.fixture
def receiver():
    with Receiver() as running:
        yield running


@pytest.fixture
def nowhere(ann_api):
    """Ten webhooks (the most an account has) to an address where nothing answers."""
    gone = Receiver().start()
    gone.stop()
    for _ in range(10):
        make_hook(ann_api, gone, events=["note.created", "note.updated"])
    return gone


def stored(app, query=STORED):
    with app.app_context():
        return dict(db.session.execute(text(query)).one()._mapping)


def test_the_issues_flood_stores_a_few_hundred_bytes_a_webhook_not_the_note(app, ann_api, nowhere):
    user_id, before = ann_id(app), stored(app, GROWTH)["bytes"]
    note = ann_api.new_note(title="Flood", content=LARGEST)
    send(app, user_id)  # each webhook's first try: refused, to be retried
    for save in range(1, 30):  # the 30 saves a minute the write budget allows
        content = LARGEST[save:] + LARGEST[:save]
        changed = ann_api.patch(
            f"/notes/{note['id']}", {"content": content}, headers={"If-Match": "*"}
        )
        assert changed.status_code == 200, changed.get_json()
        send(app, user_id)
    now = stored(app)
    # Each webhook: the tried note.created, and one note.updated holding the 29 saves (it was
    # 300 rows of the whole note, 22.2 MiB a minute: 1.3 GiB an hour).
    assert now["rows"] == 20
    assert now["bytes"] < 20 * 512, now
    assert stored(app, GROWTH)["bytes"] - before < 256 * 1024
    with app.app_context():
        text_kept = db.session.scalar(select(func.count()).where(WebhookDelivery.body.is_not(None)))
    assert text_kept == 0


def test_waiting_deliveries_stop_at_their_bytes_and_collection_waits_told_on_card_and_by_mail(
    app, user, ann_api, nowhere, mail_server, monkeypatch
):
    verify_address(app)
    user_id, bound = ann_id(app), 300_000
    monkeypatch.setitem(app.config, "WEBHOOK_PENDING_BYTES", bound)
    for number in range(6):  # each note about 16 KB: 60 deliveries would send about 1 MB
        ann_api.post("/notes", {"title": f"n{number}", "content": LARGEST[:4000]})
    with app.app_context():
        outbox.collect(user_id)
    now = stored(app)
    assert bound - 16_700 < now["sending"] <= bound
    assert now["rows"] < 60 and now["bytes"] < now["rows"] * 512
    with app.app_context():
        stopped = [when for when in db.session.scalars(select(Webhook.full_at)) if when]
    assert stopped  # the webhooks that met the bound: their events wait
    page = user.get("/mypage/webhooks").get_data(as_text=True)
    assert "Taking no events since" in page
    mail_server.empty()
    run_queued_jobs(app)
    told = [m for m in mail_server.to("ann@example.com") if "stopped taking" in m["Subject"]]
    assert len(told) == len(stopped)  # once a webhook, not once an event
    with app.app_context():  # the receivers answer: what waited goes, the rest is collected
        for _ in range(10):
            db.session.execute(update(WebhookDelivery).values(state="delivered"))
            db.session.commit()
            outbox.collect(user_id)
            if not any(db.session.scalars(select(Webhook.full_at))):
                break
        assert db.session.scalar(select(func.count(WebhookDelivery.id))) == 60  # none lost


def test_waiting_deliveries_stop_at_their_rows_and_a_test_event_is_refused_then(
    app, user, ann_api, nowhere, monkeypatch
):
    monkeypatch.setitem(app.config, "WEBHOOK_PENDING_ROWS", 25)
    for number in range(5):
        ann_api.new_note(title=f"n{number}")
    with app.app_context():
        outbox.collect(ann_id(app))
        hook_id = db.session.scalar(select(Webhook.id).order_by(Webhook.id))
    assert stored(app)["rows"] == 25
    pressed = user.post(f"/mypage/webhooks/{hook_id}/test")
    assert pressed.status_code == 302
    page = user.get("/mypage/webhooks").get_data(as_text=True)
    assert "Too many deliveries are waiting for your receivers" in page
    assert stored(app)["rows"] == 25


def test_a_note_deleted_for_good_leaves_no_text_and_goes_out_as_its_tombstone(
    app, user, ann_api, receiver
):
    made = make_hook(ann_api, receiver, events=["note.created", "note.updated"])
    note = ann_api.new_note(title="Diary", content="secret words")
    user_id = ann_id(app)
    send(app, user_id)
    created = receiver.deliveries[0]
    assert created["payload"]["data"]["content"] == "secret words"
    receiver.behaviour = answer(503)
    ann_api.patch(
        f"/notes/{note['id']}", {"content": "more secret words"}, headers={"If-Match": "*"}
    )
    send(app, user_id)  # tried, answered 503: waits for its retry
    ann_api.delete(f"/notes/{note['id']}", headers={"If-Match": "*"})
    assert user.post("/trash/empty").status_code == 302
    kept = "SELECT count(*) AS n FROM webhook_delivery d WHERE d::text LIKE '%secret%'"
    assert stored(app, kept)["n"] == 0
    receiver.behaviour = answer(204)
    come_due(app)
    send(app, user_id)
    retried = receiver.deliveries[-1]
    assert retried["id"] == receiver.deliveries[1]["id"]  # the same webhook-id
    assert retried["payload"]["data"] == {
        "id": note["id"],
        "deleted_at": retried["payload"]["data"]["deleted_at"],
    }
    with app.app_context():
        first = db.session.scalar(select(WebhookDelivery.id).order_by(WebhookDelivery.id))
    again = user.post(f"/mypage/webhooks/{made['id']}/deliveries/{first}/again")
    assert again.status_code == 302
    run_queued_jobs(app)
    sent_again = receiver.deliveries[-1]
    assert sent_again["id"] == created["id"] and sent_again["verified"]
    assert set(sent_again["payload"]["data"]) == {"id", "deleted_at"}
    assert "secret" not in str(receiver.deliveries[2:])  # nothing sent after the deletion


def test_a_notes_waiting_updates_coalesce_into_one_delivery_of_its_newest_state(
    app, ann_api, receiver
):
    make_hook(ann_api, receiver, events=["note.updated"])
    note = ann_api.new_note(title="Plans", content="v0")
    for version in range(1, 6):
        ann_api.patch(f"/notes/{note['id']}", {"content": f"v{version}"}, headers={"If-Match": "*"})
    send(app, ann_id(app))
    assert receiver.types == ["note.updated"]
    (delivered,) = receiver.deliveries
    assert delivered["verified"] and delivered["payload"]["data"]["content"] == "v5"


def test_a_receiver_on_loopback_is_taken_in_development_and_refused_in_production(
    app, ann_api, receiver, postgres, monkeypatch
):
    monkeypatch.setenv("DATABASE_URL", postgres.main_url)
    development = create_app("config.DevelopmentConfig")
    try:
        laptop = ApiClient(development, ann_api.secret)
        made = laptop.post("/webhooks", {"url": receiver.url(), "events": ["note.created"]})
        assert made.status_code == 201, made.get_json()
        receiver.secret = made.get_json()["secret"]
        laptop.new_note(title="Tried on a laptop")
        with development.app_context():
            tasks.send_webhooks(user_id=ann_id(app))
    finally:
        with development.app_context():
            db.engine.dispose()
    assert receiver.types == ["note.created"] and receiver.deliveries[0]["verified"]
    monkeypatch.setitem(app.config, "ENVIRONMENT", "production")
    refused = ann_api.post(
        "/webhooks", {"url": "https://127.0.0.1/hook", "events": ["note.created"]}
    )
    assert refused.status_code == 422
    words = str(refused.get_json())
    assert "Memo only sends to public addresses: 127.0.0.1 is a loopback address." in words
    assert "fetch" not in words


def test_the_test_event_speaks_the_accounts_language(app, user, ann_api, receiver):
    made = make_hook(ann_api, receiver)
    with app.app_context():
        db.session.execute(update(User).values(language="ko"))
        db.session.commit()
    assert user.post(f"/mypage/webhooks/{made['id']}/test").status_code == 302
    run_queued_jobs(app)
    (event,) = receiver.deliveries
    assert event["verified"] and event["payload"]["type"] == "webhook.test"
    assert event["payload"]["data"] == {"message": "Memo에서 보낸 시험 이벤트예요."}
