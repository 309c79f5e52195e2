"""The API's change feed: what changed in the account's notes after a number, deletions too.

A device keeps the `next_since` of the last page it read and asks from it: each item is a
note as it is now (trashed ones too) or a note deleted for good, in the order of the
account's change sequence (app/features/notes/changes.py). A `since` older than the tombstones
kept answers 410: the device reads everything again from 0.

A page is bounded in bytes as well as items: it ends before its JSON passes
CHANGES_PAGE_BYTES (always with one item, so a device moves on), its notes' reminders are
read in one statement, and it holds one of the account's heavy-read slots while it is made
(app/features/api/reads.py): a page costs a few statements and about its own bytes, however long.
"""

from flask import current_app
from flask_babel import gettext
from marshmallow import RAISE

from app.features.api import bp
from app.features.api.auth import api_user
from app.features.api.documented import problems
from app.features.api.notes import note_json
from app.features.api.problems import Problem
from app.features.api.reads import hold_api_read
from app.features.api.reminders import reminders_of
from app.features.api.schemas import Change, Changes, ChangesQuery
from app.features.notes import changes, links

CHANGE = Change()
# `{"items":[],"next_since":<bigint>}` around the items.
ENVELOPE_BYTES = 48


def item_json(item, reminders, linked):
    """Return one change as the feed shows it; a note's reminder from `reminders`, the notes
    its links name from `linked`."""
    if isinstance(item, changes.Deletion):
        return {"seq": item.seq, "deleted": {"id": item.note_id, "deleted_at": item.deleted_at}}
    return {"seq": item.seq, "note": note_json(item, reminders.get(item.id), linked[item.id])}


def within_bytes(found, reminders, linked, most_bytes):
    """Return the items of `found` as the feed shows them, as many as fit in `most_bytes` of
    JSON (measured as the answer writes it), at least one."""
    items, spent = [], ENVELOPE_BYTES
    for item in found:
        shown = item_json(item, reminders, linked)
        size = len(current_app.json.dumps(CHANGE.dump(shown)).encode()) + 1  # and its comma
        if items and spent + size > most_bytes:
            break
        items.append(shown)
        spent += size
    return items


@bp.get("/changes")
@bp.arguments(ChangesQuery, location="query", as_kwargs=True, unknown=RAISE)
@bp.response(200, Changes)
@problems(410, 422, 429)
def list_changes(since, limit):
    """List what changed in the account's notes after `since`.

    In the order of the account's change sequence: a note as it is now (trashed ones too),
    or one deleted for good. A page holds at most `limit` items and about 2 MiB of JSON, so
    it may hold fewer: ask again from `next_since` until a page is empty. 410 when `since`
    is older than the deletions kept (90 days): read everything again from 0.
    """
    user_id = api_user().id
    hold_api_read(user_id)
    most_bytes = current_app.config["CHANGES_PAGE_BYTES"]
    try:
        found = changes.feed(user_id, since, limit, most_bytes)
    except changes.Gone:
        raise Problem(
            410,
            "changes-forgotten",
            gettext("Changes this old are no longer kept: read every note again from 0."),
        ) from None
    noted = [item.id for item in found if not isinstance(item, changes.Deletion)]
    items = within_bytes(found, reminders_of(noted), links.linked(noted), most_bytes)
    return {"items": items, "next_since": items[-1]["seq"] if items else since}
