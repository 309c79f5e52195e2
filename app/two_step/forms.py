"""The forms of two-step sign-in: set the app up, confirm with the password, enter a code."""

from flask_babel import lazy_gettext as _l
from wtforms import HiddenField, PasswordField, StringField
from wtforms.validators import InputRequired, Length

from app.forms import Form
from app.mypage.forms import is_own_password
from app.validators import PASSWORD_GIVEN, no_control_characters

# The code field as phones and password managers understand it: a one-time code, digits.
CODE_FIELD = {"autocomplete": "one-time-code", "inputmode": "numeric", "spellcheck": "false"}
CODE_MAX_LENGTH = 64  # longer than a recovery code written with spaces


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
    # The new secret, encrypted and signed for this account (app/two_step/totp.py).
    setup = HiddenField()


class PasswordConfirmForm(Form):
    """The password, to turn the app off or make new recovery codes."""

    password = password_field(_l("Enter your password."))


class CodeForm(Form):
    """A code from the authenticator app, or a recovery code."""

    code = code_field(_l("Code"), _l("Enter a code."))


class LostForm(Form):
    """Asking to turn the second step off after the wait: the button, with its CSRF token."""
