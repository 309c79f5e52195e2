"""Sending an account's webhook deliveries: the worker's side (the web never loads this module,
nor app/fetcher and standardwebhooks).

Each due delivery (outbox.py picks it, in order per note) is counted against the account's
hourly budget in PostgreSQL (WEBHOOK_DELIVERIES_PER_HOUR); its body built then, from the
note as it is (outbox.body_for); signed with the `standardwebhooks`
library (`webhook-id`, `webhook-timestamp`, `webhook-signature`: v1, the base64 HMAC-SHA256 of
id.timestamp.body); POSTed by app/fetcher/client.py's post(): the address vetted after DNS on every
attempt and the connection pinned to the vetted address, no redirect followed,
WEBHOOK_DEADLINE_SECONDS in all, the answer read to 4 KB at most. A 2xx delivers; anything
else waits RETRY_WAITS (about a day in all); after the last, the delivery fails, the webhook
is turned off and its owner mailed in the account's language (the account mail job).

At least once: a worker that dies between a receiver's answer and the commit sends again,
with the same `webhook-id`, which is what receivers deduplicate by.
"""

import logging
import time
from datetime import UTC, datetime, timedelta

from flask import current_app
from sqlalchemy import update
from standardwebhooks.webhooks import Webhook as Signer

from app import throttle
from app.accounts.tasks import defer_mail
from app.extensions import db
from app.features.webhooks import outbox
from app.features.webhooks.service import delivery_settings, secret_of, sending_words
from app.fetcher.client import post
from app.fetcher.messages import FetchError
from app.models import Webhook, WebhookDelivery, WebhookThrottle, utcnow

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
ERROR_MAX_LENGTH = 300
USER_AGENT = "Memo-Webhooks/1.0"


def within_budget(user_id):
    """Count an attempt against the account's hourly budget; False past it (committed)."""
    limit = current_app.config["WEBHOOK_DELIVERIES_PER_HOUR"]
    attempts, _ = throttle.count_attempt(outbox.BUDGET_SCOPE, str(user_id), HOUR, WebhookThrottle)
    db.session.commit()
    return attempts <= limit


def signed_headers(webhook, message_id, body, moment):
    """Return the Standard Webhooks headers of one attempt (a new timestamp, the same id)."""
    signature = Signer(secret_of(webhook)).sign(message_id, moment, body)
    return {
        "webhook-id": message_id,
        "webhook-timestamp": str(int(moment.timestamp())),
        "webhook-signature": signature,
        "Content-Type": "application/json",
        "User-Agent": USER_AGENT,
    }


def claimed(delivery_id):
    """Return the delivery, marked as tried under its row lock before its body is built: an
    update collected meanwhile is no longer folded into it (outbox.coalesced)."""
    db.session.execute(
        update(WebhookDelivery)
        .where(WebhookDelivery.id == delivery_id)
        .values(last_attempt_at=utcnow())
    )
    return db.session.get(WebhookDelivery, delivery_id, populate_existing=True)


def attempt(delivery_id):
    """POST the delivery once, its body built now; return (status or None, error or None,
    milliseconds), or None when its webhook was ended meanwhile (the delivery went with it)
    or its note left the webhook's tag (the delivery is dropped: nothing to send)."""
    delivery = claimed(delivery_id)
    webhook = delivery and db.session.get(Webhook, delivery.webhook_id)
    if webhook is None:
        return None
    body = outbox.body_for(delivery, webhook)
    if body is None:
        db.session.delete(delivery)
        db.session.commit()
        return None
    moment = datetime.now(UTC).replace(microsecond=0)
    headers = signed_headers(webhook, delivery.message_id, body, moment)
    url = webhook.url
    db.session.commit()  # no transaction stays open while a receiver takes its time
    settings = delivery_settings()
    started = time.monotonic()
    try:
        status = post(
            url,
            body.encode(),
            headers,
            allow_loopback=settings["allow_loopback"],
            allow_http=settings["allow_http"],
            deadline=settings["deadline"],
        )
        error = None
    except FetchError as refused:
        status, error = None, sending_words(refused)[:ERROR_MAX_LENGTH]
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
    outbox.collect(user_id)
    started, sent = time.monotonic(), 0
    while time.monotonic() - started < seconds:
        delivery = outbox.next_due(user_id)
        if delivery is None:
            break
        delivery_id = delivery.id
        if not within_budget(user_id):
            logger.info("account %s spent its hourly webhook budget", user_id)
            break
        outcome = attempt(delivery_id)
        if outcome is not None:
            record(delivery_id, *outcome)
            sent += 1
    return sent
