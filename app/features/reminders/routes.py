"""The reminder pages: remove on the note page (set: app/features/note_page/reminder.py), the
due view, a mail's done and snooze page (its buttons POST), and the browsers reminders are
pushed to (the note page's script subscribes this browser; a form ends every one)."""

from flask import (
    Blueprint,
    abort,
    current_app,
    flash,
    jsonify,
    redirect,
    render_template,
    request,
    url_for,
)
from flask_babel import gettext, ngettext
from flask_login import current_user, login_required
from sqlalchemy import select

from app.extensions import db
from app.features.notes import reminders as service
from app.features.notes import service as notes
from app.features.notes.lookup import get_note
from app.features.reminders import links, subscriptions
from app.features.reminders.forms import PushEndpointForm, PushSubscriptionForm
from app.models import Note, PushSubscription, ReminderOccurrence, User, utcnow
from app.validators import is_same_site_path

bp = Blueprint("reminders", __name__)

DUE_SHOWN = 100  # the due view lists the newest this many


@bp.post("/notes/<id:note_id>/reminder/delete")
@login_required
def remove_reminder(note_id):
    """Remove the note's reminder: nothing more is sent for it."""
    note = get_note(note_id)
    with notes.touching(current_user.id, note, "reminder"):
        service.change(note, None)
    db.session.commit()
    flash(gettext("Reminder removed."), "info")
    return redirect(url_for("notes.detail", note_id=note.id))


@bp.get("/reminders")
@login_required
def due():
    """List the reminders that fired and are not done, the newest first."""
    rows = db.session.execute(
        select(ReminderOccurrence, Note.title)
        .join(Note, Note.id == ReminderOccurrence.note_id)
        .where(
            ReminderOccurrence.user_id == current_user.id,
            ReminderOccurrence.done_at.is_(None),
            ReminderOccurrence.outcome != "void",
            Note.deleted_at.is_(None),
        )
        .order_by(ReminderOccurrence.due_at.desc(), ReminderOccurrence.id.desc())
        .limit(DUE_SHOWN)
    ).all()
    return render_template("reminders/due.html", rows=rows)


@bp.post("/reminders/<id:occurrence_id>/done")
@login_required
def done(occurrence_id):
    """Mark a fired reminder done: it leaves the due view."""
    occurrence = db.session.scalar(
        select(ReminderOccurrence).where(
            ReminderOccurrence.id == occurrence_id,
            ReminderOccurrence.user_id == current_user.id,
        )
    )
    if occurrence is None:
        abort(404)
    occurrence.done_at = occurrence.done_at or utcnow()
    db.session.commit()
    flash(gettext("Marked done."), "success")
    return redirect(url_for("reminders.due"))


def occurrence_for(token, lock):
    """Return the occurrence a mailed link names (locked with `lock`), or abort 400 (a
    forged, altered or expired link, as the other mailed links answer)."""
    carried = links.occurrence_in(token)
    occurrence = None
    if carried is not None:
        occurrence_id, stamp = carried
        statement = select(ReminderOccurrence).where(ReminderOccurrence.id == occurrence_id)
        occurrence = db.session.scalar(statement.with_for_update() if lock else statement)
        owner = db.session.get(User, occurrence.user_id) if occurrence is not None else None
        if owner is not None and links.proofs_stamp(owner) != stamp:
            occurrence = None  # mailed before the account's sign-in changed (a recovery)
    if occurrence is None or occurrence.note.deleted_at is not None:
        abort(400, gettext("This reminder link is not valid any more."))
    return occurrence


@bp.route("/reminders/act/<secret:token>", methods=["GET", "POST"])
def act(token):
    """A mail's link: GET shows the buttons and changes nothing; a button POSTs done or
    snooze. Done is done once; an occurrence snoozes once."""
    occurrence = occurrence_for(token, lock=request.method == "POST")
    if request.method != "POST":  # GET, and HEAD, which answers what GET would
        return render_template("reminders/act.html", occurrence=occurrence, token=token)
    action = request.form.get("action")
    if action == "done":
        message = act_done(occurrence)
    elif action == "snooze":
        message = act_snooze(occurrence)
    else:
        abort(400)
    db.session.commit()
    return render_template("reminders/act.html", occurrence=occurrence, token=token, said=message)


def act_done(occurrence):
    """Mark the occurrence done (once); return what to say."""
    if occurrence.done_at is not None:
        return gettext("This reminder was already marked done.")
    occurrence.done_at = utcnow()
    return gettext("Marked done.")


def act_snooze(occurrence):
    """Fire the reminder again in REMINDER_SNOOZE, once per occurrence; return what to say."""
    if occurrence.snoozed_at is not None or occurrence.done_at is not None:
        return gettext("This reminder was already snoozed or done: nothing changed.")
    moment = utcnow()
    until = (moment + current_app.config["REMINDER_SNOOZE"]).replace(second=0, microsecond=0)
    occurrence.snoozed_at = moment
    occurrence.done_at = moment  # it comes back as a new occurrence
    with notes.touching(occurrence.user_id, occurrence.note, "reminder", counted=False):
        service.snooze(occurrence.note, occurrence.reminder, until)
    return gettext("Snoozed: it reminds you again in an hour.")


def push_answer(message, status=200):
    """Answer the page's script: what to say, and how many browsers get the reminders."""
    browsers = PushSubscription.count_of(current_user.id)
    return jsonify({"message": message, "browsers": browsers, "status": status}), status


def refused(message):
    """Answer the page's script with why nothing was kept: 400, as every error's JSON."""
    return jsonify({"error": message, "status": 400}), 400


@bp.post("/reminders/push")
@login_required
def push_subscribe():
    """Keep this browser's push subscription: the account's reminders are pushed to it too."""
    if not subscriptions.push_offered():
        abort(404)
    form = PushSubscriptionForm()
    if not form.validate_on_submit():
        return refused(next(iter(form.errors.values()))[0])
    user = current_user._get_current_object()
    try:
        subscriptions.subscribe(user, form.endpoint.data, form.p256dh.data, form.auth.data)
    except subscriptions.SubscriptionRefused as refusal:
        db.session.rollback()
        return refused(str(refusal))
    db.session.commit()
    return push_answer(gettext("Reminders now also come as a notification on this device."), 201)


@bp.post("/reminders/push/delete")
@login_required
def push_unsubscribe():
    """Stop pushing the account's reminders to this browser (named by its endpoint)."""
    form = PushEndpointForm()
    if not form.validate_on_submit():
        return refused(next(iter(form.errors.values()))[0])
    subscriptions.unsubscribe(current_user.id, form.endpoint.data)
    db.session.commit()
    said = gettext("Notifications on this device are off. Reminders still come by mail.")
    return push_answer(said)


@bp.post("/reminders/push/delete-all")
@login_required
def push_unsubscribe_all():
    """Stop pushing the account's reminders to every browser (a lost phone's too)."""
    ended = subscriptions.unsubscribe_all(current_user.id)
    db.session.commit()
    flash(
        ngettext(
            "Notifications are off on %(num)d device. Reminders still come by mail.",
            "Notifications are off on %(num)d devices. Reminders still come by mail.",
            ended,
        ),
        "info",
    )
    target = request.form.get("next", "")
    return redirect(target if is_same_site_path(target) else url_for("reminders.due"))
