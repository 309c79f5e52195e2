"""What the note page's reminder section shows."""

from datetime import UTC, datetime

from flask import current_app
from flask_babel import get_locale, gettext

from app.i18n.choice import place_of, select_timezone
from app.i18n.formats import local_time_writer
from app.models import PushSubscription
from app.reminders import schedule
from app.reminders.forms import REPEAT_LABELS, ReminderForm, quick_times
from app.reminders.service import reminder_of
from app.reminders.subscriptions import push_offered


def quick_labels():
    """Return the quick choices as (value, label) for the reader, now."""
    zone = select_timezone()
    local_now = schedule.wall_clock(datetime.now(UTC), zone)
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


def reminder_panel(note, form=None):
    """Return the reminder section of `note`'s page: its reminder, the form, the choices."""
    reminder = reminder_of(note.id)
    if form is None:
        form = ReminderForm(formdata=None)
        if reminder is not None:
            form.at.data = reminder.starts_at.strftime("%Y-%m-%dT%H:%M")
            form.repeat.data, form.private.data = reminder.repeat, reminder.private
    return {
        "reminder": reminder,
        "repeat": REPEAT_LABELS[reminder.repeat] if reminder else None,
        "form": form,
        "quick": quick_labels(),
        "zone": place_of(select_timezone(), get_locale()),
        "push": push_panel(note.user_id),
    }


def push_panel(user_id):
    """Return what the push control needs (the VAPID public key, the browsers subscribed),
    or None when Web Push is not set up: then mail is the only way, and nothing is offered."""
    if not push_offered():
        return None
    return {
        "key": current_app.config["VAPID"]["public_key"],
        "browsers": PushSubscription.count_of(user_id),
    }
