"""The rules of webhooks and feeds: the one place that makes, lists, pauses, keeps and ends them.

A webhook's address must be one the worker may POST to (app/fetcher/addresses.py, the word
counter's checks: public addresses only, checked again after DNS on every delivery by
delivery.py), https outside development and tests; its events a non-empty subset of
WEBHOOK_EVENTS; an optional tag. At most WEBHOOKS_PER_USER an account, counted under the
account's row lock. Its secret (`whsec_` + base64 of 32 random bytes, as Standard Webhooks
writes them) is returned once, and kept encrypted (TWO_STEP_KEY's Fernet keys): Memo needs it
back to sign. A feed's token (`memo_feed_` + 43 characters) is shown once in its URL; only its
SHA-256 is kept. None of these functions commits, nor logs a secret.
"""

import base64
import secrets

from flask import current_app
from flask_babel import gettext, ngettext
from sqlalchemy import func, select, update

from app.errors import Refused
from app.extensions import db
from app.features.second_step.totp import keys
from app.fetcher.addresses import check_address
from app.fetcher.messages import AddressRefused, FetchError
from app.i18n.stored import translated_text
from app.models import (
    WEBHOOK_EVENTS,
    WEBHOOK_URL_MAX_LENGTH,
    AtomFeed,
    ChangeCounter,
    Webhook,
    WebhookDelivery,
    hash_token,
    lock_user,
)
from app.tags import tag_name

SECRET_PREFIX = "whsec_"  # noqa: S105  (the prefix Standard Webhooks gives secrets)
SECRET_BYTES = 32
FEED_PREFIX = "memo_feed_"
SHOWN_DELIVERIES = 20


class WebhookRefused(Refused):
    """A webhook or feed that is not made: the message says why; `field` names the input at
    fault (422), and a limit of the account's names none (409)."""


def delivery_settings():
    """Return how the worker reaches receivers: loopback only in the test suite (as the word
    counter's fetcher) and in development (WEBHOOK_ALLOW_LOOPBACK: a receiver on the
    developer's machine), plain http in development and tests only."""
    config = current_app.config
    # Production config cannot lift these: each key counts only under its own config.
    testing = current_app.testing and config["ENVIRONMENT"] == "testing"
    developing = config["ENVIRONMENT"] == "development"
    return {
        "allow_loopback": (testing and config.get("FETCH_ALLOW_LOOPBACK", False))
        or (developing and config.get("WEBHOOK_ALLOW_LOOPBACK", False)),
        "allow_http": config["ENVIRONMENT"] in ("development", "testing"),
        "deadline": config["WEBHOOK_DEADLINE_SECONDS"],
    }


def checked_url(url):
    """Return the receiver's address if the worker may POST to it, or raise WebhookRefused."""
    url = (url or "").strip()
    if not url:
        raise WebhookRefused(gettext("Give the address to send the events to."), field="url")
    if len(url) > WEBHOOK_URL_MAX_LENGTH:
        raise WebhookRefused(
            gettext("The address is longer than %(max)d characters.", max=WEBHOOK_URL_MAX_LENGTH),
            field="url",
        )
    settings = delivery_settings()
    if not url.lower().startswith("https://") and not (
        settings["allow_http"] and url.lower().startswith("http://")
    ):
        raise WebhookRefused(gettext("The address must start with https://."), field="url")
    try:
        check_address(url, settings["allow_loopback"])
    except AddressRefused as refused:
        raise WebhookRefused(translated_text(refused.sent_words()), field="url") from None
    except FetchError as error:
        raise WebhookRefused(
            gettext(
                "Memo does not send to this address: %(reason)s",
                reason=translated_text(str(error)),
            ),
            field="url",
        ) from None
    return url


def sending_words(error):
    """Return why a delivery was not sent, as sending (not fetching) says it, to store."""
    return error.sent_words() if isinstance(error, AddressRefused) else str(error)


def checked_events(events):
    """Return the events asked for, in WEBHOOK_EVENTS' order, or raise WebhookRefused."""
    asked = set(events or ())
    unknown = sorted(asked - set(WEBHOOK_EVENTS))
    if unknown or not asked:
        raise WebhookRefused(
            gettext("Choose events among: %(events)s.", events=", ".join(WEBHOOK_EVENTS)),
            field="events",
        )
    return [event for event in WEBHOOK_EVENTS if event in asked]


def checked_tag(tag):
    """Return the tag `tag` names (folded as a note's), None for none, or raise."""
    if not (tag or "").strip():
        return None
    name = tag_name(tag)
    if name is None:
        raise WebhookRefused(
            gettext("This is not a tag: write it as in a note, #name."), field="tag"
        )
    return name


def new_secret():
    """Return a new signing secret, as Standard Webhooks writes them: whsec_ and base64."""
    return SECRET_PREFIX + base64.b64encode(secrets.token_bytes(SECRET_BYTES)).decode()


def seal(secret):
    """Return the secret encrypted for keeping."""
    return keys().encrypt(secret.encode()).decode()


def secret_of(webhook):
    """Return the webhook's signing secret."""
    return keys().decrypt(webhook.secret.encode()).decode()


def last_seq(user_id):
    """Return the account's newest change number (0 before its first change)."""
    found = db.session.scalar(
        select(ChangeCounter.last_seq).where(ChangeCounter.user_id == user_id)
    )
    return found or 0


def make_webhook(user_id, url, events, tag=None, maker=None):
    """Add a webhook of the account's; return (webhook, its secret). Events from now on.
    `maker`: who makes it, with its proofs (app/features/grants/ceremony.py)."""
    url, events, tag = checked_url(url), checked_events(events), checked_tag(tag)
    lock_user(user_id)
    limit = current_app.config["WEBHOOKS_PER_USER"]
    if len(webhooks_of(user_id)) >= limit:
        raise WebhookRefused(
            ngettext(
                "An account has at most %(num)d webhook: end one first.",
                "An account has at most %(num)d webhooks: end one first.",
                limit,
            ),
            status=409,
        )
    secret = new_secret()
    webhook = Webhook(
        user_id=user_id,
        url=url,
        events=events,
        tag=tag,
        secret=seal(secret),
        seq_through=last_seq(user_id),
        **(maker.columns(Webhook) if maker else {}),
    )
    db.session.add(webhook)
    db.session.flush()
    return webhook, secret


def webhooks_of(user_id):
    """Return the account's webhooks, oldest first."""
    return db.session.scalars(
        select(Webhook).where(Webhook.user_id == user_id).order_by(Webhook.id)
    ).all()


def find_webhook(user_id, webhook_id):
    """Return the account's webhook `webhook_id`, or None (another account's too)."""
    return db.session.scalar(
        select(Webhook).where(Webhook.id == webhook_id, Webhook.user_id == user_id)
    )


def end_webhook(user_id, webhook_id):
    """End one of the account's webhooks (its deliveries go with it); False if none."""
    webhook = find_webhook(user_id, webhook_id)
    if webhook is None:
        return False
    db.session.delete(webhook)
    return True


def resume(model, user_id, row_id):
    """Resume the account's webhook or feed `row_id` that a recovery paused; False if there
    is no such paused one."""
    resumed = db.session.execute(
        update(model)
        .where(model.id == row_id, model.user_id == user_id, model.paused_at.is_not(None))
        .values(paused_at=None, paused_reason=None)
    )
    return resumed.rowcount == 1


def keep_webhook(user_id, webhook_id):
    """Keep a webhook a recovery paused: its events flow again from where they stopped."""
    return resume(Webhook, user_id, webhook_id)


def turn_on(user_id, webhook_id):
    """Turn on again a webhook turned off after failing: events from now on."""
    return (
        db.session.execute(
            update(Webhook)
            .where(
                Webhook.id == webhook_id,
                Webhook.user_id == user_id,
                Webhook.disabled_at.is_not(None),
            )
            .values(disabled_at=None, seq_through=last_seq(user_id))
        ).rowcount
        == 1
    )


def deliveries_of(webhook_id, limit=SHOWN_DELIVERIES):
    """Return the webhook's latest deliveries, newest first."""
    return db.session.scalars(
        select(WebhookDelivery)
        .where(WebhookDelivery.webhook_id == webhook_id)
        .order_by(WebhookDelivery.id.desc())
        .limit(limit)
    ).all()


# Feeds


def make_feed(user_id, tag=None, maker=None):
    """Add a private feed of the account's notes (of one tag's); return (feed, its token).
    `maker`: who makes it, with its proofs (app/features/grants/ceremony.py)."""
    tag = checked_tag(tag)
    lock_user(user_id)
    limit = current_app.config["FEEDS_PER_USER"]
    if len(feeds_of(user_id)) >= limit:
        raise WebhookRefused(
            ngettext(
                "An account has at most %(num)d feed: revoke one first.",
                "An account has at most %(num)d feeds: revoke one first.",
                limit,
            ),
            status=409,
        )
    token = FEED_PREFIX + secrets.token_urlsafe(32)
    feed = AtomFeed(
        user_id=user_id,
        token_hash=hash_token(token),
        tag=tag,
        **(maker.columns(AtomFeed) if maker else {}),
    )
    db.session.add(feed)
    db.session.flush()
    return feed, token


def feeds_of(user_id):
    """Return the account's feeds not revoked, oldest first."""
    return db.session.scalars(
        select(AtomFeed)
        .where(AtomFeed.user_id == user_id, AtomFeed.revoked_at.is_(None))
        .order_by(AtomFeed.id)
    ).all()


def feed_by_token(token):
    """Return the feed the token opens, or None (unknown, revoked or paused)."""
    query = open_feed(token)
    return None if query is None else db.session.scalar(query)


def open_feed(token):
    """Return the query of the feed the token opens (a reader may add columns to it), or
    None for a token that is not a feed's."""
    if not token.startswith(FEED_PREFIX) or len(token) > 100:
        return None
    return select(AtomFeed).where(
        AtomFeed.token_hash == hash_token(token),
        AtomFeed.revoked_at.is_(None),
        AtomFeed.paused_at.is_(None),
    )


def revoke_feed(user_id, feed_id):
    """Revoke one of the account's feeds: its URL answers 404 from now on."""
    return (
        db.session.execute(
            update(AtomFeed)
            .where(
                AtomFeed.id == feed_id,
                AtomFeed.user_id == user_id,
                AtomFeed.revoked_at.is_(None),
            )
            .values(revoked_at=func.now())
        ).rowcount
        == 1
    )


def keep_feed(user_id, feed_id):
    """Keep a feed a recovery paused: its URL reads again."""
    return resume(AtomFeed, user_id, feed_id)
