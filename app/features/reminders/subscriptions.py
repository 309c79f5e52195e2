"""Browsers subscribed to an account's reminders by Web Push: the web's side.

A page's script hands over what the browser's PushManager made with Memo's VAPID public key:
the push service's endpoint and the browser's keys. This module checks them (an https
address the worker may send to, a P-256 point, a 16-byte secret), keeps at most
PUSH_SUBSCRIPTIONS_PER_USER an account (counted under the account's row lock) and ends them.
It loads no cryptography: the keys are checked as bytes and as a point of the curve in plain
arithmetic (config_parsing), and sending is app/features/reminders/pushing.py's, in the worker.
"""

from flask import current_app
from flask_babel import gettext, ngettext
from sqlalchemy import delete, select

from app.errors import Refused
from app.extensions import db
from app.features.grants.ceremony import session_maker
from app.fetcher.addresses import check_address
from app.fetcher.messages import FetchError
from app.i18n.stored import translated_text
from app.models import PushSubscription, lock_user
from app.models.push import ENDPOINT_MAX_LENGTH
from config_parsing import base64url_bytes, p256_point

AUTH_SECRET_BYTES = 16


class SubscriptionRefused(Refused):
    """A subscription Memo does not keep; the text says why, in the reader's language."""


def push_offered():
    """Return whether Web Push is set up (VAPID keys in the environment)."""
    return current_app.config.get("VAPID") is not None


def push_settings():
    """Return how the worker reaches push services; loopback and a test certificate
    authority only ever in the test suite, as the word counter's fetcher."""
    config = current_app.config
    # Production config cannot lift these: the keys count only under TestingConfig.
    testing = current_app.testing and config["ENVIRONMENT"] == "testing"
    return {
        "allow_loopback": testing and config.get("FETCH_ALLOW_LOOPBACK", False),
        "ca_certs": config.get("PUSH_CA_FILE") if testing else None,
        "deadline": config["PUSH_DEADLINE_SECONDS"],
    }


def checked_endpoint(endpoint):
    """Return the push service's address if the worker may send to it, or raise."""
    if len(endpoint) > ENDPOINT_MAX_LENGTH:
        raise SubscriptionRefused(
            gettext(
                "The push service's address is longer than %(max)d characters.",
                max=ENDPOINT_MAX_LENGTH,
            )
        )
    if not endpoint.startswith("https://"):
        raise SubscriptionRefused(gettext("The push service's address must start with https://."))
    try:
        check_address(endpoint, push_settings()["allow_loopback"])
    except FetchError as error:
        raise SubscriptionRefused(
            gettext(
                "Memo does not send to this push service's address: %(reason)s",
                reason=translated_text(str(error)),
            )
        ) from None
    return endpoint


def checked_keys(p256dh, auth):
    """Return the browser's keys without base64 padding, or raise when they are not a P-256
    public key (65 bytes, a point of the curve) and a 16-byte secret, base64url."""
    if p256_point(base64url_bytes(p256dh)) is None:
        raise SubscriptionRefused(
            gettext("The browser's p256dh key is not a P-256 public key (65 bytes, base64url).")
        )
    secret = base64url_bytes(auth)
    if secret is None or len(secret) != AUTH_SECRET_BYTES:
        raise SubscriptionRefused(
            gettext("The browser's auth secret is not 16 bytes of base64url.")
        )
    return p256dh.rstrip("="), auth.rstrip("=")


def subscribe(user, endpoint, p256dh, auth):
    """Keep (or renew) this browser's subscription for `user`, bound to its session.

    Raises SubscriptionRefused for a bad address or keys, or past the account's budget.
    """
    endpoint = checked_endpoint(endpoint)
    p256dh, auth = checked_keys(p256dh, auth)
    lock_user(user.id)
    subscription = db.session.scalar(
        select(PushSubscription).where(
            PushSubscription.user_id == user.id, PushSubscription.endpoint == endpoint
        )
    )
    if subscription is None:
        check_room(user.id)
        subscription = PushSubscription(user_id=user.id, endpoint=endpoint)
        db.session.add(subscription)
    subscription.p256dh_public_key, subscription.auth_secret = p256dh, auth
    maker = session_maker(user)  # a grant that opens nothing: recorded, no ceremony
    for column, value in maker.columns(PushSubscription).items():
        setattr(subscription, column, value)
    subscription.login_session_id = maker.session_id
    db.session.flush()
    return subscription


def check_room(user_id):
    """Raise SubscriptionRefused when the account has PUSH_SUBSCRIPTIONS_PER_USER already."""
    most = current_app.config["PUSH_SUBSCRIPTIONS_PER_USER"]
    if PushSubscription.count_of(user_id) >= most:
        raise SubscriptionRefused(
            ngettext(
                "Notifications come to %(num)d device at most: turn them off on one first.",
                "Notifications come to %(num)d devices at most: turn them off on one first.",
                most,
            )
        )


def unsubscribe(user_id, endpoint):
    """End the account's subscription of one browser (by its endpoint); return if it had one."""
    ended = db.session.execute(
        delete(PushSubscription).where(
            PushSubscription.user_id == user_id, PushSubscription.endpoint == endpoint
        )
    )
    return ended.rowcount > 0


def unsubscribe_all(user_id):
    """End every subscription of the account; return how many ended."""
    ended = db.session.execute(delete(PushSubscription).where(PushSubscription.user_id == user_id))
    return ended.rowcount
