"""The webhooks' outbox: the account's events made deliveries, and what is due; the web and
the worker share it (the web adds a test event or sends one again; the worker collects and
picks). Sending is delivery.py's, in the worker only.

A delivery references its event (`event_id`, `note_id`), as Stripe keeps an event once and
lists each endpoint's attempts against it: no note text is kept in it. body_for() builds the
body when it is sent, from the note as it is then (`{"id", "deleted_at"}` once deleted for
good), so a deletion reaches everything waiting and kept.

collect: the account's events after each webhook's `seq_through` (the account's change
numbers commit in order, app/features/notes/changes.py) become deliveries of the webhooks that
asked for their type (and tag), each with a `message_id` made once, the same on every attempt.
A note's `note.updated` waiting to a webhook and not yet tried takes the newer update in
(coalesced: one delivery, of the newest state). The account's waiting deliveries are bounded,
counted in PostgreSQL under its webhooks' row locks: WEBHOOK_PENDING_ROWS rows and
WEBHOOK_PENDING_BYTES of what they would send; past either, collection stops for the webhook
(`full_at`, its owner mailed once) and its events wait in note_event until deliveries drain.
next_due: one due delivery at a time, never one whose note has an older delivery still
pending for that webhook (in order per note).
"""

import json
import secrets
from datetime import UTC, timedelta

from flask import current_app
from flask_babel import force_locale, gettext
from sqlalchemy import exists, func, select, update
from sqlalchemy.orm import aliased

from app.accounts.tasks import defer_mail
from app.extensions import db
from app.features.api.notes import note_json
from app.features.api.schemas import Deleted, NoteOut
from app.features.notes import events as note_events
from app.models import (
    Note,
    NoteEvent,
    NoteTombstone,
    User,
    Webhook,
    WebhookDelivery,
    utcnow,
)

COLLECT_BATCH = 500
BUDGET_SCOPE = "deliveries"  # webhook_throttle's scope: one row an account, an hour's attempts
DONE_KEPT = timedelta(days=7)  # deliveries delivered or failed, for the page's last 20
TEST = "webhook.test"
ENVELOPE_BYTES = 600  # a note's JSON around its title and text: names, times, flags, tags
TEST_BYTES = 200


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


def locked_webhooks(user_id):
    """Return the account's webhooks that collect, their rows locked (ordered by id, as every
    taker locks them): two collectors never make one delivery twice, nor both take its room."""
    return db.session.scalars(
        select(Webhook)
        .where(
            Webhook.user_id == user_id,
            Webhook.paused_at.is_(None),
            Webhook.disabled_at.is_(None),
        )
        .order_by(Webhook.id)
        .with_for_update()
    ).all()


class Room:
    """What the account's waiting deliveries may still take: read once, under the locks."""

    def __init__(self, user_id):
        config = current_app.config
        self.rows, self.bytes = db.session.execute(
            select(func.count(), func.coalesce(func.sum(WebhookDelivery.size), 0))
            .join(Webhook, Webhook.id == WebhookDelivery.webhook_id)
            .where(Webhook.user_id == user_id, WebhookDelivery.state == "pending")
        ).one()
        self.max_rows = config["WEBHOOK_PENDING_ROWS"]
        self.max_bytes = config["WEBHOOK_PENDING_BYTES"]

    def take(self, size):
        """Count one more delivery of `size` bytes; False (nothing counted) past a bound."""
        if self.rows + 1 > self.max_rows or self.bytes + size > self.max_bytes:
            return False
        self.rows, self.bytes = self.rows + 1, self.bytes + size
        return True


def collect(user_id):
    """Make deliveries of the account's events that its webhooks have not seen, while the
    account's waiting deliveries have room; return how many were made."""
    webhooks = locked_webhooks(user_id)
    room = Room(user_id) if webhooks else None
    made = sum(collect_for(webhook, room) for webhook in webhooks)
    db.session.commit()
    return made


def collect_for(webhook, room):
    """Make the webhook's deliveries of its next events; stop it where the room ends."""
    found = db.session.scalars(
        select(NoteEvent)
        .where(NoteEvent.user_id == webhook.user_id, NoteEvent.seq > webhook.seq_through)
        .order_by(NoteEvent.seq, NoteEvent.id)
        .limit(COLLECT_BATCH)
    ).all()
    made = 0
    for event in found:
        added = add_delivery(webhook, event, room)
        if added is None:
            if webhook.full_at is None:
                webhook.full_at = utcnow()
                defer_mail("webhook_full", webhook.user_id, webhook_id=webhook.id)
            return made
        made += added
        webhook.seq_through = max(webhook.seq_through, event.seq)
    webhook.full_at = None
    return made


def add_delivery(webhook, event, room):
    """Add the delivery of `event` to `webhook` if it asked for it; return 1 if added, 0 if
    not needed (another type or tag, or coalesced), None when there is no room."""
    event_type = type_of(event.kind)
    if event_type not in webhook.events:
        return 0
    found = db.session.execute(
        select(Note.tags, func.octet_length(Note.title) + func.octet_length(Note.content)).where(
            Note.id == event.note_id
        )
    ).first()
    tags, text_bytes = found if found is not None else (None, 0)
    if webhook.tag and tags is not None and webhook.tag not in tags:
        return 0
    size = ENVELOPE_BYTES + text_bytes
    if event_type == "note.updated" and coalesced(webhook, event, size, room):
        return 0
    if not room.take(size):
        return None
    db.session.add(
        WebhookDelivery(
            message_id=new_message_id(),
            webhook_id=webhook.id,
            event_id=event.id,
            note_id=event.note_id,
            type=event_type,
            size=size,
        )
    )
    return 1


def coalesced(webhook, event, size, room):
    """Fold the note's update into its `note.updated` delivery that waits untried; True if
    one took it (its bytes counted anew). Once tried, a delivery keeps its event: its
    receiver may have it already (at least once), so a later update is a delivery of its own."""
    waiting = db.session.execute(
        select(WebhookDelivery.id, WebhookDelivery.size)
        .where(
            WebhookDelivery.webhook_id == webhook.id,
            WebhookDelivery.note_id == event.note_id,
            WebhookDelivery.type == "note.updated",
            WebhookDelivery.state == "pending",
            WebhookDelivery.last_attempt_at.is_(None),
        )
        .with_for_update()
    ).first()
    if waiting is None:
        return False
    db.session.execute(
        update(WebhookDelivery)
        .where(WebhookDelivery.id == waiting.id)
        .values(event_id=event.id, size=size)
    )
    room.bytes += size - waiting.size
    return True


def add_test_delivery(webhook):
    """Add a test event to `webhook`, to be sent at once; return "added", "waiting" when one
    is still on its way (presses add no rows without end) or "full"."""
    locked_webhooks(webhook.user_id)
    waiting = exists().where(
        WebhookDelivery.webhook_id == webhook.id,
        WebhookDelivery.type == TEST,
        WebhookDelivery.state == "pending",
    )
    if db.session.scalar(select(waiting)):
        return "waiting"
    if not Room(webhook.user_id).take(TEST_BYTES):
        return "full"
    db.session.add(
        WebhookDelivery(
            message_id=new_message_id(), webhook_id=webhook.id, type=TEST, size=TEST_BYTES
        )
    )
    return "added"


def send_again(webhook, delivery_id):
    """Have a delivery of this webhook sent again (the same id, its body built anew: a note
    deleted for good goes as its tombstone); return "again", "full" or None if none."""
    locked_webhooks(webhook.user_id)
    delivery = db.session.scalar(
        select(WebhookDelivery).where(
            WebhookDelivery.id == delivery_id, WebhookDelivery.webhook_id == webhook.id
        )
    )
    if delivery is None:
        return None
    if delivery.state != "pending" and not Room(webhook.user_id).take(delivery.size):
        return "full"
    delivery.state, delivery.attempts, delivery.next_attempt_at = "pending", 0, utcnow()
    return "again"


def body_for(delivery, webhook):
    """Return the body `delivery` sends now, built from what it references: the note as it
    is now (or its tombstone), the test event's words in the account's language; None when
    the note no longer carries the webhook's tag (nothing to send)."""
    if delivery.type == TEST:
        user = db.session.get(User, webhook.user_id)
        with force_locale(user.language or "en"):
            data = {"message": gettext("This is a test event from Memo.")}
        return body_of(TEST, delivery.created_at, data)
    event = db.session.get(NoteEvent, delivery.event_id) if delivery.event_id else None
    moment, seq = (event.created_at, event.seq) if event else (delivery.created_at, None)
    data, tags = data_of(delivery.note_id)
    if webhook.tag and tags is not None and webhook.tag not in tags:
        return None
    return body_of(delivery.type, moment, data, seq)


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
