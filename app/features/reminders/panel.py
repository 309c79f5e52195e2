"""What the note page's reminder section shows."""

from datetime import UTC, datetime, time, timedelta

from flask import current_app, get_template_attribute
from flask_babel import get_locale, gettext

from app.features.notes import schedule
from app.features.notes.reminders import reminder_of
from app.features.reminders.forms import EVENING, REPEAT_LABELS, ReminderForm, quick_times
from app.features.reminders.subscriptions import push_offered
from app.i18n.choice import place_of, select_timezone
from app.i18n.formats import local_time_writer
from app.models import PushSubscription
from app.revalidation import fresh_until

MIDNIGHT = time(0, 0)
UNREAD = object()  # reminder_panel() reads the note's reminder (or push state) itself
FIELDS = ("at", "repeat", "private")  # printed by _form.html's field(), kept made
FIELDS_KEPT = 1024  # the fields kept made, each a language and a value: a few KiB
kept_fields = {}


def field_html(field):
    """Return `field` as _form.html's field() prints it, made once per language and value
    (wtforms writes each through its widget and its lazily translated words: about a tenth
    of a note page's instructions); a field with errors is made each time, and every field in
    a debug run, which reloads templates as they change."""
    if field.errors or current_app.debug:
        return get_template_attribute("_form.html", "field")(field)
    key = (str(get_locale()), field.name, field.data)
    html = kept_fields.get(key)
    if html is None:
        if len(kept_fields) >= FIELDS_KEPT:
            kept_fields.clear()
        html = kept_fields[key] = get_template_attribute("_form.html", "field")(field)
    return html


def quick_labels(local_now, zone):
    """Return the quick choices as (value, label) for a reader whose clock shows `local_now`."""
    write = local_time_writer()
    names = {
        "evening": gettext("This evening"),
        "morning": gettext("Tomorrow morning"),
        "next_week": gettext("Next week"),
    }
    return [
        (value, f"{names[value]} · {write(schedule.in_utc(moment, zone))}")
        for value, moment in quick_times(local_now)
    ]


def choices_change_at(local_now, zone):
    """Return when the quick choices change on the reader's clock: at six in the evening
    while it is before ("This evening" goes), else at midnight (the days move on)."""
    today = local_now.date()
    if local_now.time() < EVENING:
        return schedule.in_utc(datetime.combine(today, EVENING), zone)
    return schedule.in_utc(datetime.combine(today + timedelta(days=1), MIDNIGHT), zone)


def reminder_panel(note, form=None, reminder=UNREAD, push=UNREAD):
    """Return the reminder section of `note`'s page: its reminder and the push control's
    state (each read here unless given), the form, the choices. A page showing them is fresh
    until they change."""
    if reminder is UNREAD:
        reminder = reminder_of(note.id)
    if form is None:
        form = ReminderForm(formdata=None)
        if reminder is not None:
            form.at.data = reminder.starts_at.strftime("%Y-%m-%dT%H:%M")
            form.repeat.data, form.private.data = reminder.repeat, reminder.private
    zone = select_timezone()
    local_now = schedule.wall_clock(datetime.now(UTC), zone)
    fresh_until(choices_change_at(local_now, zone))
    return {
        "reminder": reminder,
        "repeat": REPEAT_LABELS[reminder.repeat] if reminder else None,
        "form": form,
        "fields": {name: field_html(form[name]) for name in FIELDS},
        "quick": quick_labels(local_now, zone),
        "zone": place_of(zone, get_locale()),
        # The clock the reminder keeps (the account's zone when it was set, not moved since).
        "reminder_zone": place_of(reminder.time_zone, get_locale()) if reminder else None,
        "push": push_panel(note.user_id) if push is UNREAD else push,
    }


def push_panel(user_id, browsers=UNREAD):
    """Return what the push control needs (the VAPID public key, the number of `browsers`
    subscribed, read here unless given), or None when Web Push is not set up: then mail is
    the only way, and nothing is offered."""
    if not push_offered():
        return None
    if browsers is UNREAD:
        browsers = PushSubscription.count_of(user_id)
    return {"key": current_app.config["VAPID"]["public_key"], "browsers": browsers}


def reminder_shown(reminder):
    """Return what the section shows of a reminder that a change can change (the note
    page's tag, app/revalidation.py): its times, its rule and its privacy; None for none."""
    if reminder is None:
        return None
    return (
        reminder.id,
        reminder.starts_at,
        reminder.time_zone,
        reminder.repeat,
        reminder.private,
        reminder.due_at,
    )
