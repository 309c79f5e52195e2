"""The API's change feed: what changed in the account's notes after a number, deletions too.

A device keeps the `next_since` of the last page it read and asks from it: each item is a
note as it is now (trashed ones too) or a note deleted for good, in the order of the
account's change sequence (app/features/notes/changes.py). A `since` older than the tombstones kept
answers 410: the device reads everything again from 0.
"""

from flask_babel import gettext
from marshmallow import RAISE

from app.features.api import bp
from app.features.api.auth import api_user
from app.features.api.documented import problems
from app.features.api.notes import note_json
from app.features.api.problems import Problem
from app.features.api.schemas import Changes, ChangesQuery
from app.features.notes import changes
from app.models import NoteTombstone


def item_json(item):
    """Return one change as the feed shows it."""
    if isinstance(item, NoteTombstone):
        return {"seq": item.seq, "deleted": {"id": item.note_id, "deleted_at": item.deleted_at}}
    return {"seq": item.seq, "note": note_json(item)}


@bp.get("/changes")
@bp.arguments(ChangesQuery, location="query", as_kwargs=True, unknown=RAISE)
@bp.response(200, Changes)
@problems(410, 422)
def list_changes(since, limit):
    """List what changed in the account's notes after `since`.

    In the order of the account's change sequence: a note as it is now (trashed ones too),
    or one deleted for good. Ask again from `next_since`. 410 when `since` is older than the
    deletions kept (90 days): read everything again from 0.
    """
    try:
        found = changes.feed(api_user().id, since, limit)
    except changes.Gone:
        raise Problem(
            410,
            "changes-forgotten",
            gettext("Changes this old are no longer kept: read every note again from 0."),
        ) from None
    return {
        "items": [item_json(item) for item in found],
        "next_since": found[-1].seq if found else since,
    }
