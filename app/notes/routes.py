"""The signed-in user's notes."""

from flask import current_app, flash, redirect, render_template, request, url_for
from flask_babel import gettext
from flask_login import current_user, login_required

from app.attachments.panel import attachments_panel
from app.attachments.uploads import delete_note_attachments
from app.auth.throttle import spend_note_write
from app.extensions import db
from app.forms import page_status
from app.models import BIGINT_MAX, Note
from app.notes import bp
from app.notes.forms import NoteForm
from app.notes.lookup import get_note
from app.notes.paging import OLDEST, notes_page
from app.notes.quota import QuotaFull, check_room
from app.validators import is_same_site_path

# An id no note has yet: a list page builds a note's URL with it once, then fills in each id.
ANY_NOTE_ID = BIGINT_MAX


def note_url_format(endpoint):
    """Return `endpoint`'s URL for any note as a format string: "/notes/{}" for notes.detail.

    A list page needs two URLs a note. Forty url_for calls cost 0.25 ms, 3.8 % of the list's
    CPU in bench/cpu.py's setting (docs/performance.md); str.format, 0.03 ms.
    """
    url = url_for(endpoint, note_id=ANY_NOTE_ID)
    # Braces elsewhere in the URL (a mount point's name, say) must stay literal.
    return url.replace("{", "{{").replace("}", "}}").replace(str(ANY_NOTE_ID), "{}")


def has_room(form, note=None):
    """Count the save against the write rate (429 past it); check the quota (a field error)."""
    spend_note_write(current_user.id)
    try:
        check_room(current_user.id, form.title.data, form.content.data, note)
    except QuotaFull as full:
        db.session.rollback()
        form.content.errors.append(str(full))
        return False
    return True


def render_form(form, note=None):
    """Render the note form: 400 when a submission failed validation, else 200."""
    page = render_template("notes/form.html", form=form, note=note)
    return page, page_status(form)


@bp.get("/")
@login_required
def index():
    """List the user's notes, newest first, a page at a time."""
    page = notes_page(current_user.id, request.args, current_app.config["NOTES_PER_PAGE"])
    return render_template(
        "notes/index.html",
        page=page,
        oldest=OLDEST,
        note_url=note_url_format("notes.detail"),
        toggle_url=note_url_format("notes.toggle"),
    )


@bp.route("/notes/new", methods=["GET", "POST"])
@login_required
def create():
    """Write a new note."""
    form = NoteForm()
    if not form.validate_on_submit() or not has_room(form):
        return render_form(form)
    note = Note(title=form.title.data, content=form.content.data, user_id=current_user.id)
    db.session.add(note)
    db.session.commit()
    flash(gettext("Note saved."), "success")
    return redirect(url_for("notes.detail", note_id=note.id))


@bp.get("/notes/<id:note_id>")
@login_required
def detail(note_id):
    """Show one note with its attachments."""
    note = get_note(note_id)
    return render_template("notes/detail.html", note=note, panel=attachments_panel(note))


@bp.route("/notes/<id:note_id>/edit", methods=["GET", "POST"])
@login_required
def update(note_id):
    """Change a note's title and content."""
    note = get_note(note_id)
    form = NoteForm(obj=note)
    if not form.validate_on_submit() or not has_room(form, note):
        return render_form(form, note)
    note.title, note.content = form.title.data, form.content.data
    db.session.commit()
    flash(gettext("Note updated."), "success")
    return redirect(url_for("notes.detail", note_id=note.id))


@bp.post("/notes/<id:note_id>/toggle")
@login_required
def toggle(note_id):
    """Tick a note off as done, or back to open; return to the page it was ticked on."""
    note = get_note(note_id)
    note.completed = not note.completed
    db.session.commit()
    target = request.form.get("next", "")
    return redirect(
        target if is_same_site_path(target) else url_for("notes.detail", note_id=note.id)
    )


@bp.post("/notes/<id:note_id>/delete")
@login_required
def delete(note_id):
    """Delete a note; its attachments' rows cascade, then their files are deleted."""
    note = get_note(note_id)
    delete_note_attachments(note)
    db.session.delete(note)
    db.session.commit()
    flash(gettext("Note deleted."), "info")
    return redirect(url_for("notes.index"))
