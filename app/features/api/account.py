"""The API's account routes: who the token is for, the account's tags, and search."""

from flask import url_for
from flask_babel import gettext
from marshmallow import RAISE
from sqlalchemy import select

from app.extensions import db
from app.features.api import bp
from app.features.api.auth import api_user
from app.features.api.cursors import make_cursor, read_cursor, search_cursor, search_position
from app.features.api.documented import problems
from app.features.api.notes import note_json
from app.features.api.reminders import reminders_of
from app.features.api.schemas import Me, SearchList, SearchQuery, Tags
from app.features.notes import links
from app.features.notes.shelves import TAGS_SHOWN, tag_counts
from app.features.search.query import SearchRefused, search_notes
from app.features.search.terms import split_tags
from app.models import Note


@bp.get("/me")
@bp.response(200, Me)
@problems()
def me():
    """Who the token is for."""
    user = api_user()
    image_url = user.image_url or url_for(
        "static", filename="avatar-placeholder.svg", _external=True
    )
    return {
        "id": user.id,
        "email": user.email,
        "nickname": user.nickname,
        "language": user.language,
        "timezone": user.time_zone,
        "image_url": image_url,
    }


@bp.get("/tags")
@bp.response(200, Tags)
@problems()
def tags():
    """List the account's tags with their counts.

    Each tag with how many listed notes have it, the most used first.
    """
    counts = tag_counts(api_user().id, TAGS_SHOWN)
    return {"items": [{"name": row.tag, "count": row.notes} for row in counts]}


@bp.get("/search")
@bp.arguments(SearchQuery, location="query", as_kwargs=True, unknown=RAISE)
@bp.response(200, SearchList)
@problems(422, 429)
def search(q, limit, cursor=None):
    """Find the account's notes, best first.

    `q` takes words, `"phrases"`, `-excluded`, `prefix*` and `tag:x`; each note comes with a
    `snippet` (HTML: the text escaped, the matches in `<mark>`).
    """
    user_id = api_user().id
    asked = {"q": q, "per_page": limit}
    position = read_cursor(user_id, asked, cursor) if cursor else None
    after = search_position(position) if position else None
    page = position[0] if position and after is None else 1  # [page]: the release before's
    words, tags = split_tags(q)
    if tags and not words.strip():
        raise SearchRefused(gettext("A tag's notes are listed by /api/v1/notes?tag=…"))
    results = search_notes(user_id, words, page, limit, tags, after=after)
    notes = {
        note.id: note
        for note in db.session.scalars(
            select(Note).where(Note.id.in_([match.id for match in results.items]))
        )
    }
    reminders, linked = reminders_of(list(notes)), links.linked(list(notes))
    items = [
        {
            **note_json(notes[match.id], reminders.get(match.id), linked[match.id]),
            "snippet": str(match.snippet),
        }
        for match in results.items
        if match.id in notes
    ]
    last = results.items[-1] if results.has_next else None
    return {
        "items": items,
        "next_cursor": make_cursor(user_id, asked, search_cursor(last)) if last else None,
    }
