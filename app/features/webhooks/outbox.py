"""The webhooks' outbox: the account's events made deliveries, and what is due; the web and
the worker share it (the web adds a test event; the worker collects and picks). Sending is
delivery.py's, in the worker only.

collect: the account's events after each webhook's `seq_through` (the account's change
numbers commit in order, app/features/notes/changes.py) become deliveries of the webhooks that
asked for their type (and tag), each with a `message_id` made once, the same on every attempt;
the body is the note as the API shows it when the event is read (normally within a second of
its change), or `{"id", "deleted_at"}` once it is deleted for good, with the account's change
number. next_due: one due delivery at a time, never one whose note has an older delivery
still pending for that webhook (in order per note).
"""

import json
import secrets
from datetime import UTC, timedelta

from sqlalchemy import exists, select
from sqlalchemy.orm import aliased

from app.extensions import db
from app.features.api.notes import note_json
from app.features.api.schemas import Deleted, NoteOut
from app.features.notes import events as note_events
from app.models import (
    Note,
    NoteEvent,
    NoteTombstone,
    Webhook,
    WebhookDelivery,
    utcnow,
)

COLLECT_BATCH = 500
BUDGET_SCOPE = "deliveries"  # webhook_throttle's scope: one row an account, an hour's attempts
DONE_KEPT = timedelta(days=7)  # deliveries delivered or failed, for the page's last 20


def type_of(kind):
    """Return the webhook event type of a note event's `kind`."""
    parts = set(kind.split(","))
    if note_events.CREATED in parts:
        return "note.created"
    if note_events.DELETED in parts:
        return "note.deleted"
    if "fired" in parts:
        return "reminder.fired"
    if "trashed" in parts:
        return "note.trashed"
    if note_events.RESTORED in parts:
        return "note.restored"
    return "note.updated"


def rfc3339(moment):
    return moment.astimezone(UTC).isoformat().replace("+00:00", "Z")


def body_of(event_type, moment, data, seq=None):
    """Return the JSON a delivery carries, as the bytes it is signed with (as text)."""
    body = {"type": event_type, "timestamp": rfc3339(moment), "data": data}
    if seq is not None:
        body["seq"] = seq
    return json.dumps(body, ensure_ascii=False, separators=(",", ":"))


def data_of(note_id):
    """Return the note as the API shows it, or its tombstone once deleted for good, and its
    tags (None for a tombstone)."""
    note = db.session.get(Note, note_id)
    if note is not None:
        return NoteOut().dump(note_json(note)), list(note.tags or [])
    stone = db.session.get(NoteTombstone, note_id)
    deleted_at = stone.deleted_at if stone is not None else utcnow()
    return Deleted().dump({"id": note_id, "deleted_at": deleted_at}), None


def new_message_id():
    return "msg_" + secrets.token_urlsafe(18)


def collect(user_id):
    """Make deliveries of the account's events that its webhooks have not seen; return how
    many. The webhooks' rows are locked: two collectors never make one delivery twice."""
    webhooks = db.session.scalars(
        select(Webhook)
        .where(
            Webhook.user_id == user_id,
            Webhook.paused_at.is_(None),
            Webhook.disabled_at.is_(None),
        )
        .order_by(Webhook.id)
        .with_for_update()
    ).all()
    made = 0
    for webhook in webhooks:
        found = db.session.scalars(
            select(NoteEvent)
            .where(NoteEvent.user_id == user_id, NoteEvent.seq > webhook.seq_through)
            .order_by(NoteEvent.seq, NoteEvent.id)
            .limit(COLLECT_BATCH)
        ).all()
        for event in found:
            made += add_delivery(webhook, event)
            webhook.seq_through = max(webhook.seq_through, event.seq)
    db.session.commit()
    return made


def add_delivery(webhook, event):
    """Add the delivery of `event` to `webhook` if it asked for it; return 1 if added."""
    event_type = type_of(event.kind)
    if event_type not in webhook.events:
        return 0
    data, tags = data_of(event.note_id)
    if webhook.tag and tags is not None and webhook.tag not in tags:
        return 0
    db.session.add(
        WebhookDelivery(
            message_id=new_message_id(),
            webhook_id=webhook.id,
            event_id=event.id,
            note_id=event.note_id,
            type=event_type,
            body=body_of(event_type, event.created_at, data, event.seq),
        )
    )
    return 1


def add_test_delivery(webhook):
    """Add a test event to `webhook`, to be sent at once; False when one is still on its way
    (a press sent again waits for it: presses add no rows without end)."""
    waiting = exists().where(
        WebhookDelivery.webhook_id == webhook.id,
        WebhookDelivery.type == "webhook.test",
        WebhookDelivery.state == "pending",
    )
    if db.session.scalar(select(waiting)):
        return False
    data = {"message": "This is a test event from Memo."}
    db.session.add(
        WebhookDelivery(
            message_id=new_message_id(),
            webhook_id=webhook.id,
            type="webhook.test",
            body=body_of("webhook.test", utcnow(), data),
        )
    )
    return True


def next_due(user_id):
    """Return the account's next delivery due, never one whose note waits on an older one."""
    older = aliased(WebhookDelivery)
    waits = exists().where(
        older.webhook_id == WebhookDelivery.webhook_id,
        older.note_id == WebhookDelivery.note_id,
        older.state == "pending",
        older.id < WebhookDelivery.id,
    )
    return db.session.scalar(
        select(WebhookDelivery)
        .join(Webhook, Webhook.id == WebhookDelivery.webhook_id)
        .where(
            Webhook.user_id == user_id,
            Webhook.paused_at.is_(None),
            Webhook.disabled_at.is_(None),
            WebhookDelivery.state == "pending",
            WebhookDelivery.next_attempt_at <= utcnow(),
            ~waits,
        )
        .order_by(WebhookDelivery.id)
        .limit(1)
    )


def accounts_waiting():
    """Return the accounts with events not yet collected or deliveries due."""
    due = (
        select(Webhook.user_id)
        .join(WebhookDelivery, WebhookDelivery.webhook_id == Webhook.id)
        .where(
            Webhook.paused_at.is_(None),
            Webhook.disabled_at.is_(None),
            WebhookDelivery.state == "pending",
            WebhookDelivery.next_attempt_at <= utcnow(),
        )
    )
    uncollected = (
        select(Webhook.user_id)
        .join(NoteEvent, NoteEvent.user_id == Webhook.user_id)
        .where(
            Webhook.paused_at.is_(None),
            Webhook.disabled_at.is_(None),
            NoteEvent.seq > Webhook.seq_through,
        )
    )
    return sorted(set(db.session.scalars(due.union(uncollected)).all()))


def delete_old():
    """Delete deliveries done (delivered or failed) more than DONE_KEPT ago; return how many."""
    cutoff = utcnow() - DONE_KEPT
    return db.session.execute(
        WebhookDelivery.__table__.delete().where(
            WebhookDelivery.state != "pending", WebhookDelivery.created_at < cutoff
        )
    ).rowcount
