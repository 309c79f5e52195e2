"""The note page's reminder form: a quick choice or a date and time, and a repeat."""

import re
from datetime import datetime, time, timedelta

from flask_babel import lazy_gettext as _l
from wtforms import BooleanField, RadioField, SelectChoice, SelectField, StringField
from wtforms.validators import InputRequired, Length, ValidationError
from wtforms.widgets import DateTimeLocalInput

from app.features.notes.schedule import REPEATS
from app.forms import Form
from app.models.push import ENDPOINT_MAX_LENGTH
from app.validators import no_control_characters

AT_FORMAT = "%Y-%m-%dT%H:%M"
AT_PATTERN = re.compile(r"\d{4}-\d{2}-\d{2}T\d{2}:\d{2}\Z", re.ASCII)
EVENING, MORNING = time(18, 0), time(9, 0)
CUSTOM = "custom"
NO_SUBSCRIPTION = _l("The browser sent no push subscription: reload the page and try again.")
REPEAT_LABELS = {
    "none": _l("Does not repeat"),
    "daily": _l("Every day"),
    "weekdays": _l("Every weekday (Monday to Friday)"),
    "weekly": _l("Every week"),
    "monthly": _l("Every month"),
    "yearly": _l("Every year"),
}


def quick_times(local_now):
    """Return the quick choices for a reader whose clock shows `local_now` (naive): this
    evening (while it is before 18:00), tomorrow morning, next week (Monday morning)."""
    today = local_now.date()
    choices = []
    if local_now.time() < EVENING:
        choices.append(("evening", datetime.combine(today, EVENING)))
    choices.append(("morning", datetime.combine(today + timedelta(days=1), MORNING)))
    monday = today + timedelta(days=7 - today.weekday())
    choices.append(("next_week", datetime.combine(monday, MORNING)))
    return choices


def parse_at(value):
    """Return the naive wall-clock time `value` (YYYY-MM-DDTHH:MM) names, or None."""
    try:
        return datetime.strptime(value, AT_FORMAT)
    except (TypeError, ValueError):
        return None


class ReminderForm(Form):
    """When (a quick choice, or `at`: the reader's own clock), how it repeats, and whether
    the mail may name the note."""

    when = RadioField(_l("When"), choices=[], validate_choice=False, default=CUSTOM)
    at = StringField(
        _l("Date and time"),
        widget=DateTimeLocalInput(),
    )
    repeat = SelectField(
        _l("Repeat"),
        choices=[SelectChoice(name, REPEAT_LABELS[name]) for name in REPEATS],
        default="none",
    )
    private = BooleanField(
        _l("Leave the note's title out of the reminder mail and the device notifications")
    )

    def validate_at(self, field):
        if self.when.data in (None, "", CUSTOM):
            if not field.data:
                raise ValidationError(_l("Choose a date and time."))
            if not AT_PATTERN.match(field.data):
                raise ValidationError(_l("Write the date and time as 2026-12-31T09:00."))
            if parse_at(field.data) is None:
                raise ValidationError(_l("Choose a date and time that exist."))

    def validate_when(self, field):
        if field.data not in (None, "", CUSTOM, "evening", "morning", "next_week"):
            raise ValidationError(_l("Choose one of the times offered."))

    def starts_at(self, local_now):
        """Return the wall-clock time asked for (validated), or None for a quick choice that
        is no longer offered (this evening, after 18:00)."""
        if self.when.data in (None, "", CUSTOM):
            return parse_at(self.at.data)
        return dict(quick_times(local_now)).get(self.when.data)


class PushSubscriptionForm(Form):
    """What the browser's PushManager made: the push service's address and the browser's
    keys (app/features/reminders/subscriptions.py checks them)."""

    endpoint = StringField(validators=[InputRequired(NO_SUBSCRIPTION)])
    p256dh = StringField(validators=[InputRequired(NO_SUBSCRIPTION)])
    auth = StringField(validators=[InputRequired(NO_SUBSCRIPTION)])


class PushEndpointForm(Form):
    """One browser's push service address, to stop pushing to it."""

    endpoint = StringField(
        validators=[
            InputRequired(NO_SUBSCRIPTION),
            Length(max=ENDPOINT_MAX_LENGTH, message=NO_SUBSCRIPTION),
            no_control_characters,
        ]
    )
