"""What another app shares into Memo (the manifest's share_target): text, links and files.

The service worker (templates/offline/sw.js) takes the share sheet's POST in the browser and
keeps the files there; the share's page (static/share-target.js) then saves the note here
and sends each file straight to the store by the attachments' signed uploads: no file passes
through Memo. Everything a file can be refused for is checked before the note is written;
a share whose files then never arrive, with no text of its own, leaves no note behind once
the person leaves the files out (`discard`).
"""

import base64
import binascii

from flask import abort, current_app, flash, jsonify, redirect, render_template, request, url_for
from flask_babel import gettext
from flask_babel import lazy_gettext as _l
from flask_login import current_user, login_required

from app.extensions import csrf, db
from app.features.attachments.batches import Announced, start_uploads
from app.features.attachments.naming import SNIFF_BYTES
from app.features.attachments.uploads import UploadRefused
from app.features.notes import service
from app.features.notes.forms import NoteForm
from app.features.notes.idempotency import create_once, made_by
from app.features.notes.quota import QuotaFull
from app.features.notes.routes import bp
from app.models import BIGINT_MAX
from app.offline.sharing import prefill_link, read_sheet

# A file a page names is at most this long (the cleaned name keeps 255 characters).
ANNOUNCED_NAME_LENGTH = 4096


@bp.post("/notes/shared")
@csrf.exempt
def shared_without_worker():
    """The share sheet's POST when no service worker took it: on to the new-note form.

    Another app sends it, so it carries no CSRF token, and it writes nothing: its files are
    dropped unread (the form says they did not come), its text goes on in the link.
    """
    return redirect(prefill_link(url_for("notes.create"), read_sheet(request)), 303)


@bp.get("/notes/shared/<uuid:share>")
@login_required
def shared(share):
    """Show a share's page: what was shared is in this browser, which fills it in."""
    return render_template(
        "notes/shared.html",
        form=NoteForm(),
        share=share,
        per_note=current_app.config["ATTACHMENTS_PER_NOTE"],
        max_bytes=current_app.config["ATTACHMENT_MAX_BYTES"],
    )


def refused(message, status=400, retry_after=None):
    """Answer the share's script: nothing was written, and why."""
    headers = {"Retry-After": str(retry_after)} if retry_after else {}
    return jsonify(error=message, status=status), status, headers


NOT_DESCRIBED = _l("The shared files were not described properly. Share them again.")


def announced_files(form):
    """Return the files the page says it will send (name, size, first bytes), or abort 400."""
    names, sizes, heads = (form.getlist(f"file_{part}") for part in ("name", "size", "head"))
    if not len(names) == len(sizes) == len(heads):
        abort(400, str(NOT_DESCRIBED))
    per_note = current_app.config["ATTACHMENTS_PER_NOTE"]
    if len(names) > per_note:
        message = "A note holds at most %(count)s attachments: leave some files out."
        abort(400, gettext(message, count=per_note))
    return [announced(*fields) for fields in zip(names, sizes, heads, strict=True)]


def announced(name, size, head):
    """Return one announced file, or abort 400 for a size or first bytes that are none."""
    try:
        first = base64.b64decode(head, validate=True)
    except (binascii.Error, ValueError):
        first = None
    sane = size.isascii() and size.isdigit() and len(size) <= 19 and int(size) <= BIGINT_MAX
    if not sane or first is None or len(first) > SNIFF_BYTES:
        abort(400, str(NOT_DESCRIBED))
    return Announced(name[:ANNOUNCED_NAME_LENGTH], int(size), first)


@bp.post("/notes/shared/<uuid:share>")
@login_required
def save_shared(share):
    """Save a share's note and start one upload for each of its files, all checked first
    (nothing is written when any is refused); answer the share's script in JSON."""
    form = NoteForm()
    if not form.validate_on_submit():
        return refused(" ".join(m for errors in form.errors.values() for m in errors))
    files = announced_files(request.form)
    earlier = made_by(current_user.id, str(share))
    if earlier is not None:  # its answer was lost: the script sends the files it still has
        return jsonify(note=url_for("notes.detail", note_id=earlier.id), uploads=[], again=True)
    try:
        note = create_once(current_user.id, form.title.data, form.content.data, str(share))
        uploads = start_uploads(note, files)
    except QuotaFull as full:
        db.session.rollback()
        return refused(str(full))
    except UploadRefused as refusal:
        db.session.rollback()
        return refused(str(refusal), refusal.status, refusal.retry_after)
    db.session.commit()
    flash(gettext("Note saved."), "success")
    return jsonify(note=url_for("notes.detail", note_id=note.id), uploads=uploads, again=False)


@bp.post("/notes/shared/<uuid:share>/discard")
@login_required
def discard_shared(share):
    """The person leaves a share's files out: the note it made goes too if it holds nothing
    else (no text, no file arrived, never changed). Answer where to go next, in JSON."""
    note = made_by(current_user.id, str(share))
    if note is None:
        return jsonify(deleted=False, next=url_for("notes.index"))
    if service.delete_if_untouched(current_user.id, note):
        db.session.commit()
        flash(gettext("Nothing of the share arrived, so no note was kept."), "info")
        return jsonify(deleted=True, next=url_for("notes.index"))
    db.session.rollback()
    return jsonify(deleted=False, next=url_for("notes.detail", note_id=note.id))
