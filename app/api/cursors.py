"""Opaque page cursors: a position signed with the app's secret, bound to an account and a query.

The position is the pages' own cursor (app/notes/paging.py, cursor_of: pinned, time, id):
one codec for the list's place, wrapped here in the API's signature.

A cursor carries the account's id and a digest of the query it continues; one altered,
or replayed by another account or with another query, is refused with 400.
"""

import hashlib
import json

from flask import current_app, request
from flask_babel import gettext
from itsdangerous import BadSignature, URLSafeSerializer

from app.api.problems import Problem


def serializer():
    """Return the signer of cursors: the app's secret key, with a salt of its own."""
    return URLSafeSerializer(current_app.secret_key, salt="api-cursor")


def query_digest(query):
    """Return a short digest of what a list was asked for (all but the cursor and limit)."""
    asked = {key: value for key, value in query.items() if key not in ("cursor", "limit")}
    asked["route"] = request.endpoint  # a list's cursor never continues another list
    canonical = json.dumps(asked, sort_keys=True, default=str)
    return hashlib.sha256(canonical.encode()).hexdigest()[:16]


def make_cursor(user_id, query, position):
    """Return the cursor of the page after `position` (a list of plain values)."""
    return serializer().dumps([user_id, query_digest(query), position])


def read_cursor(user_id, query, cursor):
    """Return the position a cursor holds, or refuse one not made for this account and query."""
    try:
        owner, digest, position = serializer().loads(cursor)
    except (BadSignature, TypeError, ValueError):
        raise Problem(
            400, "invalid-cursor", gettext("The cursor is not one this API made.")
        ) from None
    if owner != user_id or digest != query_digest(query):
        raise Problem(
            400,
            "invalid-cursor",
            gettext("The cursor belongs to another account or another query."),
        )
    if isinstance(position, list):  # a cursor of the release before: [pinned, micros, id]
        return "-".join(str(int(value)) for value in position)
    return position
