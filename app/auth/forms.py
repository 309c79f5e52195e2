"""Forms for signing up and signing in."""

from wtforms import BooleanField, EmailField, PasswordField, StringField
from wtforms.validators import DataRequired, EqualTo, InputRequired, Length, ValidationError

from app.forms import Form
from app.models import EMAIL_MAX_LENGTH, User
from app.validators import (
    NICKNAME_RULES,
    PASSWORD_GIVEN,
    PASSWORD_RULES,
    no_control_characters,
    strip,
    valid_email,
)

NICKNAME_TAKEN = "This nickname is taken."


class SignupForm(Form):
    """A new account: email, nickname and a confirmed password."""

    email = EmailField(
        "Email",
        filters=[strip],
        validators=[
            DataRequired("Enter your email address."),
            Length(max=EMAIL_MAX_LENGTH),
            valid_email,
        ],
    )
    nickname = StringField(
        "Nickname",
        filters=[strip],
        validators=[DataRequired("Choose a nickname."), *NICKNAME_RULES],
    )
    password = PasswordField(
        "Password",
        validators=[InputRequired("Choose a password."), *PASSWORD_RULES, no_control_characters],
    )
    password_confirm = PasswordField(
        "Confirm password",
        validators=[
            InputRequired("Repeat the password."),
            EqualTo("password", "Passwords differ."),
        ],
    )

    # Whether the email has an account is never said (see auth.routes.signup); a nickname is
    # public. Only a well-formed one is looked up: a NUL, say, cannot be sent to PostgreSQL.
    def validate_nickname(self, field):
        if not field.errors and User.nickname_taken(field.data):
            raise ValidationError(NICKNAME_TAKEN)


class LoginForm(Form):
    """Email and password, with an optional remember-me."""

    email = EmailField(
        "Email",
        filters=[strip],
        validators=[
            DataRequired("Enter your email."),
            Length(max=EMAIL_MAX_LENGTH),
            no_control_characters,
        ],
    )
    password = PasswordField(
        "Password", validators=[InputRequired("Enter your password."), PASSWORD_GIVEN]
    )
    remember = BooleanField("Remember me")
