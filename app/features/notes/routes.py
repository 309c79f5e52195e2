"""The signed-in user's notes."""

from flask import (
    Blueprint,
    abort,
    current_app,
    flash,
    redirect,
    render_template,
    request,
    session,
    url_for,
)
from flask_babel import gettext, ngettext
from flask_babel import lazy_gettext as _l
from flask_login import current_user, login_required

from app.extensions import db
from app.features.notes import service, trash
from app.features.notes.diff import text_diff
from app.features.notes.forms import EditForm, NoteForm, ResolveForm
from app.features.notes.idempotency import create_once, edit_once
from app.features.notes.links import RENAMED
from app.features.notes.listing import listed_notes
from app.features.notes.lookup import get_note
from app.features.notes.paging import OLDEST, notes_page, sort_asked_for
from app.features.notes.quota import QuotaFull
from app.features.notes.reminders import reminder_of
from app.features.shares.links import count_live
from app.forms import page_status
from app.i18n.formats import local_time_writer
from app.models import BIGINT_MAX, TITLE_MAX_LENGTH
from app.offline.sharing import left_behind, prefill_shared
from app.revalidation import fresh_until, revalidated
from app.tags import TAGS_PER_FILTER, tag_name
from app.validators import is_same_site_path
from app.wikilinks import fold

bp = Blueprint("notes", __name__)

# An id no note has yet: a list page builds a note's URL with it once, then fills in each id.
ANY_NOTE_ID = BIGINT_MAX


def note_url_format(endpoint, **values):
    """Return `endpoint`'s URL for any note as a format string: "/notes/{}" for notes.detail.

    A list page needs two URLs a note. Forty url_for calls cost 0.25 ms, 3.8 % of the list's
    CPU in the in-process CPU benchmark of then (docs/performance.md); str.format, 0.03 ms.
    """
    url = url_for(endpoint, note_id=ANY_NOTE_ID, **values)
    # Braces elsewhere in the URL (a mount point's name, say) must stay literal.
    return url.replace("{", "{{").replace("}", "}}").replace(str(ANY_NOTE_ID), "{}")


def save_form(form, note, version, always=False, full=None, once=None):
    """Save the form's text on top of `version` (app/features/notes/service.py); return None when it
    is saved (committed), else the page to answer: the conflict page when the note moved on,
    `full(message)` (the form again, with a field error) when the text would not fit.

    `once` (app/features/notes/idempotency.py): the save's key, recorded with it; a send of the same
    key that got in first is this save made, not a conflict."""
    try:
        service.save(
            current_user.id, note, form.title.data, form.content.data, version, always=always
        )
        if once is not None:
            once.remember(note)
    except service.Stale:
        db.session.rollback()
        if once is not None and once.done():
            return None
        return render_conflict(form, get_note(note.id, in_trash=None))
    except QuotaFull as refused:
        db.session.rollback()
        if full is not None:
            return full(str(refused))
        form.content.errors.append(str(refused))
        return render_form(form, note)
    db.session.commit()
    return None


def render_form(form, note=None, left=()):
    """Render the note form (`left`: what a share could not bring, app/offline/sharing.py):
    400 when a submission failed validation, else 200."""
    page = render_template("notes/form.html", form=form, note=note, left=left)
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
    first), a page at a time; `?tag=` filters. A 304 while none of the account's notes
    changed (app/revalidation.py: the frame's parts hold its change number and the query)."""
    tags = tags_asked_for(request.args)
    sort = sort_asked_for(request.args)
    return revalidated(lambda: render_list(tags, sort))


def render_list(tags, sort):
    """Render the page of the list `request.args` asks for."""
    per_page = current_app.config["NOTES_PER_PAGE"]
    page = notes_page(current_user.id, request.args, per_page, tags, sort)
    task_url = note_url_format("notes.tick_task", number=0).removesuffix("0")
    by_creation = sort == "created"
    notes = listed_notes(page.items, by_creation, note_url_format("notes.detail"), task_url)
    for note in notes:
        if note.reminder_at is not None:
            # Its bell changes when the reminder fires, which moves no change number.
            fresh_until(note.reminder_at)
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
    if not form.is_submitted():
        prefill_shared(form, request.args)
    if not form.validate_on_submit():
        return render_form(form, left=() if form.is_submitted() else left_behind(request.args))
    try:
        note = create_once(
            current_user.id, form.title.data, form.content.data, form.idempotency_key.data
        )
    except QuotaFull as full:
        db.session.rollback()
        form.content.errors.append(str(full))
        return render_form(form)
    db.session.commit()
    flash(gettext("Note saved."), "success")
    return redirect(url_for("notes.detail", note_id=note.id))


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
    once = edit_once(
        current_user.id, note, form.idempotency_key.data, form.title.data, form.content.data
    )
    if once is not None and once.done():
        # Sent again with its key (its answer was lost): it answers as the first send did,
        # even when the note moved on since; no second revision.
        flash(gettext("Note updated."), "success")
        return redirect(url_for("notes.detail", note_id=note.id))
    # A form from before versions (open across a deploy) has none: it is applied as it was.
    base = note.version if form.version.data is None else form.version.data
    if once is not None and once.left(note):
        base = note.version  # typed on after a save of this key: on top of that save
    if base != note.version and (form.title.data, form.content.data) == (note.title, note.content):
        # The same edit sent again without a key (an older page): it is saved already.
        flash(gettext("Note updated."), "success")
        return redirect(url_for("notes.detail", note_id=note.id))
    before = note.title
    refused = save_form(form, note, base, once=once)
    if refused is not None:
        return refused
    flash(gettext("Note updated."), "success")
    if fold(before) != fold(note.title):  # the note's page offers to move the links
        session[RENAMED] = [note.id, before]
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
    if form.choice.data == "theirs":
        return keep_theirs(note, form)
    if form.choice.data == "both":
        return keep_both(note, form)
    refused = save_form(form, note, form.version.data, always=True, full=conflict_with(form, note))
    if refused is not None:
        return refused
    flash(gettext("Your text is saved; the one it replaced is in the note's history."), "success")
    return redirect(url_for("notes.detail", note_id=note.id))


def conflict_with(form, note):
    """Return what answers a text that would not fit: the conflict page with a field error."""

    def answer(message):
        form.content.errors.append(message)
        return render_conflict(form, get_note(note.id))

    return answer


def keep_both(note, form):
    """Keep the saved text and mine as a new note beside it."""
    try:
        copy = service.create(current_user.id, copy_title(form.title.data), form.content.data)
    except QuotaFull as full:
        db.session.rollback()
        return conflict_with(form, note)(str(full))
    db.session.commit()
    flash(gettext("Both are kept: yours is a new note."), "success")
    return redirect(url_for("notes.detail", note_id=copy.id))


def copy_title(title):
    """Return the title of a note kept as a copy: "Plans (copy)", within the title's limit."""
    suffix = gettext("%(title)s (copy)", title="")
    return gettext("%(title)s (copy)", title=title[: TITLE_MAX_LENGTH - len(suffix)])


def keep_theirs(note, form):
    """Keep the saved text; mine joins the history: a write within the quota, for a conflict
    only (the note moved past the version the edit started from)."""
    try:
        service.set_aside(current_user.id, note, form.title.data, form.content.data, form.base.data)
    except service.Stale:
        abort(400, gettext("There is nothing to resolve: the note was not changed meanwhile."))
    except QuotaFull as full:
        db.session.rollback()
        return conflict_with(form, note)(str(full))
    db.session.commit()
    flash(gettext("The saved text stays; yours is in the note's history."), "info")
    return redirect(url_for("notes.detail", note_id=note.id))


@bp.post("/notes/<id:note_id>/toggle")
@login_required
def toggle(note_id, wanted=None):
    """Tick a note off as done, or back to open; return to the page it was ticked on.

    The form says which (`completed`: 1 or 0, as the button showed it), so a press sent again
    after its answer was lost changes nothing more; without it (older pages), it flips.
    """
    note = get_note(note_id)
    wanted = wanted if wanted is not None else request.form.get("completed")
    completed = wanted == "1" if wanted in ("0", "1") else not note.completed
    if completed != note.completed:
        service.change(current_user.id, note, completed=completed)
        db.session.commit()
    target = request.form.get("next", "")
    return redirect(
        target if is_same_site_path(target) else url_for("notes.detail", note_id=note.id)
    )


@bp.post("/notes/toggle")
@login_required
def toggle_listed():
    """Tick off, or back, the note whose button was pressed in the list (`toggle` = its id,
    then `:1` or `:0`, the state the press asks for)."""
    value, _, wanted = request.form.get("toggle", "").partition(":")
    if not (
        value.isascii() and value.isdigit() and len(value) <= 19 and 0 < int(value) <= BIGINT_MAX
    ):
        abort(404)  # no note of the user's has that id, as for /notes/<id>/toggle
    return toggle(int(value), wanted or None)


@bp.post("/notes/<id:note_id>/delete")
@login_required
def delete(note_id):
    """Move a note to the trash, where it can be restored for TRASH_DAYS."""
    note = get_note(note_id)
    service.change(current_user.id, note, trashed=True)
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
    service.change(current_user.id, note, trashed=False)
    reminder = reminder_of(note.id)
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
    count = service.empty_trash(current_user.id)
    db.session.commit()
    flash(
        ngettext("%(num)s note deleted for good.", "%(num)s notes deleted for good.", count), "info"
    )
    return redirect(url_for("notes.trash_page"))
