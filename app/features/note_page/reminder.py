"""Setting a note's reminder on the note's page: a form with errors answers with the page."""

from datetime import UTC, datetime

from flask import flash, redirect, url_for
from flask_babel import gettext
from flask_login import current_user, login_required

from app.extensions import db
from app.features.note_page.view import with_reminder_errors
from app.features.notes import reminders as service
from app.features.notes import schedule
from app.features.notes import service as notes
from app.features.notes.lookup import get_note
from app.features.reminders.forms import ReminderForm
from app.features.reminders.routes import bp
from app.i18n.choice import select_timezone


@bp.post("/notes/<id:note_id>/reminder")
@login_required
def set_reminder(note_id):
    """Set or change the note's reminder, on the reader's own clock."""
    note = get_note(note_id)
    form = ReminderForm()
    if not form.validate_on_submit():
        return with_reminder_errors(note_id, form)
    zone = select_timezone()
    starts_at = form.starts_at(schedule.wall_clock(datetime.now(UTC), zone))
    if starts_at is None:
        form.when.errors.append(gettext("That time has passed: choose another."))
        return with_reminder_errors(note_id, form)
    wanted = service.Wanted(starts_at, zone, form.repeat.data, form.private.data)
    try:
        with notes.touching(current_user.id, note, "reminder"):
            service.change(note, wanted)
    except service.ReminderRefused as refused:
        db.session.rollback()
        form.at.errors.append(str(refused))
        return with_reminder_errors(note_id, form)
    db.session.commit()
    flash(gettext("Reminder set."), "success")
    return redirect(url_for("notes.detail", note_id=note.id))
