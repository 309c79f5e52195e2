"""The pages' renames across notes (app/features/notes/renames.py): a tag renamed or merged
from /tags, and a renamed note's `[[Old title]]` links moved to its new title from its page.
Each is one POST; a large one runs in the worker and /tags follows it live."""

from flask import abort, flash, redirect, render_template, request, session, url_for
from flask_babel import gettext, ngettext
from flask_login import current_user, login_required

from app.errors import wants_json
from app.extensions import db
from app.features.notes import renames, tasks
from app.features.notes.links import RENAMED
from app.features.notes.lookup import get_note
from app.features.notes.routes import bp
from app.features.notes.shelves import TAGS_SHOWN, tag_counts
from app.models import NoteRename
from app.wikilinks import fold


def tags_answer(error=None, status=200):
    """Return /tags: the tags with their counts, the rename form, the latest worker rename."""
    page = render_template(
        "notes/tags.html",
        counts=tag_counts(current_user.id, TAGS_SHOWN),
        shown=TAGS_SHOWN,
        rename=NoteRename.latest(current_user.id),
        error=error,
        asked=request.form,
    )
    return page, status


@bp.get("/tags")
@login_required
def tags_page():
    """List the user's tags with how many listed notes have each, the most used first, and
    the form that renames one."""
    return tags_answer()


def started(done, what):
    """Flash what a rename did: how many notes changed, or that the worker makes it."""
    if isinstance(done, NoteRename):
        flash(gettext("Renaming %(what)s: this page shows it as it goes.", what=what), "success")
    else:
        message = ngettext("%(num)s note changed.", "%(num)s notes changed.", done)
        flash(message, "success")


@bp.post("/tags/rename")
@login_required
def rename_tag():
    """Rename the tag `from` to `to` in every note that has it (merged if `to` is a tag)."""
    old, new = request.form.get("from", ""), request.form.get("to", "")
    try:
        done = tasks.start_rename(current_user.id, "tag", old, new)
    except renames.Refused as refused:
        db.session.rollback()
        return tags_answer(str(refused), 400)
    db.session.commit()
    started(done, f"#{old.strip().removeprefix('#')}")
    return redirect(url_for("notes.tags_page"))


@bp.get("/tags/rename")
@login_required
def rename_status():
    """Answer the latest worker rename's state (JSON for app/static/progress.js), else /tags."""
    latest = NoteRename.latest(current_user.id)
    if not wants_json():
        return redirect(url_for("notes.tags_page"))
    if latest is None:
        abort(404)
    return {"status": latest.status, "finished": latest.finished_at is not None, "reload": True}


@bp.post("/notes/<id:note_id>/relink")
@login_required
def relink(note_id):
    """Move the `[[from]]` links of the account's notes to this note's title."""
    note = get_note(note_id)
    old = request.form.get("from", "")
    if not old.strip() or fold(old) == fold(note.title):
        abort(400, gettext("The links already name this note's title."))
    try:
        done = tasks.start_rename(current_user.id, "title", old, note.title)
    except renames.Refused as refused:
        db.session.rollback()
        abort(400, str(refused))
    db.session.commit()
    session.pop(RENAMED, None)
    started(done, f"[[{old}]]")
    return redirect(url_for("notes.detail", note_id=note.id))
