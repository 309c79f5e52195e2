"""The forms of passkeys: add one (a name and the password, then the browser's new passkey),
rename one, remove one, and the browser's answer when signing in with one."""

from flask_babel import lazy_gettext as _l
from wtforms import BooleanField, HiddenField, StringField
from wtforms.validators import DataRequired, InputRequired, Length

from app.forms import Form
from app.two_step.forms import password_field
from app.validators import no_control_characters, one_line, strip

NAME_MAX_LENGTH = 60
# The browser's answer (JSON): a credential id of at most 1023 bytes, a public key, the
# client data and an attestation of format "none" fit in a few kilobytes.
ANSWER_MAX_LENGTH = 16_384
NO_ANSWER = _l("Your browser sent no passkey. Try again.")


def name_field():
    """Return the field of a passkey's name."""
    return StringField(
        _l("Name of the passkey"),
        filters=[strip],
        validators=[
            DataRequired(_l("Give the passkey a name, such as the device it is on.")),
            Length(max=NAME_MAX_LENGTH),
            no_control_characters,
            one_line,
        ],
        render_kw={"autocomplete": "off", "maxlength": NAME_MAX_LENGTH},
    )


def answer_field():
    """Return the hidden field that carries the browser's answer to a ceremony."""
    return HiddenField(validators=[InputRequired(NO_ANSWER), Length(max=ANSWER_MAX_LENGTH)])


class PasskeyOptionsForm(Form):
    """A name and the password, before the browser is asked to make a passkey."""

    name = name_field()
    password = password_field(_l("Enter your password."))


class AddPasskeyForm(Form):
    """The name and the password again, and the browser's new passkey: the password is
    checked at both steps, so a copy of the session cookie taken between them (which holds
    the ceremony's challenge) adds nothing without it."""

    name = name_field()
    password = password_field(_l("Enter your password."))
    answer = answer_field()


class RenamePasskeyForm(Form):
    """A new name for a passkey."""

    name = name_field()


class RemovePasskeyForm(Form):
    """Removing a passkey: the button, with its CSRF token."""


class PasskeyAnswerForm(Form):
    """The browser's answer when signing in with a passkey, and where to go next."""

    answer = answer_field()
    next = HiddenField()
    remember = BooleanField()
