"""The signed-in user's notes."""

from flask import Blueprint, abort, current_app, flash, redirect, render_template, request, url_for
from flask_babel import gettext, ngettext
from flask_babel import lazy_gettext as _l
from flask_login import current_user, login_required

from app.attachments.panel import attachments_panel
from app.auth.throttle import spend_note_write
from app.extensions import db
from app.forms import page_status
from app.i18n.formats import local_time_writer
from app.models import BIGINT_MAX, TITLE_MAX_LENGTH, Note, utcnow
from app.models.notes import SET_ASIDE
from app.notes import history, service, trash
from app.notes.diff import text_diff
from app.notes.forms import EditForm, NoteForm, ResolveForm
from app.notes.listing import listed_notes
from app.notes.lookup import get_note
from app.notes.paging import OLDEST, notes_page, sort_asked_for
from app.notes.quota import QuotaFull, check_kept
from app.reminders.panel import reminder_panel
from app.shares.links import count_live
from app.shares.routes import share_panel
from app.tags import TAGS_PER_FILTER, tag_name
from app.validators import is_same_site_path

bp = Blueprint("notes", __name__)

# An id no note has yet: a list page builds a note's URL with it once, then fills in each id.
ANY_NOTE_ID = BIGINT_MAX


def note_url_format(endpoint, **values):
    """Return `endpoint`'s URL for any note as a format string: "/notes/{}" for notes.detail.

    A list page needs two URLs a note. Forty url_for calls cost 0.25 ms, 3.8 % of the list's
    CPU in bench/cpu.py's setting (docs/performance.md); str.format, 0.03 ms.
    """
    url = url_for(endpoint, note_id=ANY_NOTE_ID, **values)
    # Braces elsewhere in the URL (a mount point's name, say) must stay literal.
    return url.replace("{", "{{").replace("}", "}}").replace(str(ANY_NOTE_ID), "{}")


def has_room(form, note=None):
    """Count the save against the write rate (429 past it); check the quota (a field error)."""
    try:
        service.make_room(current_user.id, form.title.data, form.content.data, note)
    except QuotaFull as full:
        db.session.rollback()
        form.content.errors.append(str(full))
        return False
    return True


def render_form(form, note=None):
    """Render the note form: 400 when a submission failed validation, else 200."""
    page = render_template("notes/form.html", form=form, note=note)
    return page, page_status(form)


NO_SUCH_TAG = _l("A tag is letters, digits, _ and -, such as #work or #회의.")


def tags_asked_for(args):
    """Return the tags `?tag=` names (folded, each once), or abort 404 for one that is none."""
    tags = []
    for asked in args.getlist("tag")[:TAGS_PER_FILTER]:
        tag = tag_name(asked)
        if tag is None:
            abort(404, str(NO_SUCH_TAG))
        if tag not in tags:
            tags.append(tag)
    return tags


@bp.get("/")
@login_required
def index():
    """List the user's notes, pinned first, last edited first (`?sort=created`: newest
    first), a page at a time; `?tag=` filters."""
    tags = tags_asked_for(request.args)
    per_page = current_app.config["NOTES_PER_PAGE"]
    sort = sort_asked_for(request.args)
    page = notes_page(current_user.id, request.args, per_page, tags, sort)
    task_url = note_url_format("notes.tick_task", number=0).removesuffix("0")
    by_creation = sort == "created"
    notes = listed_notes(page.items, by_creation, note_url_format("notes.detail"), task_url)
    return render_template(
        "notes/index.html",
        page=page,
        notes=notes,
        tags=tags,
        sort=sort,
        oldest=OLDEST,
    )


@bp.route("/notes/new", methods=["GET", "POST"])
@login_required
def create():
    """Write a new note."""
    form = NoteForm()
    if not form.validate_on_submit():
        return render_form(form)
    try:
        note = service.create(current_user.id, form.title.data, form.content.data)
    except QuotaFull as full:
        db.session.rollback()
        form.content.errors.append(str(full))
        return render_form(form)
    db.session.commit()
    flash(gettext("Note saved."), "success")
    return redirect(url_for("notes.detail", note_id=note.id))


@bp.get("/notes/<id:note_id>")
@login_required
def detail(note_id):
    """Show one note with its attachments."""
    note = get_note(note_id)
    return render_template(
        "notes/detail.html",
        note=note,
        panel=attachments_panel(note),
        sharing=share_panel(note),
        reminding=reminder_panel(note),
    )


def render_conflict(form, note):
    """Show the text being saved beside the one saved meanwhile, and the three ways out: 409."""
    page = render_template(
        "notes/conflict.html",
        form=form,
        note=note,
        base=form.base.data if isinstance(form, ResolveForm) else form.version.data,
        changes=text_diff(note.content, form.content.data),
    )
    return page, 409


@bp.route("/notes/<id:note_id>/edit", methods=["GET", "POST"])
@login_required
def update(note_id):
    """Change a note's title and content, unless someone saved it since the form was filled."""
    note = get_note(note_id)
    form = EditForm(obj=note)
    if not form.validate_on_submit():
        return render_form(form, note)
    # A form from before versions (open across a deploy) has none: it is applied as it was.
    base = note.version if form.version.data is None else form.version.data
    if not has_room(form, note):  # a conflict too counts as a write, and needs the room
        return render_form(form, note)
    if base != note.version:
        return render_conflict(form, note)
    if not service.save(note, form.title.data, form.content.data, base):
        db.session.rollback()
        return render_conflict(form, get_note(note_id))
    db.session.commit()
    flash(gettext("Note updated."), "success")
    return redirect(url_for("notes.detail", note_id=note.id))


@bp.post("/notes/<id:note_id>/resolve")
@login_required
def resolve(note_id):
    """After a conflict: keep my text, keep the saved one, or keep both as two notes.

    Whatever the choice, no text is lost: the one set aside joins the note's history.
    """
    note = get_note(note_id)
    form = ResolveForm()
    if not form.validate_on_submit() or form.choice.data not in ("mine", "theirs", "both"):
        abort(400)
    title, content = form.title.data, form.content.data
    if form.choice.data == "theirs":
        return keep_theirs(note, form)
    if form.choice.data == "both":
        if not has_room(form):
            return render_conflict(form, note)
        copy = Note(title=copy_title(title), content=content, user_id=current_user.id)
        db.session.add(copy)
        db.session.commit()
        flash(gettext("Both are kept: yours is a new note."), "success")
        return redirect(url_for("notes.detail", note_id=copy.id))
    if form.version.data != note.version or not has_room(form, note):
        return render_conflict(form, note)
    if not service.save(note, title, content, form.version.data, always=True):
        db.session.rollback()
        return render_conflict(form, get_note(note_id))
    db.session.commit()
    flash(gettext("Your text is saved; the one it replaced is in the note's history."), "success")
    return redirect(url_for("notes.detail", note_id=note.id))


def copy_title(title):
    """Return the title of a note kept as a copy: "Plans (copy)", within the title's limit."""
    suffix = gettext("%(title)s (copy)", title="")
    return gettext("%(title)s (copy)", title=title[: TITLE_MAX_LENGTH - len(suffix)])


def keep_theirs(note, form):
    """Keep the saved text; mine joins the history: a write within the quota, for a conflict
    only (the note moved past the version the edit started from)."""
    if form.base.data is None or form.base.data >= note.version:
        abort(400, gettext("There is nothing to resolve: the note was not changed meanwhile."))
    spend_note_write(current_user.id)
    title, content = form.title.data, form.content.data
    if (title, content) != (note.title, note.content):
        try:
            check_kept(current_user.id, title, content)
        except QuotaFull as full:
            db.session.rollback()
            form.content.errors.append(str(full))
            return render_conflict(form, note)
        history.keep(
            note, title=title, content=content, saved_at=utcnow(), always=True, kind=SET_ASIDE
        )
    db.session.commit()
    flash(gettext("The saved text stays; yours is in the note's history."), "info")
    return redirect(url_for("notes.detail", note_id=note.id))


@bp.post("/notes/<id:note_id>/toggle")
@login_required
def toggle(note_id):
    """Tick a note off as done, or back to open; return to the page it was ticked on."""
    note = get_note(note_id)
    service.set_completed(note, not note.completed)
    db.session.commit()
    target = request.form.get("next", "")
    return redirect(
        target if is_same_site_path(target) else url_for("notes.detail", note_id=note.id)
    )


@bp.post("/notes/toggle")
@login_required
def toggle_listed():
    """Tick off, or back, the note whose button was pressed in the list (`toggle` = its id)."""
    value = request.form.get("toggle", "")
    if not (
        value.isascii() and value.isdigit() and len(value) <= 19 and 0 < int(value) <= BIGINT_MAX
    ):
        abort(404)  # no note of the user's has that id, as for /notes/<id>/toggle
    return toggle(int(value))


@bp.post("/notes/<id:note_id>/delete")
@login_required
def delete(note_id):
    """Move a note to the trash, where it can be restored for TRASH_DAYS."""
    note = get_note(note_id)
    service.move_to_trash(note)
    db.session.commit()
    flash(
        gettext(
            "Note moved to the trash. It is deleted for good after %(days)s days.",
            days=current_app.config["TRASH_DAYS"],
        ),
        "info",
    )
    paused = count_live(note)
    if paused:
        flash(
            ngettext(
                "Its share link is paused: it opens nothing until you restore the note. "
                "You can revoke it on My page.",
                "Its %(num)s share links are paused: they open nothing until you restore the "
                "note. You can revoke them on My page.",
                paused,
            ),
            "info",
        )
    return redirect(url_for("notes.index"))


@bp.get("/trash")
@login_required
def trash_page():
    """List the user's trashed notes, the newest deletion first, each with a restore button."""
    return render_template(
        "notes/trash.html",
        notes=trash.trashed(current_user.id),
        shown=trash.TRASH_SHOWN,
        days=current_app.config["TRASH_DAYS"],
    )


@bp.post("/trash/<id:note_id>/restore")
@login_required
def restore(note_id):
    """Take a note out of the trash, with its attachments and search hits."""
    note = get_note(note_id, in_trash=True)
    reminder = service.restore(note)
    db.session.commit()
    flash(gettext("Note restored."), "success")
    if reminder is not None and reminder.due_at is not None:
        when = local_time_writer()(reminder.due_at)
        flash(gettext("Its reminder is on again: next %(when)s.", when=when), "info")
    live = count_live(note)
    if live:
        flash(
            ngettext("Its share link works again.", "Its %(num)s share links work again.", live),
            "info",
        )
    return redirect(url_for("notes.detail", note_id=note.id))


@bp.post("/trash/empty")
@login_required
def empty_trash():
    """Delete every note in the trash for good, their attachments too."""
    count = trash.empty(current_user.id)
    db.session.commit()
    flash(
        ngettext("%(num)s note deleted for good.", "%(num)s notes deleted for good.", count), "info"
    )
    return redirect(url_for("notes.trash_page"))
