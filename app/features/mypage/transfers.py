"""My page's export and import: the archive of the whole account written by a worker, and
a file read into notes (sent to the store by the page, or through the web by a script)."""

from flask import abort, flash, redirect, render_template, request, url_for
from flask_babel import gettext
from flask_login import current_user, login_required

from app import objects
from app.errors import wants_json
from app.features.mypage import export, import_uploads, tasks
from app.features.mypage.forms import ImportConfirmForm, ImportForm
from app.features.mypage.routes import bp, keep_hours, render_page
from app.models import AccountExport


@bp.get("/export")
@login_required
def export_status():
    """Show the latest export's state and, once it is written, a link to its archive."""
    latest = AccountExport.latest(current_user.id)
    if wants_json():  # the page follows a running export with this
        if latest is None:
            abort(404)
        return {"status": latest.status, "finished": latest.finished, "reload": True}
    return render_template("mypage/export.html", export=latest, keep_hours=keep_hours())


@bp.post("/export")
@login_required
def start_export():
    """Queue an export of the whole account; a worker writes the archive."""
    _, new = tasks.start_export(current_user.id)
    if new:
        flash(
            gettext("Your export is being prepared; this page shows when it is ready."), "success"
        )
    else:
        flash(gettext("Your export is already being prepared."), "info")
    return redirect(url_for("mypage.export_status"))


def import_started(started):
    """Say on my page that the import started (or was already under way), and go there."""
    if started:
        flash(gettext("Your import has started; this page shows how it went."), "success")
    else:
        flash(gettext("An import is already under way; this page shows how it goes."), "info")
    return redirect(url_for("mypage.index"))


@bp.post("/import")
@login_required
def start_import():
    """Take a small archive or text file sent through the web (what scripts use; my page
    sends the file to the store instead); a worker reads it into notes."""
    form = ImportForm()
    if not form.validate_on_submit():
        return render_page(400, import_form=form)
    upload = form.archive.data
    name = (upload.filename or "upload")[-255:]
    # A store that is down is answered by the app's StorageError page (app/errors.py).
    key = objects.import_key(current_user.id)
    return import_started(tasks.start_import(current_user.id, key, name, upload.read()))


@bp.get("/import/arrived")
@login_required
def import_arrived():
    """Where the store sends the browser once the file is there: writes nothing; its one
    button (pressed by a script, or by the person) starts the import."""
    form = ImportConfirmForm(formdata=None, upload=request.args.get("upload", "")[:1000])
    return render_template("mypage/import_arrived.html", form=form)


@bp.post("/import/confirm")
@login_required
def confirm_import():
    """Check the file the store holds for this upload and queue its import."""
    form = ImportConfirmForm()
    if not form.validate_on_submit():
        raise import_uploads.ImportRefused(import_uploads.NOT_STARTED)
    if import_uploads.confirm(current_user.id, form.upload.data):
        return import_started(True)
    flash(gettext("This file's import has started already; this page shows how it went."), "info")
    return redirect(url_for("mypage.index"))


@bp.get("/export/download")
@login_required
def download_export():
    """Send the browser to a short-lived link of the latest archive written."""
    done = AccountExport.latest(current_user.id, status="done")
    if done is None:
        abort(404)
    return redirect(export.download_url(done, current_user.time_zone))
