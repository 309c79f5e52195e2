"""Where a note sits: pinned first in the list, or put away in the archive; and its tags.

A pinned note comes before the others in the list; an archived one leaves the list and
search (unless asked for) and waits in the archive until it comes back with one button.
Both are plain forms (a POST each), and return to the page they were pressed on. The tags
page lists the account's tags (the `#word`s of its notes, app/tags.py) with their counts.
"""

from dataclasses import dataclass

from flask import flash, jsonify, redirect, render_template, request, url_for
from flask_babel import LazyString
from flask_babel import lazy_gettext as _l
from flask_login import current_user, login_required
from sqlalchemy import func, select

from app.extensions import db
from app.features.notes import service
from app.features.notes.lookup import get_note
from app.features.notes.routes import bp
from app.models import Note
from app.validators import is_same_site_path

ARCHIVE_SHOWN = 200  # the archive page lists the notes archived last, this many at most
TAGS_SHOWN = 500  # the tags page lists the most used, this many at most


def back_to(note):
    """Redirect to the page the form was sent from (`next`), else to the note."""
    target = request.form.get("next", "")
    return redirect(
        target if is_same_site_path(target) else url_for("notes.detail", note_id=note.id)
    )


@dataclass(frozen=True)
class Move:
    """One of the shelf buttons: the flag it sets through the note's writer, and its flash."""

    change: dict
    message: LazyString
    category: str


MOVES = {
    "pin": Move({"pinned": True}, _l("Pinned: this note comes first in your list."), "success"),
    "unpin": Move({"pinned": False}, _l("Unpinned."), "success"),
    "archive": Move(
        {"archived": True},
        _l("Archived: the note is out of your list and search, in the archive."),
        "info",
    ),
    "unarchive": Move({"archived": False}, _l("Back in your list."), "success"),
}


@login_required
def shelve(note_id, move):
    """Pin, unpin, archive or unarchive a note, then go back to the page the button was on."""
    note = get_note(note_id)
    service.change(current_user.id, note, **MOVES[move].change)
    db.session.commit()
    flash(str(MOVES[move].message), MOVES[move].category)
    return back_to(note)


# One view, four routes: each keeps its own URL and endpoint (`notes.pin`, ...).
for move in MOVES:
    bp.add_url_rule(
        f"/notes/<id:note_id>/{move}", move, shelve, methods=["POST"], defaults={"move": move}
    )


@bp.get("/archive")
@login_required
def archive_page():
    """List the user's archived notes, the most recently archived first."""
    notes = db.session.scalars(
        select(Note)
        .where(
            Note.user_id == current_user.id,
            Note.deleted_at.is_(None),
            Note.archived_at.is_not(None),
        )
        .order_by(Note.archived_at.desc(), Note.id.desc())
        .limit(ARCHIVE_SHOWN)
    ).all()
    return render_template("notes/archive.html", notes=notes, shown=ARCHIVE_SHOWN)


TAGS_SUGGESTED = 200  # the note form's suggestions: the most used, this many at most


def tag_counts(user_id, limit):
    """Return the user's tags with how many listed notes have each, the most used
    first, `limit` at most."""
    tag = func.unnest(Note.tags).label("tag")
    listed = (
        select(tag)
        .where(
            Note.user_id == user_id,
            Note.deleted_at.is_(None),
            Note.archived_at.is_(None),
        )
        .subquery()
    )
    return db.session.execute(
        select(listed.c.tag, func.count().label("notes"))
        .group_by(listed.c.tag)
        .order_by(func.count().desc(), listed.c.tag)
        .limit(limit)
    ).all()


@bp.get("/tags/names")
@login_required
def tag_names():
    """Answer the user's tags, the most used first, as JSON: the note form's script offers
    them as one types `#` (app/static/editor.js). It reads only; the form works without it."""
    return jsonify(tags=[row.tag for row in tag_counts(current_user.id, TAGS_SUGGESTED)])
