"""The API's links between notes: what links to a note (its "linked from"), and renaming a
tag in every note that has it (app/features/notes/links.py and renames.py)."""

from flask import url_for
from flask_babel import gettext
from marshmallow import RAISE

from app.extensions import db
from app.features.api import bp
from app.features.api.auth import api_user
from app.features.api.cursors import make_cursor, read_cursor
from app.features.api.documented import problems
from app.features.api.notes import find_note
from app.features.api.problems import Problem
from app.features.api.schemas import Backlinks, BacklinksQuery, RenameState, TagRename, TagRenamed
from app.features.notes import links, renames, tasks
from app.models import NoteRename


@bp.get("/notes/<id:note_id>/backlinks")
@bp.arguments(BacklinksQuery, location="query", as_kwargs=True, unknown=RAISE)
@bp.response(200, Backlinks)
@problems(404, 422)
def note_backlinks(note_id, cursor=None):
    """List the live notes that link to a note.

    Newest first, 50 a page: by its id (`[[#42]]`), or by its title while no other note of
    that title comes before it (`[[Title]]`).
    """
    note = find_note(note_id, in_trash=None)
    user_id = api_user().id
    query = {"note_id": note_id}
    before = read_cursor(user_id, query, cursor) if cursor else None
    found = links.backlinks(note, before=before)
    page = found[: links.BACKLINKS_PAGE]
    more = len(found) > links.BACKLINKS_PAGE
    return {
        "items": [{"id": row.id, "title": row.title} for row in page],
        "next_cursor": make_cursor(user_id, query, page[-1].id) if more else None,
    }


@bp.patch("/tags/<name>")
@bp.arguments(TagRename)
@bp.response(200, TagRenamed)
@bp.alt_response(202, schema=TagRenamed, description="Accepted")
@problems(403, 404, 409, 422, 429)
def rename_tag(body, name):
    """Rename a tag in every note that has it.

    Each note a new version; to a tag the account has already, the two merge. Over 100
    notes, a worker renames them all at once: 202, with a `status_url`.
    """
    user_id = api_user().id
    try:
        done = tasks.start_rename(user_id, "tag", name, body["name"])
    except renames.Refused as refused:
        db.session.rollback()
        raise Problem(refused.status, "rename-refused", str(refused)) from None
    db.session.commit()
    new = renames.tag_names(name, body["name"])[1]
    if isinstance(done, NoteRename):
        status_url = url_for("api.rename_state", rename_id=done.id)
        return {"name": new, "notes_changed": None, "status_url": status_url}, 202
    return {"name": new, "notes_changed": done}


@bp.get("/renames/<id:rename_id>")
@bp.response(200, RenameState)
@problems(404)
def rename_state(rename_id):
    """Read the state of a rename the worker makes.

    `queued`, `running`, then `done` (`notes_changed`) or `failed` (`error`; no note changed).
    """
    rename = db.session.get(NoteRename, rename_id)
    if rename is None or rename.user_id != api_user().id:
        raise Problem(404, "not-found", gettext("You have no rename with this id."))
    return {
        "id": rename.id,
        "status": rename.status,
        "kind": rename.kind,
        "old": rename.from_name,
        "new": rename.to_name,
        "notes_changed": rename.notes_changed,
        "error": rename.error,
    }
