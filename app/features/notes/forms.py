"""The note form."""

import re

from flask_babel import lazy_gettext as _l
from wtforms import HiddenField, IntegerField, StringField, TextAreaField
from wtforms.validators import DataRequired, Length, Optional
from wtforms.widgets import HiddenInput

from app.forms import Form
from app.models import CONTENT_MAX_LENGTH, TITLE_MAX_LENGTH
from app.validators import no_control_characters, strip

# The outbox's keys are UUIDs; anything else a form might carry is no key at all.
IDEMPOTENCY_KEY = re.compile(r"[0-9A-Za-z-]{1,64}")


def usable_key(value):
    """Return the idempotency key a form sent, or None for one that is missing or malformed."""
    return value if isinstance(value, str) and IDEMPOTENCY_KEY.fullmatch(value) else None


class NoteForm(Form):
    """A note's title and content, within the lengths the database allows."""

    title = StringField(
        _l("Title"),
        filters=[strip],
        validators=[
            DataRequired(_l("Give the note a title.")),
            Length(
                max=TITLE_MAX_LENGTH,
                message=_l(
                    "Title must be at most %(limit)s characters.", limit=f"{TITLE_MAX_LENGTH:,}"
                ),
            ),
            no_control_characters,
        ],
    )
    content = TextAreaField(
        _l("Content"),
        filters=[lambda value: value or ""],
        validators=[
            Length(
                max=CONTENT_MAX_LENGTH,
                message=_l(
                    "Content must be at most %(limit)s characters.", limit=f"{CONTENT_MAX_LENGTH:,}"
                ),
            ),
            no_control_characters,
        ],
    )
    # Sent by the outbox (app/static/drafts.js): the same key makes one note
    # (app/features/notes/idempotency.py).
    idempotency_key = HiddenField(filters=[usable_key])


class EditForm(NoteForm):
    """A note's edit: its text, and the version of the note the form was filled from."""

    version = IntegerField(widget=HiddenInput(), validators=[Optional()])


class ResolveForm(EditForm):
    """The choice after a conflicting save: keep mine, keep theirs, or keep both."""

    choice = HiddenField(validators=[DataRequired()])
    # The version the edit started from: a conflict is one only when the note moved past it.
    base = IntegerField(widget=HiddenInput(), validators=[Optional()])
