"""The forms of the second step: set the authenticator app up, confirm with the password,
enter a code; add, rename and remove a passkey, and the browser's answer when signing in
with one."""

from flask_babel import lazy_gettext as _l
from wtforms import BooleanField, HiddenField, PasswordField, StringField
from wtforms.validators import DataRequired, InputRequired, Length

from app.forms import Form, is_own_password
from app.validators import PASSWORD_GIVEN, no_control_characters, one_line, strip

# The code field as phones and password managers understand it: a one-time code, digits.
CODE_FIELD = {"autocomplete": "one-time-code", "inputmode": "numeric", "spellcheck": "false"}
CODE_MAX_LENGTH = 64  # longer than a recovery code written with spaces
NAME_MAX_LENGTH = 60
# The browser's answer (JSON): a credential id of at most 1023 bytes, a public key, the
# client data and an attestation of format "none" fit in a few kilobytes.
ANSWER_MAX_LENGTH = 16_384
NO_ANSWER = _l("Your browser sent no passkey. Try again.")


def password_field(required):
    """Return the field of the signed-in account's own password (throttled like a sign-in)."""
    return PasswordField(
        _l("Password"),
        validators=[InputRequired(required), PASSWORD_GIVEN, is_own_password],
        render_kw={"autocomplete": "current-password"},
    )


def code_field(label, required):
    """Return the field of a code of the second step (six digits, or a recovery code)."""
    return StringField(
        label,
        validators=[InputRequired(required), Length(max=CODE_MAX_LENGTH), no_control_characters],
        render_kw=CODE_FIELD,
    )


class TotpSetupForm(Form):
    """A code from the app for the new secret, and the password, to turn the app on."""

    code = code_field(_l("The 6-digit code your app shows"), _l("Enter the code your app shows."))
    password = password_field(_l("Enter your password."))
    # The new secret, encrypted and signed for this account (app/features/second_step/totp.py).
    setup = HiddenField()


class PasswordConfirmForm(Form):
    """The password, to turn the app off or make new recovery codes."""

    password = password_field(_l("Enter your password."))


class CodeForm(Form):
    """A code from the authenticator app, or a recovery code."""

    code = code_field(_l("Code"), _l("Enter a code."))


class LostForm(Form):
    """Asking to turn the second step off after the wait: the button, with its CSRF token."""


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
