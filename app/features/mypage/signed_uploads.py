"""What my page's uploads straight to the store share: a signed ticket, and a form that holds
still while nothing changes.

A form's key is an HMAC of what it is for, the user and the user's latest upload of that
kind, so every view offers the same key until one is confirmed: an account holds at most one
unconfirmed upload of each kind (a second upload replaces the first), and a page view
writes nothing. The form's expiry is the end of a fixed window, so two views in one window
sign the same ticket; it travels signed in the address the store sends the browser back to,
and a confirm is bound to that signature and to the signed-in user.
"""

import hashlib
import hmac
from base64 import urlsafe_b64encode
from dataclasses import dataclass
from datetime import UTC, datetime

from flask import current_app
from itsdangerous import BadSignature, URLSafeSerializer

TOKEN_LENGTH = 24
FILENAME_FIELD = "x-amz-meta-filename"


@dataclass(frozen=True)
class Ticket:
    """One upload to the store that Memo signed: whose, under which token, until when."""

    user_id: int
    token: str
    expires_at: datetime


@dataclass
class PageForm:
    """A form on my page that sends a file to the store: its URL and fields, or why none."""

    url: str = ""
    fields: dict = None
    refusal: str = ""


def form_expiry(now, lifetime):
    """Return when a form shown at `now` runs out: the end of the window after now's.

    Windows are `lifetime` long and fixed on the clock, so every view in one window signs
    the same ticket, and each form stays good for one to two windows.
    """
    window = max(int(lifetime.total_seconds()), 1)
    start = int(now.timestamp()) // window * window
    return datetime.fromtimestamp(start + 2 * window, UTC)


def form_ticket(purpose, user_id, latest, now, lifetime):
    """Return the ticket of a form for `purpose`: the same key until the user's `latest`
    upload of that kind (its id, or 0) changes."""
    message = f"{purpose}:{user_id}:{latest}".encode()
    digest = hmac.new(current_app.secret_key.encode(), message, hashlib.sha256).digest()
    token = urlsafe_b64encode(digest).decode()[:TOKEN_LENGTH]
    return Ticket(user_id, token, form_expiry(now, lifetime))


def serializer(purpose):
    return URLSafeSerializer(current_app.secret_key, salt=purpose)


def sign(purpose, ticket):
    """Return the ticket signed, for the address the store sends the browser back to."""
    expires = int(ticket.expires_at.timestamp())
    return serializer(purpose).dumps([ticket.user_id, ticket.token, expires])


def read_ticket(purpose, signed, user_id):
    """Return the ticket a confirm carries, or None if Memo did not sign it for this user."""
    try:
        owner, token, expires = serializer(purpose).loads(signed or "")
    except (BadSignature, TypeError, ValueError):
        return None
    if owner != user_id or not isinstance(token, str) or not isinstance(expires, int):
        return None
    return Ticket(owner, token, datetime.fromtimestamp(expires, UTC))
