"""Markdown on the note pages: ticking a task item (`- [ ] text`) without the editor, and
the editor's preview.

Each box is a form button (`POST /notes/<id>/tasks/<n>`, docs/notes.md): it sets the
n-th task item of the version the page showed, as a save would, through the same write rate,
quota and version check. A tick is a change of one line: on a page older than the note it
still applies when its item reads as the page showed it (`?item=`, its text cut as the list
cuts it), and says the note was re-read; otherwise it gets the conflict page, with the tick
applied to the saved text as "yours": nothing is overwritten unasked. It comes back to the
item's own place (`#task-<n>`).
"""

from flask import abort, flash, render_template, request, url_for
from flask_babel import gettext
from flask_login import current_user, login_required

from app.features.notes import service
from app.features.notes.forms import EditForm, usable_key
from app.features.notes.idempotency import tick_once
from app.features.notes.lookup import get_note
from app.features.notes.routes import bp, save_form
from app.features.notes.shelves import back_to
from app.markdown import TASK_TEXT_LENGTH, cut, task_text
from app.models import CONTENT_MAX_LENGTH
from app.throttle import spend_preview

TICKS = {"1": True, "0": False}  # the form's `done`


def version_sent(form):
    """Return the form's `version` as a number, or abort 400 for one that is none."""
    value = form.get("version", "")
    if not (value.isascii() and value.isdigit() and len(value) <= 18):
        abort(400)
    return int(value)


@bp.post("/notes/<id:note_id>/tasks/<int(max=9999):number>")
@login_required
def tick_task(note_id, number):
    """Set task item `number` of the note (from 0, in document order) done or not."""
    note = get_note(note_id)
    done = TICKS.get(request.form.get("done", ""))
    if done is None:
        abort(400)
    base = version_sent(request.form)
    once = tick_once(
        current_user.id, note, usable_key(request.form.get("idempotency_key")), number, done
    )
    if once is not None and once.done():
        return back_to_item(note, number)  # sent again with its key: made already
    content = service.ticked(note, number, done)
    if content is None and base == note.version:
        abort(404)  # the text has no such task item
    shown, reread = request.args.get("item"), False
    if content is not None and base != note.version and shown is not None:
        now = task_text(note.content, number)
        reread = cut(now, TASK_TEXT_LENGTH) == cut(shown, TASK_TEXT_LENGTH)
        base = note.version if reread else base  # that line is as shown: the tick applies
    content = note.content if content is None else content
    form = EditForm(formdata=None, data={"title": note.title, "content": content, "version": base})
    refused = save_form(form, note, base, full=lambda message: flash_back(message, note), once=once)
    if refused is not None:
        return refused
    if reread:
        flash(gettext("The note had changed meanwhile: your tick went on its newest text."))
    return back_to_item(note, number)


def back_to_item(note, number):
    """Answer a tick: back to the page it was pressed on, at its item on the note page."""
    answer = back_to(note)
    page = url_for("notes.detail", note_id=note.id)
    if answer.location.partition("?")[0] == page and "#" not in answer.location:
        answer.location += f"#task-{number}"  # back to the item ticked, not the page's top
    return answer


def flash_back(message, note):
    """Say why a tick was refused, back on the page it was pressed on."""
    flash(message, "error")
    return back_to(note)


@bp.post("/notes/preview")
@login_required
def preview():
    """Render the editor's `content` as the note page would, its boxes as marks; nothing is
    saved (a POST only to carry a text as long as a note's)."""
    content = request.form.get("content", "")
    if len(content) > CONTENT_MAX_LENGTH:
        abort(400)
    spend_preview(current_user.id)
    return render_template("notes/_preview.html", content=content)
