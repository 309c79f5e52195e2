"""Delivering an account's note events to its webhooks: the worker's side.

1. collect: the account's events after each webhook's `seq_through` (the account's change
   numbers commit in order, app/features/notes/changes.py) become deliveries of the webhooks
   that asked for their type (and tag), each with a `message_id` made once, the same on every
   attempt; the body is the note as the API shows it when the event is read (normally within
   a second of its change), or `{"id", "deleted_at"}` once it is deleted for good.
2. send: one due delivery at a time, never one whose note has an older delivery still
   pending for that webhook (in order per note); counted against the account's hourly
   budget in PostgreSQL (WEBHOOK_DELIVERIES_PER_HOUR); signed with the `standardwebhooks`
   library (`webhook-id`, `webhook-timestamp`, `webhook-signature`: v1, the base64
   HMAC-SHA256 of id.timestamp.body); POSTed by app/fetcher's post(): the address vetted
   after DNS on every attempt and the connection pinned to the vetted address, no redirect
   followed, WEBHOOK_DEADLINE_SECONDS in all, the answer read to 4 KB at most.
3. retry: a 2xx delivers; anything else waits RETRY_WAITS (about a day in all); after the
   last, the delivery fails, the webhook is turned off and its owner mailed in the account's
   language (the account mail job).

At least once: a worker that dies between a receiver's answer and the commit sends again,
with the same `webhook-id`, which is what receivers deduplicate by.
"""

import json
import logging
import secrets
import time
from datetime import UTC, datetime, timedelta

from flask import current_app
from sqlalchemy import exists, select, update
from sqlalchemy.orm import aliased
from standardwebhooks.webhooks import Webhook as Signer

from app import throttle
from app.accounts.tasks import defer_mail
from app.extensions import db
from app.features.api.notes import note_json
from app.features.api.schemas import Deleted, NoteOut
from app.features.notes import events as note_events
from app.features.webhooks.service import delivery_settings, secret_of
from app.fetch_messages import FetchError
from app.fetcher import post
from app.models import (
    Note,
    NoteEvent,
    NoteTombstone,
    Webhook,
    WebhookDelivery,
    WebhookThrottle,
    utcnow,
)

logger = logging.getLogger("memo.webhooks")
HOUR = timedelta(hours=1)
# After the first attempt, as Standard Webhooks' reference schedule: about 27.5 hours in all.
RETRY_WAITS = (
    timedelta(seconds=5),
    timedelta(minutes=5),
    timedelta(minutes=30),
    timedelta(hours=2),
    timedelta(hours=5),
    timedelta(hours=10),
    timedelta(hours=10),
)
COLLECT_BATCH = 500
ERROR_MAX_LENGTH = 300
USER_AGENT = "Memo-Webhooks/1.0"


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
    """Add a test event to `webhook`, to be sent at once."""
    data = {"message": "This is a test event from Memo."}
    db.session.add(
        WebhookDelivery(
            message_id=new_message_id(),
            webhook_id=webhook.id,
            type="webhook.test",
            body=body_of("webhook.test", utcnow(), data),
        )
    )


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


def within_budget(user_id):
    """Count an attempt against the account's hourly budget; False past it (committed)."""
    limit = current_app.config["WEBHOOK_DELIVERIES_PER_HOUR"]
    attempts, _ = throttle.count_attempt("deliveries", str(user_id), HOUR, WebhookThrottle)
    db.session.commit()
    return attempts <= limit


def signed_headers(webhook, delivery, moment):
    """Return the Standard Webhooks headers of one attempt (a new timestamp, the same id)."""
    signature = Signer(secret_of(webhook)).sign(delivery.message_id, moment, delivery.body)
    return {
        "webhook-id": delivery.message_id,
        "webhook-timestamp": str(int(moment.timestamp())),
        "webhook-signature": signature,
        "Content-Type": "application/json",
        "User-Agent": USER_AGENT,
    }


def attempt(delivery):
    """POST the delivery once; return (status or None, error or None, milliseconds)."""
    webhook = db.session.get(Webhook, delivery.webhook_id)
    moment = datetime.now(UTC).replace(microsecond=0)
    headers = signed_headers(webhook, delivery, moment)
    url, body = webhook.url, delivery.body.encode()
    db.session.commit()  # no transaction stays open while a receiver takes its time
    settings = delivery_settings()
    started = time.monotonic()
    try:
        status = post(
            url,
            body,
            headers,
            allow_loopback=settings["allow_loopback"],
            allow_http=settings["allow_http"],
            deadline=settings["deadline"],
        )
        error = None
    except FetchError as refused:
        status, error = None, str(refused)[:ERROR_MAX_LENGTH]
    return status, error, round((time.monotonic() - started) * 1000)


def record(delivery_id, status, error, duration_ms):
    """Record an attempt's outcome; turn the webhook off after the last retry."""
    delivery = db.session.get(WebhookDelivery, delivery_id)
    if delivery is None:
        return  # its webhook was ended meanwhile
    delivery.attempts += 1
    delivery.last_attempt_at = utcnow()
    delivery.last_status, delivery.last_error, delivery.duration_ms = status, error, duration_ms
    if status is not None and 200 <= status < 300:
        delivery.state = "delivered"
    elif delivery.attempts > len(RETRY_WAITS):
        delivery.state = "failed"
        turn_off(delivery.webhook_id)
    else:
        delivery.next_attempt_at = utcnow() + RETRY_WAITS[delivery.attempts - 1]
    db.session.commit()


def turn_off(webhook_id):
    """Turn a webhook off after a day of failures: its pending deliveries fail too, and its
    owner is mailed."""
    webhook = db.session.get(Webhook, webhook_id)
    if webhook.disabled_at is not None:
        return
    webhook.disabled_at = utcnow()
    db.session.execute(
        update(WebhookDelivery)
        .where(WebhookDelivery.webhook_id == webhook_id, WebhookDelivery.state == "pending")
        .values(state="failed")
    )
    defer_mail("webhook_disabled", webhook.user_id, webhook_id=webhook_id)
    logger.info("webhook %s turned off after a day of failed deliveries", webhook_id)


def send_due(user_id, seconds):
    """Collect the account's events, then send its due deliveries for up to `seconds`;
    return how many were attempted."""
    collect(user_id)
    started, sent = time.monotonic(), 0
    while time.monotonic() - started < seconds:
        delivery = next_due(user_id)
        if delivery is None:
            break
        if not within_budget(user_id):
            logger.info("account %s spent its hourly webhook budget", user_id)
            break
        delivery_id = delivery.id
        record(delivery_id, *attempt(delivery))
        sent += 1
    return sent


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


def delete_old(days=7):
    """Delete deliveries done (delivered or failed) more than `days` ago; return how many."""
    cutoff = utcnow() - timedelta(days=days)
    return db.session.execute(
        WebhookDelivery.__table__.delete().where(
            WebhookDelivery.state != "pending", WebhookDelivery.created_at < cutoff
        )
    ).rowcount
