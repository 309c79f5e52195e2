"""A note's history pages: its earlier versions, each with what changed after it, one in
full, and restoring one (app/features/notes/history.py keeps them).

An entry is labelled by what it is: a saved text ("Saved ..."), or a text a conflict set
aside ("Set aside in a conflict ..."), which was never the note's; an entry after which
saves within the quiet time were not kept says how many.
"""

from collections import Counter

from flask import abort, current_app, flash, redirect, render_template, url_for
from flask_babel import gettext
from flask_login import login_required

from app.features.notes import history
from app.features.notes.diff import text_diff
from app.features.notes.forms import NoteForm
from app.features.notes.lookup import get_note
from app.features.notes.routes import bp, save_form

# The history page diffs its newest versions; a link shows each other one's
# (app/features/notes/diff.py).
DIFFS_SHOWN = 5


@bp.get("/notes/<id:note_id>/history")
@login_required
def history_page(note_id):
    """Show the note's earlier versions, newest first, each with what changed after it."""
    note = get_note(note_id)
    versions = history.versions(note)
    # Each version beside the text that followed it: the next newer saved version, or the
    # note now.
    later = history.followers(note, versions)
    # The newest few diffs are on the page; each other one is computed when it is asked for.
    entries = [
        (
            version,
            text_diff(version.content, after.content) if number < DIFFS_SHOWN else None,
            after.title,
        )
        for number, (version, after) in enumerate(zip(versions, later, strict=True))
    ]
    minutes = Counter(version.saved_at.replace(second=0, microsecond=0) for version in versions)
    return render_template(
        "notes/history.html",
        note=note,
        entries=entries,
        days=current_app.config["HISTORY_DAYS"],
        # Two versions saved within one minute are told apart by their seconds.
        alike={v.id for v in versions if minutes[v.saved_at.replace(second=0, microsecond=0)] > 1},
    )


@bp.get("/notes/<id:note_id>/history/<id:version_id>")
@login_required
def version_page(note_id, version_id):
    """Show one earlier version and what changed after it."""
    note = get_note(note_id)
    version = history.get_version(note, version_id) or abort(404)
    changes = text_diff(version.content, history.newer_text(note, version).content)
    return render_template("notes/version.html", note=note, version=version, changes=changes)


@bp.post("/notes/<id:note_id>/history/<id:version_id>/restore")
@login_required
def restore_version(note_id, version_id):
    """Make an earlier version the note's text; the current one joins the history."""
    note = get_note(note_id)
    version = history.get_version(note, version_id) or abort(404)
    form = NoteForm(formdata=None, data={"title": version.title, "content": version.content})
    refused = save_form(
        form, note, note.version, always=True, full=lambda message: refuse(message, note)
    )
    if refused is not None:
        return refused
    flash(gettext("That version is the note's text again."), "success")
    return redirect(url_for("notes.detail", note_id=note.id))


def refuse(message, note):
    """Say why the version could not be restored, back on the history page."""
    flash(message, "error")
    return redirect(url_for("notes.history_page", note_id=note.id))
