"""The forms of the webhooks page: a new webhook (its address, events, tag) and a new feed."""

from flask_babel import lazy_gettext as _l
from wtforms import PasswordField, SelectChoice, SelectMultipleField, StringField
from wtforms.validators import ValidationError
from wtforms.widgets import CheckboxInput, ListWidget

from app.features.webhooks import service
from app.forms import Form
from app.models import WEBHOOK_EVENTS, WEBHOOK_URL_MAX_LENGTH
from app.tags import TAG_MAX_LENGTH
from app.validators import PASSWORD_GIVEN, strip

EVENT_LABELS = {
    "note.created": _l("A note is made"),
    "note.updated": _l("A note is changed"),
    "note.trashed": _l("A note goes to the trash"),
    "note.restored": _l("A note comes back from the trash"),
    "note.deleted": _l("A note is deleted for good"),
    "reminder.fired": _l("A reminder goes off"),
}


class EventLabel:
    """An event's label, read in the reader's language when shown (not at import)."""

    def __init__(self, name):
        self.name = name

    def __str__(self):
        return f"{EVENT_LABELS[self.name]} ({self.name})"


class Checkboxes(SelectMultipleField):
    """Several choices, each a checkbox of a list."""

    widget = ListWidget(prefix_label=False)
    option_widget = CheckboxInput()


def check_with(rule, field):
    """Run a service rule on a field; its refusal becomes the field's error."""
    try:
        field.data = rule(field.data)
    except service.WebhookRefused as refused:
        raise ValidationError(str(refused)) from None


def password_field():
    """Return the password field of a form that makes a grant: asked when this session has
    not confirmed the password in the last 10 minutes (app/features/grants/ceremony.py)."""
    return PasswordField(
        _l("Your password (asked when not entered in the last 10 minutes)"),
        validators=[PASSWORD_GIVEN],
        render_kw={"autocomplete": "current-password"},
    )


class WebhookForm(Form):
    """A new webhook: where to send, which events, and an optional tag."""

    url = StringField(
        _l("Address to send to (https://…)"),
        filters=[strip],
        render_kw={
            "maxlength": WEBHOOK_URL_MAX_LENGTH,
            "autocomplete": "off",
            "inputmode": "url",
            "spellcheck": "false",
        },
    )
    events = Checkboxes(
        _l("Events"),
        choices=[SelectChoice(name, EventLabel(name)) for name in WEBHOOK_EVENTS],
        default=list(WEBHOOK_EVENTS),
        validate_choice=False,
    )
    tag = StringField(
        _l("Only notes with this tag (optional)"),
        filters=[strip],
        render_kw={"maxlength": TAG_MAX_LENGTH + 1, "autocomplete": "off"},
    )
    password = password_field()

    def validate_url(self, field):
        check_with(service.checked_url, field)

    def validate_events(self, field):
        check_with(service.checked_events, field)

    def validate_tag(self, field):
        check_with(service.checked_tag, field)


class FeedForm(Form):
    """A new private feed: of every note, or of one tag's."""

    tag = StringField(
        _l("Only notes with this tag (optional)"),
        filters=[strip],
        render_kw={"maxlength": TAG_MAX_LENGTH + 1, "autocomplete": "off"},
    )
    password = password_field()

    def validate_tag(self, field):
        check_with(service.checked_tag, field)
