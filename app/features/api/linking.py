"""The API's links between notes: what links to a note (its "linked from"), and renaming a
tag in every note that has it (app/features/notes/links.py and renames.py)."""

from marshmallow import RAISE

from app.features.api import bp
from app.features.api.auth import api_user
from app.features.api.cursors import make_cursor, read_cursor
from app.features.api.documented import problems
from app.features.api.notes import find_note
from app.features.api.schemas import Backlinks, BacklinksQuery
from app.features.notes import links


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
