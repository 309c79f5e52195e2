"""Pushing a reminder's occurrence to its account's browsers, each once (Web Push): the
worker's side (the web never loads this module, nor pywebpush and cryptography).

For each browser the payload (JSON: title, body, url, lang, tag) is encrypted with
pywebpush's WebPusher.encode (RFC 8291, aes128gcm) and signed for the push service with
py_vapid (RFC 8292: a JWT whose `aud` is the service's origin and `exp` VAPID_HOURS on), then
app.fetcher.client.post sends it to the address the browser gave, vetted and pinned as a word
count's page is (https only, public addresses only, the connection to the very address that
was checked). pywebpush's own send() is not used: it POSTs through requests, which looks the
host up again by itself (a second DNS answer could point it inside the network) and keeps to
no deadline of ours; pywebpush 2.5 has no public way to hand it a connection.

A try holds its worker slot about PUSH_DEADLINE_SECONDS, however many browsers: their POSTs go
out at once, each cut off at that deadline (connect and read together), so a service that
accepts the connection and never answers costs one deadline, not one per browser. The job
runs in its account's lane (lock `user:<id>`, app/features/reminders/tasks.py): one account's
slow services hold one slot at most.

Once, as the mail is: the occurrence row is locked while its push is prepared and its
outcome moves from `queued` only here. Each browser that took the push is added to
`pushed_to` in its own short transaction, so a retry (a push service that answered 5xx or
not at all) sends only to the others. A 404 or 410 (the browser let go of it) or an address
refused after DNS deletes the subscription. The window left is a crash between a service's
answer and that commit: the retry pushes again, with the same `tag`, which a browser shows
as one notification.
"""

import json
import logging
import time
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from functools import cache
from urllib.parse import urlsplit

from flask import current_app
from flask_babel import force_locale, gettext
from py_vapid import Vapid
from pywebpush import WebPusher
from sqlalchemy import case, delete, func, select, update

from app import mail
from app.extensions import db
from app.features.reminders.firing import HOUR, TemporaryPushError
from app.features.reminders.subscriptions import push_offered, push_settings
from app.fetcher.client import post
from app.fetcher.messages import AddressRefused, FetchError
from app.models import PushSubscription, ReminderOccurrence, User, lock_user, utcnow

logger = logging.getLogger("memo.reminders")
GONE = frozenset({404, 410})  # the browser let go of the subscription (RFC 8030, 7.3)
VAPID_HOURS = 12  # a JWT's lifetime; push services refuse more than 24 hours
ELLIPSIS = "…"


@dataclass(frozen=True)
class Target:
    """A subscription as the send needs it, read before the transaction ends."""

    id: int
    endpoint: str
    p256dh: str
    auth: str


def deliver_push(occurrence_id):
    """Push an occurrence to each browser of its account once, unless it went void or the
    account's hourly budget is spent; raise TemporaryPushError to retry the browsers left."""
    targets, payload = prepare(occurrence_id)
    outcomes = post_all([(target, sealed(target, payload)) for target in targets])
    missed = [
        target.id
        for target, outcome in zip(targets, outcomes, strict=True)
        if not settle(occurrence_id, target, outcome)
    ]
    if missed:
        raise TemporaryPushError(f"{len(missed)} of {len(targets)} push services did not take it")
    if targets:
        finish(occurrence_id)


def prepare(occurrence_id):
    """Decide the occurrence's push under its lock; return the browsers still to push to and
    the payload (none when it is done, void or held)."""
    occurrence = db.session.scalar(
        select(ReminderOccurrence).where(ReminderOccurrence.id == occurrence_id).with_for_update()
    )
    if occurrence is None or occurrence.push_outcome != "queued":
        return [], None  # its reminder was removed (the row went with it), or it was handled
    user = db.session.get(User, occurrence.user_id)
    lock_user(user.id)
    outcome, targets, payload = outcome_of(occurrence, user), [], None
    if outcome == "queued":
        targets = [
            Target(row.id, row.endpoint, row.p256dh_public_key, row.auth_secret)
            for row in PushSubscription.of(user.id)
            if row.id not in occurrence.pushed_to
        ]
        if targets:
            payload = payload_of(user, occurrence)
        else:
            outcome = "sent" if occurrence.pushed_to else "void"
    occurrence.push_outcome = outcome
    db.session.commit()
    return targets, payload


def outcome_of(occurrence, user):
    """Return "void" when the occurrence should no longer be pushed, "held" when the account
    pushed REMINDER_PUSHES_PER_HOUR reminders within the hour, else "queued"."""
    reminder, note = occurrence.reminder, occurrence.note
    if reminder.generation != occurrence.generation or note.deleted_at is not None:
        return "void"
    if not push_offered():
        return "void"  # the keys were taken out of the environment since it fired
    if occurrence.pushed_at is not None:
        return "queued"  # counted when its first browser took it
    pushed = db.session.scalar(
        select(func.count())
        .select_from(ReminderOccurrence)
        .where(
            ReminderOccurrence.user_id == user.id,
            ReminderOccurrence.pushed_at > utcnow() - HOUR,
        )
    )
    return "held" if pushed >= current_app.config["REMINDER_PUSHES_PER_HOUR"] else "queued"


def payload_of(user, occurrence):
    """Return the push's payload in the account's language: the mail's subject (the generic
    line when the reminder is private), a line to open the note, its link on PUBLIC_URL."""
    note, private = occurrence.note, occurrence.reminder.private
    language = user.language or "en"
    with force_locale(language):
        title = note.title
        words = {
            "title": gettext("Reminder: a note of yours") if private else None,
            "body": gettext("Open the note in Memo."),
            "url": mail.link("notes.detail", note_id=note.id),
            "lang": language,
            "tag": f"reminder-{occurrence.id}",
        }
        return fitted(words, None if private else title)


def fitted(words, title):
    """Return the payload as UTF-8 JSON of at most PUSH_PAYLOAD_MAX_BYTES, the note's title
    (in "Reminder: %(title)s") cut short, with an ellipsis, as far as it must be."""
    most = current_app.config["PUSH_PAYLOAD_MAX_BYTES"]
    cut = title
    while True:
        if title is not None:
            shown = cut if cut == title else cut + ELLIPSIS
            words["title"] = gettext("Reminder: %(title)s", title=shown)
        payload = json.dumps(words, ensure_ascii=False, separators=(",", ":")).encode()
        if len(payload) <= most or not cut:
            return payload
        cut = cut[: len(cut) * 3 // 4]


def post_all(pushes):
    """POST each (target, sealed push) at once, each within PUSH_DEADLINE_SECONDS; return each
    one's status, or the error that stopped it (a push that could not be sealed stays one)."""
    settings = push_settings()

    def attempt(sealed_push):
        if isinstance(sealed_push, Exception):
            return sealed_push
        endpoint, body, headers = sealed_push
        try:
            return post(endpoint, body, headers, **settings)
        except FetchError as error:
            return error

    if not pushes:
        return []
    with ThreadPoolExecutor(max_workers=len(pushes), thread_name_prefix="push") as pool:
        return list(pool.map(attempt, [sealed_push for _, sealed_push in pushes]))


def settle(occurrence_id, target, outcome):
    """Record one browser's push (a status, or the error that stopped it); return False when
    its service should be tried again later."""
    if isinstance(outcome, AddressRefused):
        logger.warning("push subscription %s deleted: %s", target.id, outcome)
        return forget(target.id)
    if isinstance(outcome, FetchError):
        logger.warning("push to subscription %s not sent: %s", target.id, outcome)
        return False
    if isinstance(outcome, ValueError):  # the browser's key is no point of the curve after all
        logger.warning("push subscription %s deleted: its key cannot be used", target.id)
        return forget(target.id)
    if outcome in GONE:
        logger.info("push subscription %s deleted: its service answered %s", target.id, outcome)
        return forget(target.id)
    if not 200 <= outcome < 300:
        logger.warning("push to subscription %s answered %s", target.id, outcome)
        return False
    db.session.execute(
        update(ReminderOccurrence)
        .where(ReminderOccurrence.id == occurrence_id)
        .values(
            pushed_to=func.array_append(ReminderOccurrence.pushed_to, target.id),
            pushed_at=func.coalesce(ReminderOccurrence.pushed_at, func.now()),
        )
    )
    db.session.commit()
    return True


def forget(subscription_id):
    """Delete a subscription that can never take a push; return True (nothing to retry)."""
    db.session.execute(delete(PushSubscription).where(PushSubscription.id == subscription_id))
    db.session.commit()
    return True


def sealed(target, payload):
    """Return (endpoint, body, headers) of the push to the browser: `payload` encrypted for it
    and signed for its push service; or the ValueError of a key that cannot be used."""
    keys = {"p256dh": target.p256dh, "auth": target.auth}
    try:
        body = WebPusher({"endpoint": target.endpoint, "keys": keys}).encode(payload, "aes128gcm")
    except ValueError as error:
        return error
    headers = vapid_headers(target.endpoint)
    headers.update(
        {
            "Content-Encoding": "aes128gcm",
            "Content-Type": "application/octet-stream",
            "TTL": str(current_app.config["PUSH_TTL_SECONDS"]),
            "Urgency": "high",
        }
    )
    return target.endpoint, body["body"], headers


def vapid_headers(endpoint):
    """Return the Authorization header (`vapid t=JWT,k=public key`) for `endpoint`'s service."""
    parts = urlsplit(endpoint)
    vapid = current_app.config["VAPID"]
    claims = {
        "aud": f"{parts.scheme}://{parts.netloc}",
        "sub": vapid["subject"],
        "exp": int(time.time()) + VAPID_HOURS * 3600,
    }
    return signer(vapid["private_key"]).sign(claims)


@cache
def signer(private_key):
    """Return py_vapid's signer of the VAPID private key (parsed once per process)."""
    return Vapid.from_string(private_key=private_key)


def finish(occurrence_id):
    """Mark the occurrence's push done: sent when a browser took it, void when every one
    let go of it."""
    taken = func.cardinality(ReminderOccurrence.pushed_to) > 0
    db.session.execute(
        update(ReminderOccurrence)
        .where(ReminderOccurrence.id == occurrence_id, ReminderOccurrence.push_outcome == "queued")
        .values(push_outcome=case((taken, "sent"), else_="void"))
    )
    db.session.commit()
