"""Forms for signing up and signing in."""

from flask_babel import lazy_gettext as _l
from wtforms import BooleanField, EmailField, HiddenField, PasswordField, StringField
from wtforms.validators import DataRequired, EqualTo, InputRequired, Length, ValidationError

from app.forms import Form
from app.models import EMAIL_MAX_LENGTH, User
from app.validators import (
    NICKNAME_RULES,
    PASSWORD_GIVEN,
    PASSWORD_RULES,
    deliverable_email,
    no_control_characters,
    strip,
    valid_email,
)

NICKNAME_TAKEN = _l("This nickname is taken.")


class SignupForm(Form):
    """A new account: email, nickname and a confirmed password (and the browser's time zone)."""

    email = EmailField(
        _l("Email"),
        filters=[strip],
        validators=[
            DataRequired(_l("Enter your email address.")),
            Length(max=EMAIL_MAX_LENGTH),
            valid_email,
            deliverable_email,
        ],
    )
    nickname = StringField(
        _l("Nickname"),
        filters=[strip],
        validators=[DataRequired(_l("Choose a nickname.")), *NICKNAME_RULES],
    )
    password = PasswordField(
        _l("Password"),
        validators=[
            InputRequired(_l("Choose a password.")),
            *PASSWORD_RULES,
            no_control_characters,
        ],
    )
    password_confirm = PasswordField(
        _l("Confirm password"),
        validators=[
            InputRequired(_l("Repeat the password.")),
            EqualTo("password", _l("Passwords differ.")),
        ],
    )
    # Filled by static/timezone.js; empty without JavaScript, and anything that is not a zone
    # name is taken as empty: the person never saw this field (see time_zone_of).
    timezone = HiddenField(render_kw={"data-browser-time-zone": ""})

    # Whether the email has an account is never said (see auth.routes.signup); a nickname is
    # public. Only a well-formed one is looked up: a NUL, say, cannot be sent to PostgreSQL.
    def validate_nickname(self, field):
        if not field.errors and User.nickname_taken(field.data):
            raise ValidationError(NICKNAME_TAKEN)


class LoginForm(Form):
    """Email and password, with an optional remember-me."""

    email = EmailField(
        _l("Email"),
        filters=[strip],
        validators=[
            DataRequired(_l("Enter your email.")),
            Length(max=EMAIL_MAX_LENGTH),
            no_control_characters,
        ],
    )
    password = PasswordField(
        _l("Password"), validators=[InputRequired(_l("Enter your password.")), PASSWORD_GIVEN]
    )
    remember = BooleanField(_l("Remember me"))


class ResetRequestForm(Form):
    """The address of the account whose password is forgotten."""

    email = EmailField(
        _l("Email"),
        filters=[strip],
        validators=[
            DataRequired(_l("Enter your email.")),
            Length(max=EMAIL_MAX_LENGTH),
            no_control_characters,
        ],
    )


class ResetPasswordForm(Form):
    """A new password, confirmed (my page's password form adds the current one to it)."""

    new_password = PasswordField(
        _l("New password"),
        validators=[
            InputRequired(_l("Choose a new password.")),
            *PASSWORD_RULES,
            no_control_characters,
        ],
    )
    new_password_confirm = PasswordField(
        _l("Repeat the new password"),
        validators=[
            InputRequired(_l("Repeat the new password.")),
            EqualTo("new_password", _l("Passwords differ.")),
        ],
    )


class ConfirmForm(Form):
    """A button that confirms a mailed link: opening the link alone changes nothing."""
