"""Opaque page cursors: a position signed with the app's secret, bound to an account and a query.

The notes list's position is the pages' own cursor (app/features/notes/paging.py, cursor_of: pinned,
time, id): one codec for the list's place, wrapped here in the API's signature. A search's
is its last match's place in the ranking: [rank, microseconds of its creation, id].

A cursor carries the account's id and a digest of the query it continues; one altered,
or replayed by another account or with another query, is refused with 400.
"""

import hashlib
import json
from datetime import timedelta

from flask import current_app, request
from flask_babel import gettext
from itsdangerous import BadSignature, URLSafeSerializer

from app.features.api.problems import Problem
from app.features.notes.paging import EPOCH


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
    return position


def list_position(position):
    """Return the notes list's position a cursor held, in the pages' codec (a cursor of the
    release before held [pinned, micros, id])."""
    if isinstance(position, list):
        return "-".join(str(int(value)) for value in position)
    return position


def search_position(position):
    """Return (rank, created_at, id) from a search's cursor, or None for a cursor of the
    release before, which held the next page's number ([page]: an OFFSET) instead."""
    if len(position) == 1:
        return None
    rank, micros, note_id = position
    return float(rank), EPOCH + timedelta(microseconds=micros), int(note_id)


def search_cursor(match):
    """Return the position of a search's match, for the cursor of the page after it."""
    return [match.rank, (match.created_at - EPOCH) // timedelta(microseconds=1), match.id]
